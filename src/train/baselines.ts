// The training loop of the classic baselines (SASRec, GRU4Rec, Caser; Pop just counts): seeded
// epochs over windows of the training sequences, Adam, validation HR@1 on the given candidates
// after every epoch, early stopping, best/last checkpoints, metrics.jsonl, exact resume.
// It lives in train/ because it uses the optimizer (train/) and the ranking metrics (eval/).

import { existsSync } from "node:fs";
import { appendFile, mkdir, readdir } from "node:fs/promises";
import { join } from "node:path";
import {
  BASELINE_RUN_FORMAT,
  type BaselineState,
  loadBaselineParams,
  loadBaselineState,
  readRunFile,
  saveBaselineCheckpoint,
  writeRunFile,
} from "../baselines/checkpoint.js";
import type { BaselineConfig } from "../baselines/config.js";
import { allPositions, positionFeeds, windowFeeds } from "../baselines/feeds.js";
import { BaselineModel } from "../baselines/model.js";
import { initParams, type ParamValues, paramFeeds } from "../baselines/params.js";
import {
  isSequenceModel,
  type ModelSizes,
  modelShapes,
  type NeuralKind,
  trainProgram,
} from "../baselines/programs.js";
import {
  epochWindowCount,
  epochWindows,
  itemCounts,
  longestHistory,
  trainingSequences,
} from "../baselines/sequences.js";
import { loadExamples, loadPrepared } from "../data/dataset.js";
import type { Example } from "../data/types.js";
import { evaluate } from "../eval/evaluate.js";
import { type Feed, Runtime } from "../graph/index.js";
import { writeFileAtomic } from "../io/atomic.js";
import { UserError } from "../io/errors.js";
import { startStepProgress } from "../io/progress.js";
import { dropoutSeed, shuffled } from "./batches.js";
import { AdamW } from "./optim.js";

/** Training data of a baseline: the train and valid splits of one prepared dataset. */
export interface BaselineData {
  train: Example[];
  valid: Example[];
  numItems: number;
  hashes?: Record<string, string>;
}

export interface BaselineTrainOptions {
  /** Run directory to write (or continue with `resume`). */
  out: string;
  /** Preloaded data (else read from `config.data`). */
  data?: BaselineData;
  resume?: boolean;
  quiet?: boolean;
  runtime?: Runtime;
  /** Aborting stops after the current step with a checkpoint (Ctrl-C). */
  signal?: AbortSignal;
  /** Stop after this many steps in this call (resume tests). */
  stopAfter?: number;
  /** Called after every validation. */
  onProgress?: (v: BaselineValidation) => void;
}

export interface BaselineValidation {
  epoch: number;
  step: number;
  trainLoss: number | null;
  examples: number;
  hr1: number;
  hr5: number;
  ndcg5: number;
  ndcg10: number;
  mrr: number;
}

export interface BaselineSummary {
  runDir: string;
  kind: string;
  epochs: number;
  steps: number;
  examples: number;
  trainSequences: number;
  seconds: number;
  examplesPerSecond: number;
  best: { epoch: number | null; hr1: number | null };
  interrupted: boolean;
}

/** Reads the train and valid splits of a prepared dataset. */
export async function loadBaselineData(dir: string): Promise<BaselineData> {
  const prepared = await loadPrepared(dir);
  return {
    train: await loadExamples(dir, "train"),
    valid: await loadExamples(dir, "valid"),
    numItems: prepared.items.length,
    hashes: prepared.manifest.hashes,
  };
}

/** HR@k, NDCG@k and MRR on examples' given candidates, through the one evaluator. */
export async function validateBaseline(
  model: BaselineModel,
  examples: readonly Example[],
): Promise<Omit<BaselineValidation, "epoch" | "step" | "trainLoss">> {
  // One scoring call for the whole set: the model batches internally.
  const { metrics } = await evaluate(model, examples, {
    protocols: ["ranking"],
    batchSize: Math.max(1, examples.length),
  });
  const m = metrics.ranking!.sum;
  return {
    examples: m.examples,
    hr1: m.hr["1"],
    hr5: m.hr["5"],
    ndcg5: m.ndcg["5"],
    ndcg10: m.ndcg["10"],
    mrr: m.mrr,
  };
}

/** Trains a baseline according to `config`, writing everything under `options.out`. */
export async function trainBaseline(
  config: BaselineConfig,
  options: BaselineTrainOptions,
): Promise<BaselineSummary> {
  const runDir = options.out;
  const log = (line: string) => {
    if (!options.quiet) process.stderr.write(`${line}\n`);
  };
  if (options.resume) {
    const run = await readRunFile(runDir);
    config = run.config;
  } else if (existsSync(runDir) && (await readdir(runDir)).length > 0) {
    throw new UserError(
      `${runDir} already exists and is not empty (continue it with --resume, or pick another --out)`,
    );
  }
  const data = options.data ?? (await loadBaselineData(config.data));
  if (data.train.length === 0)
    throw new UserError(`${config.data}: the train split has no examples`);
  const sequences = trainingSequences(data.train);
  const V = data.numItems;
  const inputLen =
    config.kind === "caser"
      ? config.window
      : config.maxLen || Math.min(200, longestHistory(data.train));
  const sizes: ModelSizes = { numItems: V, inputLen };
  await mkdir(runDir, { recursive: true });
  if (!options.resume) {
    await writeRunFile(runDir, {
      format: BASELINE_RUN_FORMAT,
      kind: config.kind,
      config,
      sizes,
      dataHashes: data.hashes,
    });
  }
  const lastDir = join(runDir, "checkpoints", "last");
  const bestDir = join(runDir, "checkpoints", "best");
  const metricsFile = join(runDir, "metrics.jsonl");
  const writeMetric = (entry: Record<string, unknown>) =>
    appendFile(metricsFile, `${JSON.stringify(entry)}\n`);
  const validSet =
    config.validExamples > 0 ? data.valid.slice(0, config.validExamples) : data.valid;
  const runtime = options.runtime ?? new Runtime({ threads: config.threads ?? undefined });
  const started = performance.now();

  if (config.kind === "pop") {
    const counts = Float32Array.from(itemCounts(sequences, V));
    const params: ParamValues = new Map([["counts", counts]]);
    const model = new BaselineModel(config, sizes, params, { runtime });
    const v = { epoch: 0, step: 0, trainLoss: null, ...(await validateBaseline(model, validSet)) };
    await writeMetric({ split: "valid", ...v });
    const state: BaselineState = {
      epoch: 1,
      position: 0,
      step: 0,
      examples: data.train.length,
      bestHr1: v.hr1,
      bestEpoch: 0,
      stale: 0,
      finished: true,
      elapsed: 0,
      epochLoss: 0,
      epochTargets: 0,
    };
    for (const dir of [bestDir, lastDir])
      await saveBaselineCheckpoint(dir, { counts: [V] }, params, state, null);
    options.onProgress?.(v);
    log(`pop: valid HR@1 ${v.hr1.toFixed(4)} (${v.examples} examples)`);
    return finish({
      runDir,
      kind: "pop",
      epochs: 1,
      steps: 0,
      examples: data.train.length,
      trainSequences: sequences.length,
      seconds: (performance.now() - started) / 1000,
      examplesPerSecond: 0,
      best: { epoch: 0, hr1: v.hr1 },
      interrupted: false,
    });
  }

  const kind = config.kind as NeuralKind;
  const shapes = modelShapes(config, sizes);
  const params = initParams(shapes, config.seed);
  const optimizer = new AdamW(params, {
    lr: config.lr,
    beta2: config.beta2,
    weightDecay: config.weightDecay,
  });
  let state: BaselineState = {
    epoch: 0,
    position: 0,
    step: 0,
    examples: 0,
    bestHr1: null,
    bestEpoch: null,
    stale: 0,
    finished: false,
    elapsed: 0,
    epochLoss: 0,
    epochTargets: 0,
  };
  if (options.resume && existsSync(join(lastDir, "state.json"))) {
    const restored = await loadBaselineState(lastDir);
    const saved = await loadBaselineParams(lastDir, shapes);
    for (const [n, p] of params) p.set(saved.get(n)!);
    if (restored.optimizer) optimizer.load(restored.optimizer);
    state = restored.state;
    log(`resumed at epoch ${state.epoch}, step ${state.step}`);
  }
  const program = trainProgram(config, sizes);
  const step = await runtime.compile(program.graph, program.outputs);
  const model = new BaselineModel(config, sizes, params, { runtime });
  const sequence = isSequenceModel(kind);
  const positions = sequence ? [] : allPositions(sequences);
  type Unit = ReturnType<typeof epochWindows>[number] | (typeof positions)[number];
  const unitsOf = (epoch: number): Unit[] =>
    sequence
      ? epochWindows(sequences, inputLen, config.seed, epoch)
      : shuffled(positions.length, config.seed, epoch).map((i) => positions[i]);
  const save = (dir: string) =>
    saveBaselineCheckpoint(dir, shapes, params, { ...state }, optimizer.state());
  const bce = kind === "sasrec" && config.loss === "bce";
  // Steps of every epoch, counted per epoch: a sequence model's later epochs cut its sequences
  // at shifted points, which can give more windows (hence steps) than epoch 0.
  let totalSteps = 0;
  for (let e = 0; e < config.epochs; e++) {
    const units = sequence
      ? epochWindowCount(sequences, inputLen, config.seed, e)
      : positions.length;
    totalSteps += Math.ceil(units / config.batchSize);
  }
  const progress = startStepProgress(
    `train ${kind}`,
    totalSteps,
    state.step,
    options.quiet ?? false,
  );
  const elapsedBefore = state.elapsed;
  let interrupted = false;
  let stepsThisCall = 0;

  outer: while (!state.finished && state.epoch < config.epochs) {
    const units = unitsOf(state.epoch);
    const t0 = performance.now();
    while (state.position < units.length) {
      const batch = units.slice(state.position, state.position + config.batchSize);
      const feeds: Record<string, Feed> = sequence
        ? windowFeeds(
            sequences,
            batch as ReturnType<typeof epochWindows>,
            inputLen,
            V,
            bce ? { seed: config.seed, step: state.step } : null,
          )
        : positionFeeds(sequences, batch as typeof positions, inputLen, V);
      feeds.dropout_seed = {
        data: BigInt64Array.of(BigInt(dropoutSeed(config.seed, state.step, 0))),
        shape: [],
      };
      const out = await step.run({ ...paramFeeds(shapes, params), ...feeds });
      const loss = out.loss.data[0] as number;
      if (!Number.isFinite(loss)) {
        await save(lastDir);
        throw new UserError(
          `step ${state.step + 1}: the loss is ${loss}; training stopped (try a lower --lr); the last good state is in ${lastDir}`,
          { exitCode: 1 },
        );
      }
      const grads: Record<string, Float32Array> = {};
      for (const [name, out2] of program.gradients) grads[name] = out[out2].data as Float32Array;
      optimizer.update(grads);
      const targets = (feeds.count as { data: Float32Array }).data[0];
      state.epochLoss += loss * targets;
      state.epochTargets += targets;
      state.step++;
      // One line per step, as LM runs log (the report's loss and learning-rate curves).
      await writeMetric({ step: state.step, epoch: state.epoch + 1, loss, lr: config.lr, targets });
      state.position += batch.length;
      state.examples += targets;
      stepsThisCall++;
      progress.update(state.step, loss);
      state.elapsed = elapsedBefore + (performance.now() - started) / 1000;
      const stop =
        options.signal?.aborted ||
        (options.stopAfter !== undefined && stepsThisCall >= options.stopAfter);
      if (stop && state.position < units.length) {
        interrupted = true;
        break outer;
      }
    }
    // End of an epoch: validate, keep the best, maybe stop early.
    const trainSeconds = (performance.now() - t0) / 1000;
    const v: BaselineValidation = {
      epoch: state.epoch + 1,
      step: state.step,
      trainLoss: state.epochTargets > 0 ? state.epochLoss / state.epochTargets : null,
      ...(await validateBaseline(model, validSet)),
    };
    await writeMetric({
      split: "valid",
      ...v,
      train_seconds: trainSeconds,
      epoch_seconds: (performance.now() - t0) / 1000,
      targets_per_s: state.epochTargets / trainSeconds,
    });
    options.onProgress?.(v);
    state.epoch++;
    state.position = 0;
    state.epochLoss = 0;
    state.epochTargets = 0;
    if (state.bestHr1 === null || v.hr1 > state.bestHr1) {
      state.bestHr1 = v.hr1;
      state.bestEpoch = v.epoch;
      state.stale = 0;
      await save(bestDir);
    } else {
      state.stale++;
      if (config.patience > 0 && state.stale >= config.patience) state.finished = true;
    }
    if (state.epoch >= config.epochs) state.finished = true;
    state.elapsed = elapsedBefore + (performance.now() - started) / 1000;
    await save(lastDir);
    if (!options.quiet && !process.stderr.isTTY) {
      log(
        `epoch ${v.epoch}: train loss ${v.trainLoss?.toFixed(4)}, valid HR@1 ${v.hr1.toFixed(4)} (best ${state.bestHr1.toFixed(4)} at epoch ${state.bestEpoch})`,
      );
    }
    if (
      options.signal?.aborted ||
      (options.stopAfter !== undefined && stepsThisCall >= options.stopAfter)
    ) {
      interrupted = !state.finished;
      break;
    }
  }
  progress.done();
  if (interrupted) await save(lastDir);
  await model.dispose();
  return finish({
    runDir,
    kind,
    epochs: state.epoch,
    steps: state.step,
    examples: state.examples,
    trainSequences: sequences.length,
    seconds: state.elapsed,
    examplesPerSecond: state.elapsed > 0 ? state.examples / state.elapsed : 0,
    best: { epoch: state.bestEpoch, hr1: state.bestHr1 },
    interrupted,
  });
}

async function finish(summary: BaselineSummary): Promise<BaselineSummary> {
  await writeFileAtomic(
    join(summary.runDir, "summary.json"),
    `${JSON.stringify(summary, null, 2)}\n`,
  );
  return summary;
}
