// The training loop shared by every objective: batches of examples (seeded order), one
// shared-prefix step program, gradient accumulation, clipping, AdamW with a cosine schedule,
// validation (loss + HR@1 by candidate ranking), best/last checkpoints, exact resume.

import { existsSync } from "node:fs";
import { appendFile } from "node:fs/promises";
import { join } from "node:path";
import { rankingMetrics, rankOf } from "../eval/ranking.js";
import { type Feed, Runtime, type Tensor } from "../graph/index.js";
import { writeFileAtomic } from "../io/atomic.js";
import type { BindOptions } from "../model/graph/params.js";
import { LanguageModel } from "../model/lm.js";
import { loraScaling } from "../model/peft.js";
import { needsReference, negativesUsed } from "../objectives/index.js";
import { batchFeeds, dropoutSeed, shuffled } from "./batches.js";
import {
  type CheckpointContents,
  type LoopState,
  loadRunState,
  saveRunCheckpoint,
} from "./checkpoint.js";
import type { TrainConfig } from "./config.js";
import { TrainingError } from "./errors.js";
import { planTrainMemory } from "./memory.js";
import { AdamW, clipGradNorm } from "./optim.js";
import { stepProgram } from "./program.js";
import { startStepProgress } from "./progress.js";
import { referenceKey, referenceLogps } from "./reference.js";
import { cosineWithWarmup } from "./schedule.js";
import {
  cloneLora,
  fileStamp,
  loadStartingPoint,
  loadTrainingData,
  prepareRunDir,
  restoreTrainable,
} from "./setup.js";
import type { TokenizedExample } from "./tokenize.js";

export { TrainingError };

export interface TrainOptions {
  /** Continue from RUN/checkpoints/last. */
  resume?: boolean;
  quiet?: boolean;
  runtime?: Runtime;
  /** Aborting stops after the current step with a checkpoint (Ctrl-C, SIGTERM). */
  signal?: AbortSignal;
  /** Stop after this many optimizer steps in this call (tests of resume), keeping the schedule. */
  stopAfter?: number;
}

export interface TrainSummary {
  runDir: string;
  objective: string;
  steps: number;
  totalSteps: number;
  examples: number;
  trainExamples: number;
  seconds: number;
  examplesPerSecond: number;
  lastLoss: number | null;
  valid: ValidationResult | null;
  bestStep: number | null;
  bestValidLoss: number | null;
  interrupted: boolean;
  checkpoints: { last: string; best: string | null };
}

export interface ValidationResult {
  step: number;
  loss: number;
  examples: number;
  hr1: number;
  hr3: number;
  hr5: number;
  ndcg5: number;
  mrr: number;
}

const isFrozenNorm = (name: string) => name.endsWith("norm.weight") || name.endsWith(".bias");

/** Trains according to `config`, writing everything under `runDir`. */
export async function train(
  config: TrainConfig,
  runDir: string,
  options: TrainOptions = {},
): Promise<TrainSummary> {
  const quiet = options.quiet ?? false;
  const log = (line: string) => {
    if (!quiet) process.stderr.write(`${line}\n`);
  };
  await prepareRunDir(runDir, config, options.resume ?? false);
  const runtime =
    options.runtime ??
    new Runtime({ provider: config.provider, threads: config.threads ?? undefined });
  const objective = config.objective;
  const K = negativesUsed(objective);
  const N = 1 + K;
  const memory = await planTrainMemory(config, N, log); // a run that cannot fit stops here
  // Model, tokenizer, trainable tensors.
  const { modelDir, modelConfig, weights, tokenizer, adapter } = await loadStartingPoint(config);

  // Data.
  const { dataset, trainSet, validSet } = await loadTrainingData(
    config,
    tokenizer,
    modelConfig.vocabSize,
    K,
  );

  // Reference log-probs, once (the policy starts equal to the reference).
  let reference = new Map<string, number[]>();
  if (needsReference(objective)) {
    const refModel = new LanguageModel(modelConfig, weights, {
      runtime,
      adapter: adapter
        ? { config: adapter.config, weights: cloneLora(adapter.weights) }
        : undefined,
    });
    const key = referenceKey([
      dataset.manifest.hashes,
      modelDir,
      config.initAdapter,
      N,
      config.maxPromptTokens,
      await fileStamp(modelDir),
      config.initAdapter ? await fileStamp(config.initAdapter) : null,
    ]);
    log(`reference log-probs: ${trainSet.length + validSet.length} examples × ${N} answers`);
    reference = await referenceLogps(
      join(runDir, "reference-logps.json"),
      key,
      [...trainSet, ...validSet],
      N,
      refModel,
    );
  }

  // Programs.
  const bind: BindOptions = {
    trainable: adapter ? "lora" : "full",
    frozenAs: "input",
    lora: adapter ? { weights: adapter.weights, scaling: loraScaling(adapter.config) } : undefined,
  };
  // LoRA dropout (PEFT's lora_dropout) in the training step only; validation runs without it.
  const dropoutP = config.lora?.dropout ?? 0;
  const step = stepProgram(
    modelConfig,
    weights,
    objective,
    { ...bind, lora: bind.lora ? { ...bind.lora, dropout: dropoutP } : undefined },
    true,
  );
  const stepGraph = await runtime.compile(step.graph, step.outputs);
  const lossOnly = stepProgram(
    modelConfig,
    weights,
    objective,
    { ...bind, trainable: "none" },
    false,
  );
  const lossGraph = await runtime.compile(lossOnly.graph, lossOnly.outputs);
  const params = new Map<string, Float32Array>();
  for (const name of step.model.trainable.keys())
    params.set(name, step.model.feeds[name] as Float32Array);
  const optimizer = new AdamW(params, {
    lr: config.lr,
    weightDecay: config.weightDecay,
    decays: (n) => !isFrozenNorm(n),
  });
  const policy = new LanguageModel(modelConfig, weights, {
    runtime,
    adapter: adapter ? { config: adapter.config, weights: adapter.weights } : undefined,
    weightsAs: "input",
  });

  // Schedule.
  const microPerEpoch = Math.ceil(trainSet.length / config.batchSize);
  const totalSteps =
    config.maxSteps ?? Math.max(1, Math.ceil((config.epochs * microPerEpoch) / config.gradAccum));
  const warmup = Math.ceil(config.warmupRatio * totalSteps);

  let state: LoopState = {
    step: 0,
    examples: 0,
    epoch: 0,
    position: 0,
    bestValidLoss: null,
    bestStep: null,
    elapsed: 0,
  };
  const lastDir = join(runDir, "checkpoints", "last");
  const bestDir = join(runDir, "checkpoints", "best");
  if (options.resume && existsSync(join(lastDir, "state.json"))) {
    const restored = await loadRunState(lastDir);
    await restoreTrainable(lastDir, params, adapter !== undefined);
    optimizer.load(restored.optimizer);
    state = restored.state;
    log(`resumed at step ${state.step} of ${totalSteps}`);
  }

  const contents = (): CheckpointContents => ({
    state: { ...state },
    optimizer: optimizer.state(),
    adapter: adapter ? { config: adapter.config, weights: adapter.weights } : undefined,
    model: adapter ? undefined : { config: modelConfig, weights, tokenizerDir: tokenizer.dir },
  });
  const metricsFile = join(runDir, "metrics.jsonl");
  const writeMetric = (entry: Record<string, unknown>) =>
    appendFile(metricsFile, `${JSON.stringify(entry)}\n`);

  const padId = modelConfig.padTokenId ?? modelConfig.eosTokenIds[0] ?? 0;
  const feedsFor = (batch: readonly TokenizedExample[]) =>
    batchFeeds(batch, { answers: N, padId, objective, reference });

  const validate = async (): Promise<ValidationResult | null> => {
    if (validSet.length === 0) return null;
    let lossSum = 0;
    for (let i = 0; i < validSet.length; i += config.batchSize) {
      const batch = validSet.slice(i, i + config.batchSize);
      const out = await lossGraph.run({
        ...lossOnly.model.feeds,
        ...feedsFor(batch),
      });
      lossSum += (out.loss.data[0] as number) * batch.length;
    }
    const scores = await policy.score(
      validSet.map((e) => e.prompt),
      validSet.map((e) => e.candidates),
      { batchSize: Math.max(1, Math.floor(config.batchSize / 2)) },
    );
    const ranks = validSet.map((e, i) => rankOf(scores.logpSum[i], e.targetIndex));
    const m = rankingMetrics(ranks);
    return {
      step: state.step,
      loss: lossSum / validSet.length,
      examples: validSet.length,
      hr1: m.hr["1"],
      hr3: m.hr["3"],
      hr5: m.hr["5"],
      ndcg5: m.ndcg["5"],
      mrr: m.mrr,
    };
  };
  const recordValidation = async (v: ValidationResult) => {
    await writeMetric({ split: "valid", ...v });
    log(
      `step ${v.step}: valid loss ${v.loss.toFixed(4)}, HR@1 ${v.hr1.toFixed(4)} (${v.examples} examples)`,
    );
    if (state.bestValidLoss === null || v.loss < state.bestValidLoss) {
      state.bestValidLoss = v.loss;
      state.bestStep = v.step;
      await saveRunCheckpoint(bestDir, contents());
    }
  };

  // The loop.
  const progress = startStepProgress(
    `train ${objective.type}`,
    totalSteps,
    state.step,
    quiet,
    config.logEvery ?? undefined,
  );
  const accum = new Map<string, Float32Array>();
  for (const [name, p] of params) accum.set(name, new Float32Array(p.length));
  const started = performance.now();
  const elapsedBefore = state.elapsed;
  let lastLoss: number | null = null;
  let lastValid: ValidationResult | null = null;
  let interrupted = false;
  let stepsThisCall = 0;
  const epochOrder = new Map<number, number[]>();
  const orderOf = (epoch: number) => {
    let order = epochOrder.get(epoch);
    if (!order) {
      order = shuffled(trainSet.length, config.seed, epoch);
      epochOrder.clear();
      epochOrder.set(epoch, order);
    }
    return order;
  };

  while (state.step < totalSteps) {
    const t0 = performance.now();
    for (const a of accum.values()) a.fill(0);
    let lossSum = 0;
    let batchExamples = 0;
    let batchTokens = 0;
    const metricSums: Record<string, number> = {};
    for (let micro = 0; micro < config.gradAccum; micro++) {
      const order = orderOf(state.epoch);
      const ids = order.slice(state.position, state.position + config.batchSize);
      state.position += ids.length;
      if (state.position >= order.length) {
        state.epoch++;
        state.position = 0;
      }
      const batch = ids.map((i) => trainSet[i]);
      const feeds: Record<string, Feed> = {
        ...step.model.feeds,
        ...feedsFor(batch),
      };
      if (dropoutP > 0)
        feeds.dropout_seed = {
          data: new BigInt64Array([BigInt(dropoutSeed(config.seed, state.step, micro))]),
          shape: [],
        };
      const out = await stepGraph.run(feeds);
      lossSum += out.loss.data[0] as number;
      batchExamples += batch.length;
      // Tokens the step processed: each prompt once, plus every answer scored.
      for (const e of batch)
        batchTokens += e.prompt.length + e.answers.slice(0, N).reduce((t, a) => t + a.length, 0);
      for (const [name, gradName] of step.gradientNames) {
        const g = out[gradName].data as Float32Array;
        const a = accum.get(name)!;
        for (let i = 0; i < g.length; i++) a[i] += g[i] / config.gradAccum;
      }
      for (const name of step.metricNames) {
        const values = out[`metric:${name}`].data as Float32Array;
        metricSums[name] = (metricSums[name] ?? 0) + values.reduce((s, v) => s + v, 0);
      }
    }
    const loss = lossSum / config.gradAccum;
    const grads = Object.fromEntries(accum);
    const gradNorm = clipGradNorm(grads, config.maxGradNorm);
    if (!Number.isFinite(loss) || !Number.isFinite(gradNorm)) {
      await saveRunCheckpoint(lastDir, contents());
      throw new TrainingError(
        `step ${state.step + 1}: the loss is ${loss} (gradient norm ${gradNorm}); training stopped, the last good state is in ${lastDir}`,
      );
    }
    const lr = cosineWithWarmup(config.lr, state.step, totalSteps, warmup);
    optimizer.update(grads, lr);
    state.step++;
    state.examples += batchExamples;
    stepsThisCall++;
    lastLoss = loss;
    const seconds = (performance.now() - t0) / 1000;
    const entry: Record<string, unknown> = {
      step: state.step,
      epoch: Number((state.epoch + state.position / trainSet.length).toFixed(4)),
      lr,
      loss,
      grad_norm: gradNorm,
      examples_per_s: batchExamples / seconds,
      tokens_per_s: batchTokens / seconds,
    };
    for (const [name, sum] of Object.entries(metricSums)) entry[name] = sum / batchExamples;
    state.elapsed = elapsedBefore + (performance.now() - started) / 1000;
    entry.elapsed_s = state.elapsed;
    await writeMetric(entry);
    progress.update(state.step, loss);

    const last = state.step === totalSteps;
    if (config.evalEvery > 0 && state.step % config.evalEvery === 0 && !last) {
      lastValid = await validate();
      if (lastValid) await recordValidation(lastValid);
    }
    if (config.saveEvery > 0 && state.step % config.saveEvery === 0 && !last) {
      await saveRunCheckpoint(lastDir, contents());
    }
    if (options.signal?.aborted && !last) {
      interrupted = true;
      break;
    }
    if (options.stopAfter !== undefined && stepsThisCall >= options.stopAfter && !last) {
      interrupted = true;
      break;
    }
  }
  progress.done();
  if (!interrupted && config.evalExamples > 0) {
    lastValid = await validate();
    if (lastValid) await recordValidation(lastValid);
  }
  await saveRunCheckpoint(lastDir, contents());
  const seconds = state.elapsed;
  const summary: TrainSummary = {
    runDir,
    objective: objective.type,
    steps: state.step,
    totalSteps,
    examples: state.examples,
    trainExamples: trainSet.length,
    seconds,
    examplesPerSecond: seconds > 0 ? state.examples / seconds : 0,
    lastLoss,
    valid: lastValid,
    bestStep: state.bestStep,
    bestValidLoss: state.bestValidLoss,
    interrupted,
    checkpoints: { last: lastDir, best: state.bestStep === null ? null : bestDir },
  };
  const json = JSON.stringify({ ...summary, memory: memory.record() }, null, 2); // + peak memory
  await writeFileAtomic(join(runDir, "summary.json"), `${json}\n`);
  return summary;
}
