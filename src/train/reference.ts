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

/** Hash identifying what the reference log-probs depend on. */
export function referenceKey(parts: readonly unknown[]): string {
  return createHash("sha256").update(JSON.stringify(parts)).digest("hex").slice(0, 32);
}

/**
 * Returns the reference log-probs of the first `answers` answers of every example, from `file`
 * when it was written for the same key, else computed with `reference` and saved there.
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
  // Batches of 8 (the scorer's own batch): Ctrl-C is seen between them, within about a second.
  const chunk = 8;
  for (let i = 0; i < todo.length; i += chunk) {
    checkAborted(options.signal, "reference scoring");
    const part = todo.slice(i, i + chunk);
    const { logpSum } = await reference.score(
      part.map((e) => e.prompt),
      part.map((e) => e.answers.slice(0, answers)),
    );
    for (const [j, e] of part.entries()) out.set(e.id, logpSum[j]);
    options.onProgress?.(Math.min(i + chunk, todo.length), todo.length);
  }
  const logps: Record<string, number[]> = { ...(cached?.key === key ? cached.logps : {}) };
  for (const [id, v] of out) logps[id] = v;
  await writeFileAtomic(file, JSON.stringify({ key, logps } satisfies ReferenceCache));
  return out;
}
