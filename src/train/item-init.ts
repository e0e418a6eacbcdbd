// `--item-init RUN` (LLaRA): the item tokens' input rows come from a trained SASRec's item
// table through a learned projection. This reads that table, in the order of the run's item
// tokens (matched by item id; items the SASRec run lacks, and `<item_unk>`, get its mean row),
// and folds the projection into plain rows whenever a checkpoint is written.

import { join } from "node:path";
import { loadBaselineParams } from "../baselines/checkpoint.js";
import { baselineCheckpointDir, readRunFile } from "../baselines/index.js";
import { type CatalogItem, loadPrepared } from "../data/index.js";
import { UserError } from "../io/errors.js";
import type { ItemProjection } from "../model/graph/params.js";
import type { TrainableTokens } from "../model/peft-tokens.js";
import { projectItemRows } from "../model/resize.js";
import type { Weights } from "../model/weights.js";

/** A SASRec item table in the order of a catalog's item tokens. */
export interface ItemTable {
  /** [count + 1, dim]: one row per catalog item, then `<item_unk>`'s. */
  data: Float32Array;
  dim: number;
  /** Catalog items the SASRec run has no row for (they get the mean row). */
  missing: number;
}

/** Reads `run`'s SASRec item table for `items` (the LM run's catalog); one-line errors. */
export async function readItemTable(
  run: string,
  items: readonly CatalogItem[],
): Promise<ItemTable> {
  const where = `--item-init ${run}`;
  const fail = (message: string) => new UserError(`${where}: ${message}`);
  const file = await readRunFile(run).catch((error: Error) => {
    throw fail(`not a SASRec run (${error.message})`);
  });
  if (file.kind !== "sasrec") throw fail(`a ${file.kind} run, not SASRec`);
  const { numItems } = file.sizes;
  const dim = file.config.hidden;
  // A missing checkpoint or an item table of another shape: one line naming it.
  const params = await (async () =>
    loadBaselineParams(baselineCheckpointDir(run), {
      item_emb: [numItems, dim],
    }))().catch((error: Error) => {
    throw fail(error.message);
  });
  const table = params.get("item_emb")!;
  const theirs = await loadPrepared(file.config.data, { verify: false }).catch((error: Error) => {
    throw fail(`its dataset ${file.config.data} cannot be read (${error.message})`);
  });
  if (theirs.items.length !== numItems)
    throw fail(`item_emb has ${numItems} rows, its dataset ${theirs.items.length} items`);
  const rowOf = new Map(theirs.items.map((item) => [item.id, item.item]));
  const mean = new Float32Array(dim);
  for (let i = 0; i < numItems; i++)
    for (let k = 0; k < dim; k++) mean[k] += table[i * dim + k] / numItems;
  const data = new Float32Array((items.length + 1) * dim);
  let missing = 0;
  // Row i is the item with dense id i (its token is firstId + i).
  for (const item of items) {
    const row = rowOf.get(item.id);
    if (row === undefined) missing++;
    data.set(
      row === undefined ? mean : table.subarray(row * dim, (row + 1) * dim),
      item.item * dim,
    );
  }
  data.set(mean, items.length * dim);
  return { data, dim, missing };
}

/**
 * Writes the projection's current rows into plain rows: the adapter's token rows (LoRA) or the
 * weight itself (full fine-tuning), so saved checkpoints are standard HF/PEFT directories.
 */
export function foldProjection(
  p: ItemProjection,
  target: { weights: Weights; tokens?: TrainableTokens },
): void {
  const rows = projectItemRows(p);
  const t = target.tokens?.get(p.module);
  if (t) {
    if (t.indices.length !== p.indices.length || t.indices.some((id, r) => id !== p.indices[r]))
      throw new Error(`foldProjection: the token rows of ${p.module} are not the projected ones`);
    t.rows.data.set(rows);
    return;
  }
  const w = target.weights.get(`${p.module}.weight`);
  if (!w || w.stored) throw new Error(`foldProjection: ${p.module}.weight is not a float32 weight`);
  const d = w.shape[1];
  p.indices.forEach((id, r) => {
    w.data.set(rows.subarray(r * d, (r + 1) * d), id * d);
  });
}

/** The file of a run checkpoint that holds the projection (to resume it). */
export const projectionFile = (checkpointDir: string) =>
  join(checkpointDir, "item_projection.safetensors");
