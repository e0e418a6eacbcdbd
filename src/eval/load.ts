// What a directory holds and how to load it as a Recommender: a training run (its best or last
// checkpoint: a LoRA adapter on its base, or a full model), a plain model directory (HF layout),
// or a classic baseline run (config.json with `kind`). Also where a later stage starts from.
// This module reads run folders without importing train/ (eval sits below train).

import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { loadBaselineRun } from "../baselines/load.js";
import { Runtime } from "../graph/index.js";
import { UserError } from "../io/errors.js";
import type { WeightsDtype } from "../model/checkpoint.js";
import { LanguageModel } from "../model/lm.js";
import { LmRecommender } from "../model/lm-recommender.js";
import { LmTokenizer } from "../model/tokenizer/tokenizer.js";
import type { Recommender } from "../recommender.js";

/** Classic recommender kinds a baseline run's config.json names in `kind`. */
export const BASELINE_KINDS = ["sasrec", "gru4rec", "caser", "pop"] as const;

/** The LoRA settings a run records (the training config's `lora`, read back without train/). */
export interface RunLora {
  r: number;
  alpha: number;
  dropout: number;
  targets: string[];
}

/** The fields of a training run's config.json the loader needs. */
interface RunConfigView {
  model: string;
  initModel?: string | null;
  lora?: RunLora | null;
}

export interface InitFromRun {
  model: string;
  initAdapter: string | null;
  initModel: string | null;
  lora: RunLora | null;
}

export type CheckpointChoice = "best" | "last" | "auto";

export interface ResolvedModel {
  modelDir: string;
  adapterDir: string | null;
  tokenizerDir: string;
  /** The run checkpoint used (null for a model directory). */
  checkpoint: string | null;
}

/** What a directory is, from its files alone. */
export type TargetKind = "lm-run" | "model" | "baseline-run" | "none";

async function readJsonObject(file: string): Promise<Record<string, unknown>> {
  let value: unknown;
  try {
    value = JSON.parse(await readFile(file, "utf8"));
  } catch (error) {
    throw new UserError(`${file}: not valid JSON (${(error as Error).message})`);
  }
  if (value === null || typeof value !== "object" || Array.isArray(value))
    throw new UserError(`${file}: expected a JSON object`);
  return value as Record<string, unknown>;
}

/** Says what `dir` holds; throws a one-line UserError when it does not exist. */
export async function targetKind(dir: string): Promise<TargetKind> {
  if (!existsSync(dir)) throw new UserError(`${dir} does not exist`);
  const configFile = join(dir, "config.json");
  if (!existsSync(configFile)) return existsSync(join(dir, "checkpoints")) ? "lm-run" : "none";
  const config = await readJsonObject(configFile);
  if (
    typeof config.kind === "string" &&
    (BASELINE_KINDS as readonly string[]).includes(config.kind)
  )
    return "baseline-run";
  if (typeof config.model_type === "string") return "model";
  if (typeof config.model === "string" && typeof config.objective === "object") return "lm-run";
  return "none";
}

const notARun = (dir: string) =>
  new UserError(
    `${dir} is not a prefrec run or model directory: no config.json / checkpoint found`,
  );

function checkpointsPresent(runDir: string): string[] {
  return ["best", "last"].filter((c) => existsSync(join(runDir, "checkpoints", c, "state.json")));
}

/**
 * The checkpoint directory of a run: `best` or `last` exactly as asked (an error naming what
 * exists otherwise), or with "auto" the best, else the last (a run validated never has no best).
 */
export function runCheckpointDir(runDir: string, which: CheckpointChoice = "auto"): string {
  const present = checkpointsPresent(runDir);
  if (which !== "auto") {
    if (present.includes(which)) return join(runDir, "checkpoints", which);
    throw new UserError(
      present.length === 0
        ? `${runDir}: the run has no checkpoint yet (training failed or never saved one)`
        : `${runDir}: no ${which} checkpoint${which === "best" ? " (no validation ran)" : ""}; it has: ${present.join(", ")} (use --checkpoint ${present[0]})`,
    );
  }
  if (present.length === 0)
    throw new UserError(
      `${runDir}: no checkpoint (checkpoints/best or checkpoints/last); the run failed or never saved one`,
    );
  return join(runDir, "checkpoints", present[0]);
}

async function readRunConfig(runDir: string): Promise<RunConfigView> {
  const file = join(runDir, "config.json");
  if (!existsSync(file)) throw new UserError(`${runDir}: not a training run (no config.json)`);
  const config = await readJsonObject(file);
  if (typeof config.model !== "string")
    throw new UserError(`${file}: not a training run's config (no "model" field)`);
  return config as unknown as RunConfigView;
}

/** Reads an earlier run and says how a later stage continues from it (best, else last). */
export async function initFromRun(runDir: string): Promise<InitFromRun> {
  const previous = await readRunConfig(runDir);
  const dir = runCheckpointDir(runDir);
  return previous.lora
    ? {
        model: previous.model,
        initAdapter: join(dir, "adapter"),
        initModel: null,
        lora: previous.lora,
      }
    : { model: previous.model, initAdapter: null, initModel: join(dir, "model"), lora: null };
}

/** The model directory and adapter (if any) of a run's checkpoint, or of a plain model directory. */
export async function resolveModel(
  target: string,
  checkpoint: CheckpointChoice = "auto",
): Promise<ResolvedModel> {
  const kind = await targetKind(target);
  if (kind === "model")
    return { modelDir: target, adapterDir: null, tokenizerDir: target, checkpoint: null };
  if (kind === "baseline-run")
    throw new UserError(`${target} is a classic baseline run, not a language model`);
  if (kind === "none") throw notARun(target);
  const run = await readRunConfig(target);
  const dir = runCheckpointDir(target, checkpoint);
  if (run.lora) {
    const base = run.initModel ?? run.model;
    const adapterDir = join(dir, "adapter");
    // An adapter over item tokens carries the tokenizer that added them.
    const tokenizerDir = [adapterDir, base].find((d) => existsSync(join(d, "tokenizer.json")));
    return { modelDir: base, adapterDir, tokenizerDir: tokenizerDir ?? run.model, checkpoint: dir };
  }
  const model = join(dir, "model");
  return { modelDir: model, adapterDir: null, tokenizerDir: model, checkpoint: dir };
}

export interface LoadOptions {
  checkpoint?: CheckpointChoice;
  /** A PEFT adapter to put on a model directory (overrides a run's own). */
  adapter?: string;
  runtime?: Runtime;
  /** LMs: longest prompt in tokens (default 512). */
  maxPromptTokens?: number;
  /** LMs: frozen weights as stored (16-bit stays 16-bit, memory-mapped; default) or float32. */
  weightsDtype?: WeightsDtype;
}

export interface Loaded {
  recommender: Recommender;
  /** Language models: the model and tokenizer behind the recommender (generation protocols). */
  lm?: LanguageModel;
  tokenizer?: LmTokenizer;
  /** Where the weights came from (LMs), for reports. */
  model: { dir: string; adapter: string | null; checkpoint: string | null };
}

/** Classic baseline runs: the one dispatch point for them (src/baselines/load.ts). */
async function loadBaseline(dir: string, runtime?: Runtime): Promise<Recommender> {
  return loadBaselineRun(dir, { runtime });
}

/** What `dir` is, or a one-line UserError when it is no run or model (a cheap first check). */
export async function checkTarget(dir: string): Promise<Exclude<TargetKind, "none">> {
  const kind = await targetKind(dir);
  if (kind === "none") throw notARun(dir);
  return kind;
}

/** Loads whatever `dir` holds as a Recommender (dispatching on what the directory is). */
export async function loadRecommender(dir: string, options: LoadOptions = {}): Promise<Loaded> {
  const kind = await checkTarget(dir);
  if (kind === "baseline-run") {
    if (options.adapter) throw new UserError(`--adapter applies to language models, not ${dir}`);
    return {
      recommender: await loadBaseline(dir, options.runtime),
      model: { dir, adapter: null, checkpoint: null },
    };
  }
  const resolved = await resolveModel(dir, options.checkpoint ?? "auto");
  const adapterDir = options.adapter ?? resolved.adapterDir;
  const lm = await LanguageModel.load(resolved.modelDir, {
    adapter: adapterDir ?? undefined,
    runtime: options.runtime ?? new Runtime(),
    weightsDtype: options.weightsDtype,
  });
  const ownTokenizer = options.adapter && existsSync(join(options.adapter, "tokenizer.json"));
  const tokenizer = await LmTokenizer.load(ownTokenizer ? options.adapter! : resolved.tokenizerDir);
  const recommender = new LmRecommender(lm, tokenizer, {
    maxPromptTokens: options.maxPromptTokens,
    name: dir,
    details: { modelDir: resolved.modelDir, adapter: adapterDir, checkpoint: resolved.checkpoint },
  });
  return {
    recommender,
    lm,
    tokenizer,
    model: { dir: resolved.modelDir, adapter: adapterDir, checkpoint: resolved.checkpoint },
  };
}
