// Setting a run up: checking its directory, the starting model (weights, tokenizer, LoRA
// adapter), and the tokenized examples the run will use (only those, with progress and Ctrl-C).

import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { type Example, loadExamples, loadPrepared, type PreparedDataset } from "../data/index.js";
import { writeFileAtomic } from "../io/atomic.js";
import { startProgress } from "../io/progress.js";
import { loadCheckpoint } from "../model/checkpoint.js";
import type { LmConfig } from "../model/config.js";
import type { ItemProjection } from "../model/graph/params.js";
import { initLoraWeights } from "../model/lora.js";
import type { Projection } from "../model/names.js";
import { type LoraAdapterConfig, type LoraWeights, loadLoraAdapter } from "../model/peft.js";
import { growForTokens, initTokenRows, type TrainableTokens } from "../model/peft-tokens.js";
import { newItemProjection } from "../model/resize.js";
import { type TokenizedExample, tokenizeExample } from "../model/tokenizer/tokenize.js";
import { LmTokenizer } from "../model/tokenizer/tokenizer.js";
import type { Weights } from "../model/weights.js";
import { checkObjectiveData, isPreference } from "../objectives/index.js";
import { RESUMABLE_KEYS, type TrainConfig } from "./config.js";
import { checkAborted, TrainingError } from "./errors.js";
import { foldProjection, readItemTable } from "./item-init.js";
import { withItemTokens } from "./items.js";
import { trainWeightsDtype } from "./memory.js";

export interface StartingPoint {
  modelDir: string;
  modelConfig: LmConfig;
  weights: Weights;
  tokenizer: LmTokenizer;
  /** LoRA runs: the adapter being trained (fresh, or the earlier stage's), with the token rows
   *  of item tokens the vocabulary gained. */
  adapter?: { config: LoraAdapterConfig; weights: LoraWeights; tokens?: TrainableTokens };
  /** `itemInit`: the item rows' projection (trained) and how many items had no SASRec row. */
  projection?: ItemProjection;
  itemInit?: { items: number; missing: number };
}

/**
 * Loads the model a run starts from, its tokenizer (with the run's item tokens: written to
 * `runDir`/tokenizer when they change it), and (LoRA) the adapter to train.
 */
export async function loadStartingPoint(
  config: TrainConfig,
  runDir?: string,
): Promise<StartingPoint> {
  const modelDir = config.initModel ?? config.model;
  // LoRA runs never change the base: a 16-bit one stays as stored (memory-mapped).
  const loaded = await loadCheckpoint(modelDir, { weightsDtype: trainWeightsDtype(config) });
  const earlier = config.lora && config.initAdapter ? await loadAdapter(config) : undefined;
  // An earlier adapter with token rows grew the vocabulary: its tokenizer, a base grown to fit.
  const grown = growForTokens(loaded.config, loaded.weights, earlier?.tokens);
  const tokenizerDir = [config.initAdapter, modelDir].find(
    (dir) => dir && existsSync(join(dir, "tokenizer.json")),
  );
  const start = await withItemTokens(
    config,
    { ...grown, tokenizer: await LmTokenizer.load(tokenizerDir ?? config.model) },
    runDir,
  );
  const { config: modelConfig, weights, tokenizer, added } = start;
  if (config.itemInit && !added)
    throw new TrainingError(
      `--item-init ${config.itemInit}: the starting model already has item tokens (${tokenizer.dir}); item-init applies to the run that adds them`,
    );
  let adapter: StartingPoint["adapter"];
  if (config.lora) {
    adapter = earlier ?? {
      config: {
        r: config.lora.r,
        loraAlpha: config.lora.alpha,
        loraDropout: config.lora.dropout,
        targetModules: [...config.lora.targets],
        baseModelNameOrPath: config.model,
        useRslora: false,
        extra: {},
      },
      weights: initLoraWeights(
        modelConfig,
        config.lora.targets as Projection[],
        config.lora.r,
        config.seed,
      ),
    };
    // Added item tokens: their rows are trained beside the factors (PEFT trainable tokens).
    if (added && !adapter.tokens)
      adapter = { ...adapter, tokens: initTokenRows(modelConfig, weights, added.ids) };
  }
  let projection: ItemProjection | undefined;
  let itemInit: StartingPoint["itemInit"];
  if (config.itemInit && added) {
    const table = await readItemTable(config.itemInit, added.items);
    projection = newItemProjection(modelConfig, added.ids, table, config.seed);
    // Step 0's rows written in, so the reference and a step-0 checkpoint are the projected model.
    foldProjection(projection, { weights, tokens: adapter?.tokens });
    itemInit = { items: added.items.length, missing: table.missing };
  }
  return { modelDir, modelConfig, weights, tokenizer, adapter, projection, itemInit };
}

/** The earlier stage's adapter (`initAdapter`), checked against the run's LoRA settings. */
async function loadAdapter(config: TrainConfig) {
  const dir = config.initAdapter!;
  const loaded = await loadLoraAdapter(dir);
  const lora = config.lora!;
  if (loaded.config.r !== lora.r || loaded.config.loraAlpha !== lora.alpha) {
    throw new TrainingError(
      `${dir}: adapter has r=${loaded.config.r}, alpha=${loaded.config.loraAlpha}; the run asks for r=${lora.r}, alpha=${lora.alpha}`,
    );
  }
  return { ...loaded, config: { ...loaded.config, baseModelNameOrPath: config.model } };
}

/** Lets pending signals (Ctrl-C) be handled between synchronous chunks of work. */
const yieldToEvents = () => new Promise<void>((resolve) => setImmediate(resolve));

export interface TrainingData {
  dataset: PreparedDataset;
  /** Number of training examples (after --max-examples); the loop's order runs over these. */
  trainCount: number;
  /** The training examples the run will visit, tokenized, by index into the split. */
  train: Map<number, TokenizedExample>;
  /** Validation examples, as read (the evaluator tokenizes them itself) and tokenized (loss). */
  validRaw: Example[];
  validSet: TokenizedExample[];
}

export interface DataOptions {
  /** Which training examples (indices) the run will visit, given how many there are. */
  visited: (trainCount: number) => number[];
  signal?: AbortSignal;
  quiet?: boolean;
  /** Check the dataset files' sha256 against the manifest (default true; counts always are). */
  verify?: boolean;
}

/**
 * Reads the splits, checks them against the objective, and tokenizes only the training
 * examples the run will visit (and the validation examples), with progress and Ctrl-C checks.
 */
export async function loadTrainingData(
  config: TrainConfig,
  tokenizer: LmTokenizer,
  vocabSize: number,
  K: number,
  options: DataOptions,
): Promise<TrainingData> {
  const load = { verify: options.verify };
  const dataset = await loadPrepared(config.data, load);
  let trainRaw = await loadExamples(config.data, "train", load);
  if (config.maxExamples) trainRaw = trainRaw.slice(0, config.maxExamples);
  const validRaw = (await loadExamples(config.data, "valid", load)).slice(0, config.evalExamples);
  if (trainRaw.length === 0) throw new TrainingError(`${config.data}: no training examples`);
  checkData(config, trainRaw, K);
  checkAborted(options.signal, "data loading");
  const visited = options.visited(trainRaw.length);
  const cache = new Map<string, number[]>();
  const tok = (e: Example) => {
    const t = tokenizeExample(tokenizer, e, { maxPromptTokens: config.maxPromptTokens }, cache);
    const bad = [t.prompt, ...t.answers].flat().find((id) => id >= vocabSize);
    if (bad !== undefined) {
      throw new TrainingError(
        `token id ${bad} ≥ the model's vocabulary (${vocabSize}): tokenizer and model do not match`,
      );
    }
    return t;
  };
  const todo = [...visited.map((i) => trainRaw[i]), ...validRaw];
  const progress = startProgress("tokenize", todo.length, options.quiet ?? false);
  const tokenized: TokenizedExample[] = [];
  const chunk = 256;
  for (let i = 0; i < todo.length; i += chunk) {
    await yieldToEvents();
    checkAborted(options.signal, "tokenization");
    for (const e of todo.slice(i, i + chunk)) tokenized.push(tok(e));
    progress.tick(Math.min(chunk, todo.length - i));
  }
  progress.done();
  const train = new Map<number, TokenizedExample>();
  for (const [j, index] of visited.entries()) train.set(index, tokenized[j]);
  return {
    dataset,
    trainCount: trainRaw.length,
    train,
    validRaw,
    validSet: tokenized.slice(visited.length),
  };
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
      const others = short.candidates.length - 1;
      throw new TrainingError(
        K <= others
          ? `${config.data}: example ${short.id} has ${short.negatives.length} negatives, the ${objective.type} objective needs ${K} (prepare the data with --negatives ${K})`
          : `${config.data}: example ${short.id} has ${short.negatives.length} negatives, the ${objective.type} objective needs ${K}, and its candidate list holds only ${others} items besides the target: use --negatives ${short.negatives.length}, or prepare the data with --candidates ${K + 1} --negatives ${K}`,
      );
    }
  }
  const problem = checkObjectiveData(objective, {
    rated: examples.some((e) => e.target.rating !== undefined),
    defaultSignals: config.recpoDefaultSignals,
    data: config.data,
  });
  if (problem) throw new TrainingError(problem);
}

/**
 * Checks that `runDir` may receive this run (nothing written): a started run there needs
 * `resume` and the same configuration. Returns whether the folder existed before.
 */
export async function checkRunDir(
  runDir: string,
  config: TrainConfig,
  resume: boolean,
): Promise<{ existed: boolean }> {
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
    const previous = JSON.parse(await readFile(configFile, "utf8")) as Record<string, unknown>;
    const now = config as Record<string, unknown>;
    const changed = [...new Set([...Object.keys(previous), ...Object.keys(now)])].filter(
      (key) =>
        !RESUMABLE_KEYS.includes(key) && JSON.stringify(previous[key]) !== JSON.stringify(now[key]),
    );
    if (changed.length > 0) {
      throw new TrainingError(
        `${runDir}: --resume with settings that differ from the run's config.json: ${changed.join(", ")}`,
      );
    }
  }
  return { existed: existsSync(runDir) };
}

/** Creates the run folder and writes its config.json (once setup has succeeded). */
export async function writeRunConfig(runDir: string, config: TrainConfig): Promise<void> {
  await mkdir(runDir, { recursive: true });
  await writeFileAtomic(join(runDir, "config.json"), `${JSON.stringify(config, null, 2)}\n`);
}

/** The last validation line a run wrote to metrics.jsonl (without its `split`), or null. */
export async function previousValidation<T>(runDir: string): Promise<T | null> {
  const file = join(runDir, "metrics.jsonl");
  if (!existsSync(file)) return null;
  const lines = (await readFile(file, "utf8")).split("\n").filter((l) => l.trim() !== "");
  for (let i = lines.length - 1; i >= 0; i--) {
    const { split, ...entry } = JSON.parse(lines[i]) as Record<string, unknown>;
    if (split === "valid") return entry as T;
  }
  return null;
}
