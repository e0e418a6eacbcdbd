// Baseline run files: config.json (options + model sizes), checkpoints/{best,last} holding
// model.safetensors, optimizer.safetensors and state.json, all written atomically.

import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { withAtomicDir, writeFileAtomic } from "../io/atomic.js";
import { UserError } from "../io/errors.js";
import { readSafetensorsF32, withSafetensors, writeSafetensors } from "../io/safetensors.js";
import { type BaselineConfig, parseBaselineConfig } from "./config.js";
import type { ParamShapes, ParamValues } from "./params.js";
import type { ModelSizes } from "./programs.js";

/** The format tag of a baseline run's config.json. */
export const BASELINE_RUN_FORMAT = "prefrec-baseline-run-1";

/** Optimizer moments and step (the shape of train/optim.ts's AdamW state; baselines sit below train). */
export interface OptimizerState {
  step: number;
  hyper: { lr: number; beta1: number; beta2: number; eps: number; weightDecay: number };
  tensors: Record<string, Float32Array>;
}

/** Where the loop stands: enough to continue exactly. */
export interface BaselineState {
  /** Epoch of the next batch and its position (in units) within that epoch's order. */
  epoch: number;
  position: number;
  step: number;
  examples: number;
  bestHr1: number | null;
  bestEpoch: number | null;
  /** Validations since the best one. */
  stale: number;
  /** True once training ended (epochs done or early stop). */
  finished: boolean;
  elapsed: number;
  /** Loss × targets and targets so far in the current epoch (its mean training loss). */
  epochLoss: number;
  epochTargets: number;
}

/** What config.json holds. */
export interface RunFile {
  format: string;
  /** The model kind, also at the top level so a loader can dispatch without parsing options. */
  kind: BaselineConfig["kind"];
  config: BaselineConfig;
  sizes: ModelSizes;
  /** Hashes of the prepared dataset the run was trained on. */
  dataHashes?: Record<string, string>;
}

export async function writeRunFile(dir: string, run: RunFile): Promise<void> {
  await writeFileAtomic(join(dir, "config.json"), `${JSON.stringify(run, null, 2)}\n`);
}

/** Reads RUN/config.json of a baseline run; one-line errors for anything else. */
export async function readRunFile(dir: string): Promise<RunFile> {
  const file = join(dir, "config.json");
  if (!existsSync(file)) throw new UserError(`${dir}: not a run directory (no config.json)`);
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(await readFile(file, "utf8"));
  } catch (e) {
    throw new UserError(`${file}: invalid JSON: ${(e as Error).message}`);
  }
  if (raw.format !== BASELINE_RUN_FORMAT) {
    throw new UserError(
      `${file}: field format: expected ${BASELINE_RUN_FORMAT}, got ${JSON.stringify(raw.format)}`,
    );
  }
  const sizes = raw.sizes as ModelSizes | undefined;
  if (!sizes || !Number.isInteger(sizes.numItems) || !Number.isInteger(sizes.inputLen)) {
    throw new UserError(`${file}: field sizes: expected {numItems, inputLen} integers`);
  }
  const config = parseBaselineConfig(raw.config, file);
  return {
    format: BASELINE_RUN_FORMAT,
    kind: config.kind,
    config,
    sizes,
    dataHashes: raw.dataHashes as Record<string, string> | undefined,
  };
}

/** Whether a directory holds a baseline run (its config.json has the baseline format tag). */
export async function isBaselineRun(dir: string): Promise<boolean> {
  try {
    const raw = JSON.parse(await readFile(join(dir, "config.json"), "utf8"));
    return raw?.format === BASELINE_RUN_FORMAT;
  } catch {
    return false;
  }
}

/** Writes one checkpoint directory (replacing an earlier one). */
export async function saveBaselineCheckpoint(
  dir: string,
  shapes: ParamShapes,
  params: ParamValues,
  state: BaselineState,
  optimizer: OptimizerState | null,
): Promise<void> {
  await withAtomicDir(
    dir,
    async (tmp) => {
      await writeSafetensors(
        join(tmp, "model.safetensors"),
        Object.entries(shapes).map(([n, shape]) => [n, { shape, data: params.get(n)! }] as const),
      );
      if (optimizer) {
        await writeSafetensors(
          join(tmp, "optimizer.safetensors"),
          Object.entries(optimizer.tensors).map(
            ([n, data]) => [n, { shape: [data.length], data }] as const,
          ),
          { step: String(optimizer.step), hyper: JSON.stringify(optimizer.hyper) },
        );
      }
      await writeFileAtomic(join(tmp, "state.json"), `${JSON.stringify(state, null, 2)}\n`);
    },
    { replace: true },
  );
}

/** Reads a checkpoint's parameters, checking names and shapes against the model's. */
export async function loadBaselineParams(dir: string, shapes: ParamShapes): Promise<ParamValues> {
  const file = join(dir, "model.safetensors");
  if (!existsSync(file)) throw new UserError(`${dir}: no model.safetensors`);
  const tensors = await readSafetensorsF32(file);
  const out: ParamValues = new Map();
  for (const [name, shape] of Object.entries(shapes)) {
    const t = tensors.get(name);
    if (!t) throw new UserError(`${file}: missing tensor ${name}`);
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      throw new UserError(`${file}: tensor ${name} has shape [${t.shape}], expected [${shape}]`);
    }
    out.set(name, t.data);
  }
  return out;
}

/** Reads a checkpoint's loop state and optimizer moments. */
export async function loadBaselineState(
  dir: string,
): Promise<{ state: BaselineState; optimizer: OptimizerState | null }> {
  const state = JSON.parse(await readFile(join(dir, "state.json"), "utf8")) as BaselineState;
  const file = join(dir, "optimizer.safetensors");
  if (!existsSync(file)) return { state, optimizer: null };
  const tensors = await readSafetensorsF32(file);
  const meta = await withSafetensors(file, async (st) => st.header.metadata ?? {});
  const moments: Record<string, Float32Array> = {};
  for (const [n, t] of tensors) moments[n] = t.data;
  return {
    state,
    optimizer: { step: Number(meta.step), hyper: JSON.parse(meta.hyper ?? "{}"), tensors: moments },
  };
}
