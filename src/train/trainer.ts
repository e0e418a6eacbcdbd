// The training loop shared by every objective: batches of examples (seeded order), one
// shared-prefix step program, gradient accumulation, clipping, AdamW with a cosine schedule,
// validation (loss + HR@1 by candidate ranking), best/last checkpoints, exact resume.

import { existsSync } from "node:fs";
import { appendFile, mkdir, readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { type Example, loadExamples, loadPrepared } from "../data/index.js";
import { rankingMetrics, rankOf } from "../eval/ranking.js";
import { type Feed, Runtime, type Tensor } from "../graph/index.js";
import { writeFileAtomic } from "../io/atomic.js";
import { createRng } from "../io/rng.js";
import { packCompletions, packPrompts } from "../model/batch.js";
import { loadCheckpoint } from "../model/checkpoint.js";
import type { BindOptions } from "../model/graph/params.js";
import { LanguageModel } from "../model/lm.js";
import { initLoraWeights } from "../model/lora.js";
import type { Projection } from "../model/names.js";
import {
  type LoraAdapterConfig,
  type LoraWeights,
  loadLoraAdapter,
  loraScaling,
} from "../model/peft.js";
import { LmTokenizer } from "../model/tokenizer.js";
import { isPreference, needsReference, negativesUsed } from "../objectives/index.js";
import {
  type CheckpointContents,
  type LoopState,
  loadRunState,
  saveRunCheckpoint,
} from "./checkpoint.js";
import type { TrainConfig } from "./config.js";
import { AdamW, clipGradNorm } from "./optim.js";
import { stepProgram } from "./program.js";
import { startStepProgress } from "./progress.js";
import { referenceKey, referenceLogps } from "./reference.js";
import { cosineWithWarmup } from "./schedule.js";
import { type TokenizedExample, tokenizeExample } from "./tokenize.js";

export class TrainingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TrainingError";
  }
}

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

  // Model, tokenizer, trainable tensors.
  const modelDir = config.initModel ?? config.model;
  const { config: modelConfig, weights } = await loadCheckpoint(modelDir);
  const tokenizer = await LmTokenizer.load(
    existsSync(join(modelDir, "tokenizer.json")) ? modelDir : config.model,
  );
  let adapter: { config: LoraAdapterConfig; weights: LoraWeights } | undefined;
  if (config.lora) {
    const adapterConfig: LoraAdapterConfig = {
      r: config.lora.r,
      loraAlpha: config.lora.alpha,
      loraDropout: config.lora.dropout,
      targetModules: [...config.lora.targets],
      baseModelNameOrPath: config.model,
      useRslora: false,
      extra: {},
    };
    if (config.initAdapter) {
      const loaded = await loadLoraAdapter(config.initAdapter);
      if (
        loaded.config.r !== adapterConfig.r ||
        loaded.config.loraAlpha !== adapterConfig.loraAlpha
      ) {
        throw new TrainingError(
          `${config.initAdapter}: adapter has r=${loaded.config.r}, alpha=${loaded.config.loraAlpha}; the run asks for r=${adapterConfig.r}, alpha=${adapterConfig.loraAlpha}`,
        );
      }
      adapter = {
        config: { ...loaded.config, baseModelNameOrPath: config.model },
        weights: loaded.weights,
      };
    } else {
      adapter = {
        config: adapterConfig,
        weights: initLoraWeights(
          modelConfig,
          config.lora.targets as Projection[],
          config.lora.r,
          config.seed,
        ),
      };
    }
  }

  // Data.
  const dataset = await loadPrepared(config.data);
  let trainRaw = await loadExamples(config.data, "train");
  if (config.maxExamples) trainRaw = trainRaw.slice(0, config.maxExamples);
  const validRaw = (await loadExamples(config.data, "valid")).slice(0, config.evalExamples);
  if (trainRaw.length === 0) throw new TrainingError(`${config.data}: no training examples`);
  checkData(config, trainRaw, K);
  const cache = new Map<string, number[]>();
  const tok = (e: Example) =>
    tokenizeExample(tokenizer, e, { maxPromptTokens: config.maxPromptTokens }, cache);
  const trainSet = trainRaw.map(tok);
  const validSet = validRaw.map(tok);
  for (const e of [...trainSet, ...validSet]) {
    const bad = [e.prompt, ...e.answers].flat().find((id) => id >= modelConfig.vocabSize);
    if (bad !== undefined) {
      throw new TrainingError(
        `token id ${bad} ≥ the model's vocabulary (${modelConfig.vocabSize}): tokenizer and model do not match`,
      );
    }
  }

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

  const feedsFor = (batch: readonly TokenizedExample[]): Record<string, Tensor> => {
    const padId = modelConfig.padTokenId ?? modelConfig.eosTokenIds[0] ?? 0;
    const { lengths, ...prompt } = packPrompts(
      batch.map((e) => e.prompt),
      "left",
      padId,
    );
    const feeds: Record<string, Tensor> = {
      ...prompt,
      ...packCompletions(
        batch.map((e) => e.answers.slice(0, N)),
        lengths,
        padId,
      ),
    };
    if (needsReference(objective)) {
      feeds.reference_logp = {
        data: Float32Array.from(batch.flatMap((e) => reference.get(e.id)!)),
        shape: [batch.length, N],
      };
    }
    if (objective.type === "recpo") {
      const margins = batch.flatMap((e) => [
        0,
        ...e.phi.slice(1, N).map((phi) => (objective.lambda * e.phi[0]) / phi),
      ]);
      feeds.margins = { data: Float32Array.from(margins), shape: [batch.length, N] };
    }
    return feeds;
  };

  const validate = async (): Promise<ValidationResult | null> => {
    if (validSet.length === 0) return null;
    let lossSum = 0;
    for (let i = 0; i < validSet.length; i += config.batchSize) {
      const batch = validSet.slice(i, i + config.batchSize);
      const out = await lossGraph.run({
        ...lossOnly.model.feeds,
        ...step.model.feeds,
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
  await writeFileAtomic(join(runDir, "summary.json"), `${JSON.stringify(summary, null, 2)}\n`);
  return summary;
}

/** The dropout seed of one micro-batch: a function of (seed, step, micro-batch), so resumes repeat it. */
function dropoutSeed(seed: number, step: number, micro: number): number {
  let h =
    (Math.imul(seed + 0x9e3779b9, 0x85ebca6b) ^
      Math.imul(step + 1, 0xc2b2ae35) ^
      Math.imul(micro + 7, 0x27d4eb2f)) >>>
    0;
  h = Math.imul(h ^ (h >>> 16), 0x45d9f3b) >>> 0;
  return (h ^ (h >>> 16)) & 0x7fffffff;
}

/** A seeded permutation of 0..n−1 for one epoch. */
function shuffled(n: number, seed: number, epoch: number): number[] {
  const rng = createRng((Math.imul(seed + 1, 0x9e3779b1) ^ Math.imul(epoch + 1, 0x85ebca6b)) >>> 0);
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}

function cloneLora(weights: LoraWeights): LoraWeights {
  const out: LoraWeights = new Map();
  for (const [m, { A, B }] of weights) {
    out.set(m, {
      A: { shape: [...A.shape], data: A.data.slice() },
      B: { shape: [...B.shape], data: B.data.slice() },
    });
  }
  return out;
}

/** Size and modification time of a directory's files, to notice a changed model. */
async function fileStamp(dir: string): Promise<string> {
  const names = (await readdir(dir))
    .filter((n) => n.endsWith(".safetensors") || n.endsWith(".json"))
    .sort();
  const parts = await Promise.all(
    names.map(
      async (n) => `${n}:${(await stat(join(dir, n))).size}:${(await stat(join(dir, n))).mtimeMs}`,
    ),
  );
  return parts.join("|");
}

function checkData(config: TrainConfig, examples: readonly Example[], K: number): void {
  const objective = config.objective;
  if (isPreference(objective)) {
    const short = examples.find((e) => e.negatives.length < K);
    if (short) {
      throw new TrainingError(
        `${config.data}: example ${short.id} has ${short.negatives.length} negatives, the ${objective.type} objective needs ${K} (prepare the data with --negatives ${K})`,
      );
    }
  }
  if (objective.type === "recpo" && objective.lambda > 0 && !config.recpoDefaultSignals) {
    const rated = examples.some((e) => e.target.rating !== undefined);
    if (!rated) {
      throw new TrainingError(
        `${config.data}: no example carries a rating, so every RecPO margin would come from default signals; prepare data with ratings, or pass --default-signals to accept that`,
      );
    }
  }
}

async function prepareRunDir(runDir: string, config: TrainConfig, resume: boolean): Promise<void> {
  const configFile = join(runDir, "config.json");
  // A run that failed before its first step left only its config: starting again is fine.
  const started =
    existsSync(join(runDir, "metrics.jsonl")) || existsSync(join(runDir, "checkpoints"));
  if (existsSync(configFile) && started) {
    if (!resume) {
      throw new TrainingError(
        `${runDir} already holds a run; continue it with --resume or choose another --out`,
      );
    }
    const previous = JSON.parse(await readFile(configFile, "utf8"));
    const { maxSteps: _a, ...before } = previous as TrainConfig;
    const { maxSteps: _b, ...now } = config;
    if (JSON.stringify(before) !== JSON.stringify(now)) {
      throw new TrainingError(
        `${runDir}: --resume with a different configuration than the run's config.json`,
      );
    }
  }
  await mkdir(runDir, { recursive: true });
  await writeFileAtomic(configFile, `${JSON.stringify(config, null, 2)}\n`);
}

async function restoreTrainable(
  dir: string,
  params: Map<string, Float32Array>,
  lora: boolean,
): Promise<void> {
  if (lora) {
    const { weights } = await loadLoraAdapter(join(dir, "adapter"));
    for (const [module, { A, B }] of weights) {
      params.get(`${module}.lora_A`)?.set(A.data);
      params.get(`${module}.lora_B`)?.set(B.data);
    }
  } else {
    const { weights } = await loadCheckpoint(join(dir, "model"));
    for (const [name, t] of weights) params.get(name)?.set(t.data);
  }
}
