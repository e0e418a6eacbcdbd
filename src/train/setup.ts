// Setting a run up: its directory, the starting model (weights, tokenizer, LoRA adapter), the
// tokenized examples, and restoring trainable tensors from a checkpoint.

import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { type Example, loadExamples, loadPrepared, type PreparedDataset } from "../data/index.js";
import { writeFileAtomic } from "../io/atomic.js";
import { loadCheckpoint } from "../model/checkpoint.js";
import type { LmConfig } from "../model/config.js";
import { initLoraWeights } from "../model/lora.js";
import type { Projection } from "../model/names.js";
import { type LoraAdapterConfig, type LoraWeights, loadLoraAdapter } from "../model/peft.js";
import { LmTokenizer } from "../model/tokenizer.js";
import type { Weights } from "../model/weights.js";
import { isPreference } from "../objectives/index.js";
import type { TrainConfig } from "./config.js";
import { TrainingError } from "./errors.js";
import { trainWeightsDtype } from "./memory.js";
import { type TokenizedExample, tokenizeExample } from "./tokenize.js";

export interface StartingPoint {
  modelDir: string;
  modelConfig: LmConfig;
  weights: Weights;
  tokenizer: LmTokenizer;
  /** LoRA runs: the adapter being trained (fresh, or the earlier stage's). */
  adapter?: { config: LoraAdapterConfig; weights: LoraWeights };
}

/** Loads the model a run starts from, its tokenizer, and (LoRA) the adapter to train. */
export async function loadStartingPoint(config: TrainConfig): Promise<StartingPoint> {
  const modelDir = config.initModel ?? config.model;
  // LoRA runs never change the base: a 16-bit one stays as stored (memory-mapped).
  const { config: modelConfig, weights } = await loadCheckpoint(modelDir, {
    weightsDtype: trainWeightsDtype(config),
  });
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

  return { modelDir, modelConfig, weights, tokenizer, adapter };
}

/** The tokenized training and validation examples, checked against the objective and model. */
export async function loadTrainingData(
  config: TrainConfig,
  tokenizer: LmTokenizer,
  vocabSize: number,
  K: number,
): Promise<{
  dataset: PreparedDataset;
  trainSet: TokenizedExample[];
  validSet: TokenizedExample[];
}> {
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
    const bad = [e.prompt, ...e.answers].flat().find((id) => id >= vocabSize);
    if (bad !== undefined) {
      throw new TrainingError(
        `token id ${bad} ≥ the model's vocabulary (${vocabSize}): tokenizer and model do not match`,
      );
    }
  }

  return { dataset, trainSet, validSet };
}

export function cloneLora(weights: LoraWeights): LoraWeights {
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
export async function fileStamp(dir: string): Promise<string> {
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

export async function prepareRunDir(
  runDir: string,
  config: TrainConfig,
  resume: boolean,
): Promise<void> {
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

export async function restoreTrainable(
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
