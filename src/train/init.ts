// `--init RUN`: a later stage starts from an earlier run's best (else last) checkpoint, with
// the same base model and LoRA settings.

import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { UserError } from "../io/errors.js";
import type { TrainConfig } from "./config.js";

export interface InitFromRun {
  model: string;
  initAdapter: string | null;
  initModel: string | null;
  lora: TrainConfig["lora"];
}

/** The checkpoint directory a later stage should start from. */
export function runCheckpointDir(runDir: string): string {
  const best = join(runDir, "checkpoints", "best");
  if (existsSync(join(best, "state.json"))) return best;
  const last = join(runDir, "checkpoints", "last");
  if (existsSync(join(last, "state.json"))) return last;
  throw new UserError(
    `${runDir}: no checkpoint (checkpoints/best or checkpoints/last) to start from`,
  );
}

/** Reads an earlier run and says how to continue from it. */
export async function initFromRun(runDir: string): Promise<InitFromRun> {
  const file = join(runDir, "config.json");
  if (!existsSync(file)) throw new UserError(`${runDir}: not a training run (no config.json)`);
  const previous = JSON.parse(await readFile(file, "utf8")) as TrainConfig;
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
  checkpoint: "best" | "last" = "best",
): Promise<{ modelDir: string; adapterDir: string | null; tokenizerDir: string }> {
  const configFile = join(target, "config.json");
  if (!existsSync(join(target, "checkpoints"))) {
    if (!existsSync(configFile))
      throw new UserError(`${target}: neither a training run nor a model directory`);
    return { modelDir: target, adapterDir: null, tokenizerDir: target };
  }
  const run = JSON.parse(await readFile(configFile, "utf8")) as TrainConfig;
  let dir = join(target, "checkpoints", checkpoint);
  if (!existsSync(join(dir, "state.json"))) {
    if (checkpoint === "best") dir = runCheckpointDir(target);
    else throw new UserError(`${target}: no ${checkpoint} checkpoint`);
  }
  if (run.lora) {
    const base = run.initModel ?? run.model;
    return {
      modelDir: base,
      adapterDir: join(dir, "adapter"),
      tokenizerDir: existsSync(join(base, "tokenizer.json")) ? base : run.model,
    };
  }
  return { modelDir: join(dir, "model"), adapterDir: null, tokenizerDir: join(dir, "model") };
}
