// Opens a trained baseline run (RUN/config.json + the best, else last, checkpoint) as a
// Recommender, for the evaluator, experiments and the server.

import { existsSync } from "node:fs";
import { basename, join } from "node:path";
import type { Runtime } from "../graph/index.js";
import { UserError } from "../io/errors.js";
import type { Recommender } from "../recommender.js";
import { isBaselineRun, loadBaselineParams, readRunFile } from "./checkpoint.js";
import { BaselineModel } from "./model.js";
import { modelShapes } from "./programs.js";

export { isBaselineRun };

/** The checkpoint a run is evaluated with: best when validation ran, else last. */
export function baselineCheckpointDir(dir: string): string {
  for (const which of ["best", "last"]) {
    const d = join(dir, "checkpoints", which);
    if (existsSync(join(d, "model.safetensors"))) return d;
  }
  throw new UserError(`${dir}: no checkpoint yet (checkpoints/best or checkpoints/last)`);
}

/** Loads a baseline run as a Recommender (scoreCandidates and scoreAll). */
export async function loadBaselineRun(
  dir: string,
  options: { runtime?: Runtime } = {},
): Promise<BaselineModel & Recommender> {
  const run = await readRunFile(dir);
  const ckpt = baselineCheckpointDir(dir);
  const shapes =
    run.config.kind === "pop"
      ? { counts: [run.sizes.numItems] }
      : modelShapes(run.config, run.sizes);
  const params = await loadBaselineParams(ckpt, shapes);
  return new BaselineModel(run.config, run.sizes, params, {
    runtime: options.runtime,
    name: basename(dir),
  });
}
