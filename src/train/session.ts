// The setup phase of a run: everything the loop needs, built once — the starting point, the
// loop state (fresh or resumed), the examples the run will visit, the reference log-probs of
// those examples, the compiled step and loss programs, the parameter store and the optimizer.
// Nothing is written to the run folder before setup has succeeded (the reference cache aside,
// and a failed setup removes a folder it created).

import { existsSync } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { type CompiledGraph, Runtime } from "../graph/index.js";
import { startProgress } from "../io/progress.js";
import type { BindOptions } from "../model/graph/params.js";
import { LanguageModel } from "../model/lm.js";
import { loraScaling } from "../model/peft.js";
import { cloneTokens } from "../model/peft-tokens.js";
import type { RunMemory } from "../model/run-memory.js";
import type { LmTokenizer } from "../model/tokenizer/tokenizer.js";
import { needsReference, negativesUsed, objectivePromptLoss } from "../objectives/index.js";
import { visitedExamples } from "./batches.js";
import { type LoopState, loadRunState } from "./checkpoint.js";
import type { TrainConfig } from "./config.js";
import { TrainingError } from "./errors.js";
import { planTrainMemory } from "./memory.js";
import { AdamW } from "./optim.js";
import { cloneLora, ParameterStore } from "./params.js";
import { type StepProgram, stepProgram } from "./program.js";
import { referenceBatches, referenceKey, referenceLogps } from "./reference.js";
import {
  checkRunDir,
  fileStamp,
  loadStartingPoint,
  loadTrainingData,
  type TrainingData,
  writeRunConfig,
} from "./setup.js";

export interface SessionOptions {
  resume?: boolean;
  quiet?: boolean;
  runtime?: Runtime;
  signal?: AbortSignal;
  /** Check the dataset files' sha256 (default true; counts are always checked). */
  verify?: boolean;
}

/** A compiled program and the program it came from (its frozen feeds, output names). */
export interface CompiledProgram {
  program: StepProgram;
  graph: CompiledGraph;
}

/** Everything a run's loop reads; `state` is the one thing the loop advances (with the store). */
export interface TrainSession {
  config: TrainConfig;
  runDir: string;
  runtime: Runtime;
  log: (line: string) => void;
  quiet: boolean;
  /** Answers scored per example (1 + K negatives). */
  answers: number;
  tokenizer: LmTokenizer;
  store: ParameterStore;
  optimizer: AdamW;
  data: TrainingData;
  /** Reference log-probs by example id (preference objectives; empty otherwise). */
  reference: Map<string, number[]>;
  /** The training step (loss, metrics, gradients; LoRA dropout) and the loss alone (validation). */
  step: CompiledProgram;
  loss: CompiledProgram;
  /** The larger of the step's LoRA and hidden dropout (0: the step draws no masks). */
  dropout: number;
  /** The policy as a language model over the store's tensors (validation ranking). */
  policy: LanguageModel;
  totalSteps: number;
  warmup: number;
  state: LoopState;
  paths: { last: string; best: string; metrics: string };
  /** The run's memory estimate (logged at setup) and its measured peak (for summary.json). */
  memory: RunMemory;
}

const isFrozenNorm = (name: string) => name.endsWith("norm.weight") || name.endsWith(".bias");

/** Optimizer steps of a run over `trainCount` examples. */
export function totalStepsOf(config: TrainConfig, trainCount: number): number {
  const microPerEpoch = Math.ceil(trainCount / config.batchSize);
  return (
    config.maxSteps ?? Math.max(1, Math.ceil((config.epochs * microPerEpoch) / config.gradAccum))
  );
}

/** Runs the setup phase; on failure a run folder this call created is removed again. */
export async function setupSession(
  config: TrainConfig,
  runDir: string,
  options: SessionOptions = {},
): Promise<TrainSession> {
  const { existed } = await checkRunDir(runDir, config, options.resume ?? false);
  try {
    return await buildSession(config, runDir, options);
  } catch (error) {
    if (!existed) await rm(runDir, { recursive: true, force: true });
    throw error;
  }
}

async function buildSession(
  config: TrainConfig,
  runDir: string,
  options: SessionOptions,
): Promise<TrainSession> {
  const quiet = options.quiet ?? false;
  const log = (line: string) => {
    if (!quiet) process.stderr.write(`${line}\n`);
  };
  const runtime =
    options.runtime ??
    new Runtime({ provider: config.provider, threads: config.threads ?? undefined });
  const objective = config.objective;
  const K = negativesUsed(objective);
  const N = 1 + K;
  const paths = {
    last: join(runDir, "checkpoints", "last"),
    best: join(runDir, "checkpoints", "best"),
    metrics: join(runDir, "metrics.jsonl"),
  };

  const memory = await planTrainMemory(config, N, log); // a run that cannot fit stops here
  // Starting point and where the loop stands (a resume continues from the last checkpoint).
  const {
    modelDir,
    modelConfig,
    weights,
    tokenizer,
    adapter,
    projection,
    itemInit,
    referenceWeights,
  } = await loadStartingPoint(config, runDir);
  if (objectivePromptLoss(objective) === "items" && tokenizer.representation === "title")
    throw new TrainingError(
      "promptLoss: items trains on the history's item tokens, but this run shows items as titles (use items: id or hybrid, or promptLoss: all)",
    );
  if (itemInit)
    log(
      `item-init: ${itemInit.items} item rows from ${config.itemInit} through a learned projection (${itemInit.missing} items without a SASRec row: its mean row)`,
    );
  const restored =
    options.resume && existsSync(join(paths.last, "state.json"))
      ? await loadRunState(paths.last)
      : null;
  const state: LoopState = restored?.state ?? {
    step: 0,
    examples: 0,
    epoch: 0,
    position: 0,
    bestValidLoss: null,
    bestValidHr1: null,
    bestStep: null,
    elapsed: 0,
  };

  // Data: only the examples the remaining steps visit (with a reference: their whole batches).
  const withReference = needsReference(objective);
  const data = await loadTrainingData(config, tokenizer, modelConfig.vocabSize, K, {
    visited: (n) => {
      const micro = Math.max(0, totalStepsOf(config, n) - state.step) * config.gradAccum;
      const visited = visitedExamples(n, config.batchSize, config.seed, state, micro);
      return withReference ? referenceBatches(visited, n, config.evalExamples > 0) : visited;
    },
    signal: options.signal,
    quiet,
    verify: options.verify,
  });
  const totalSteps = totalStepsOf(config, data.trainCount);

  // Reference log-probs of those examples, once (the policy starts equal to the reference).
  let reference = new Map<string, number[]>();
  if (withReference) {
    const refModel = new LanguageModel(modelConfig, referenceWeights ?? weights, {
      runtime,
      adapter: adapter
        ? {
            config: adapter.config,
            weights: cloneLora(adapter.weights),
            tokens: cloneTokens(adapter.tokens),
          }
        : undefined,
    });
    const key = referenceKey([
      data.dataset.manifest.hashes,
      modelDir,
      config.initAdapter,
      N,
      config.maxPromptTokens,
      config.items,
      config.itemInit,
      await fileStamp(modelDir),
      config.initAdapter ? await fileStamp(config.initAdapter) : null,
      // How the reference held its weights, where it is not what runs did before the option
      // existed (LoRA: as stored; full fine-tuning: float32), so earlier caches stay valid.
      ...(referenceWeights || (adapter && config.weightsDtype === "float32")
        ? [`weights ${config.weightsDtype}`]
        : []),
    ]);
    const examples = [...data.train.values(), ...data.validSet];
    log(`reference log-probs: ${examples.length} examples × ${N} answers`);
    let progress: ReturnType<typeof startProgress> | null = null;
    let shown = 0;
    reference = await referenceLogps(
      join(runDir, "reference-logps.json"),
      key,
      examples,
      N,
      refModel,
      {
        signal: options.signal,
        onProgress: (done, total) => {
          progress ??= startProgress("reference log-probs", total, quiet);
          progress.tick(done - shown);
          shown = done;
          if (done === total) progress.done();
        },
      },
    );
    // Its compiled graph (and, for float32 weights, its session's copy of them) is not needed again.
    await refModel.releasePrograms();
  }

  // Programs: the step (with gradients and dropout) and the loss alone, over the same binding.
  const bind: BindOptions = {
    trainable: adapter ? "lora" : "full",
    frozenAs: "input",
    lora: adapter ? { weights: adapter.weights, scaling: loraScaling(adapter.config) } : undefined,
    tokens: adapter?.tokens,
    projection,
  };
  const loraDropout = config.lora?.dropout ?? 0;
  const dropout = Math.max(loraDropout, config.hiddenDropout);
  const stepProg = stepProgram(
    modelConfig,
    weights,
    objective,
    {
      ...bind,
      lora: bind.lora ? { ...bind.lora, dropout: loraDropout } : undefined,
      hiddenDropout: config.hiddenDropout,
    },
    true,
  );
  const lossProg = stepProgram(
    modelConfig,
    weights,
    objective,
    { ...bind, trainable: "none" },
    false,
  );
  const step = {
    program: stepProg,
    graph: await runtime.compile(stepProg.graph, stepProg.outputs),
  };
  const loss = {
    program: lossProg,
    graph: await runtime.compile(lossProg.graph, lossProg.outputs),
  };

  // The parameter store, the optimizer (its one writer) and the validation model (a reader).
  const trainable = new Map<string, Float32Array>();
  for (const name of stepProg.model.trainable.keys())
    trainable.set(name, stepProg.model.feeds[name] as Float32Array);
  const store = new ParameterStore(modelConfig, weights, adapter, trainable, projection);
  const optimizer = new AdamW(store.writable(), {
    lr: config.lr,
    weightDecay: config.weightDecay,
    decays: (n) => !isFrozenNorm(n),
  });
  if (restored) {
    await store.restore(paths.last);
    optimizer.load(restored.optimizer);
    log(`resumed at step ${state.step} of ${totalSteps}`);
  }
  const policy = new LanguageModel(modelConfig, weights, {
    runtime,
    adapter,
    weightsAs: "input",
    projection,
  });

  await writeRunConfig(runDir, config);
  return {
    config,
    runDir,
    runtime,
    log,
    quiet,
    answers: N,
    tokenizer,
    store,
    optimizer,
    data,
    reference,
    step,
    loss,
    dropout,
    policy,
    totalSteps,
    warmup: Math.ceil(config.warmupRatio * totalSteps),
    state,
    paths,
    memory,
  };
}
