// Reference log-probs, computed once per example with the frozen reference model (shared-prefix
// scoring) and cached next to the run; reused as long as data, model and answers are unchanged.
// Only the examples a run visits are scored (the cache grows as later runs visit more).

import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { writeFileAtomic } from "../io/atomic.js";
import type { LanguageModel } from "../model/lm.js";
import type { TokenizedExample } from "../model/tokenizer/tokenize.js";
import { checkAborted } from "./errors.js";

export interface ReferenceCache {
  key: string;
  /** example id → reference log-probs of its answers (target first). */
  logps: Record<string, number[]>;
}

/**
 * Reference log-probs are computed in batches of this many consecutive examples (training
 * examples in file order, then validation examples): padding, and so the last bits of every
 * value, depend on the batch, so a run scores whole batches (`referenceBatches`) and its values
 * never depend on which other examples it visits.
 */
export const REFERENCE_BATCH = 8;

/**
 * The training examples whose reference log-probs a run computes: the whole batch of each
 * visited one, and (with validation) the training examples sharing a batch with the first
 * validation examples.
 */
export function referenceBatches(
  visited: readonly number[],
  n: number,
  withValid: boolean,
): number[] {
  const out = new Set<number>();
  const addBatch = (b: number) => {
    for (let i = b * REFERENCE_BATCH; i < Math.min(n, (b + 1) * REFERENCE_BATCH); i++) out.add(i);
  };
  for (const i of visited) addBatch(Math.floor(i / REFERENCE_BATCH));
  if (withValid && n % REFERENCE_BATCH !== 0) addBatch(Math.floor(n / REFERENCE_BATCH));
  return [...out].sort((a, b) => a - b);
}

/** Hash identifying what the reference log-probs depend on. */
export function referenceKey(parts: readonly unknown[]): string {
  return createHash("sha256").update(JSON.stringify(parts)).digest("hex").slice(0, 32);
}

/**
 * Returns the reference log-probs of the first `answers` answers of every example, from `file`
 * when it was written for the same key, else computed with `reference` and saved there.
 * `examples` come in whole REFERENCE_BATCH batches, in order (see referenceBatches).
 */
export async function referenceLogps(
  file: string,
  key: string,
  examples: readonly TokenizedExample[],
  answers: number,
  reference: LanguageModel,
  options: { onProgress?: (done: number, total: number) => void; signal?: AbortSignal } = {},
): Promise<Map<string, number[]>> {
  const cached = await readFile(file, "utf8")
    .then((text) => JSON.parse(text) as ReferenceCache)
    .catch(() => null);
  const out = new Map<string, number[]>();
  if (cached && cached.key === key) {
    for (const e of examples) {
      const v = cached.logps[e.id];
      if (v && v.length >= answers) out.set(e.id, v.slice(0, answers));
    }
    if (out.size === examples.length) return out;
  }
  const todo = examples.filter((e) => !out.has(e.id));
  // One batch at a time: Ctrl-C is seen between them, within about a second.
  const chunk = REFERENCE_BATCH;
  for (let i = 0; i < todo.length; i += chunk) {
    checkAborted(options.signal, "reference scoring");
    const part = todo.slice(i, i + chunk);
    const { logpSum } = await reference.score(
      part.map((e) => e.prompt),
      part.map((e) => e.answers.slice(0, answers)),
      { batchSize: REFERENCE_BATCH },
    );
    for (const [j, e] of part.entries()) out.set(e.id, logpSum[j]);
    options.onProgress?.(Math.min(i + chunk, todo.length), todo.length);
  }
  const logps: Record<string, number[]> = { ...(cached?.key === key ? cached.logps : {}) };
  for (const [id, v] of out) logps[id] = v;
  await writeFileAtomic(file, JSON.stringify({ key, logps } satisfies ReferenceCache));
  return out;
}
