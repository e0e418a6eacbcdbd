// Reference log-probs, computed once per example with the frozen reference model (shared-prefix
// scoring) and cached next to the run; reused as long as data, model and answers are unchanged.

import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { writeFileAtomic } from "../io/atomic.js";
import type { LanguageModel } from "../model/lm.js";
import type { TokenizedExample } from "../model/tokenizer/tokenize.js";

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
  onProgress?: (done: number) => void,
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
  const chunk = 32;
  for (let i = 0; i < todo.length; i += chunk) {
    const part = todo.slice(i, i + chunk);
    const { logpSum } = await reference.score(
      part.map((e) => e.prompt),
      part.map((e) => e.answers.slice(0, answers)),
    );
    for (const [j, e] of part.entries()) out.set(e.id, logpSum[j]);
    onProgress?.(Math.min(i + chunk, todo.length));
  }
  const logps: Record<string, number[]> = { ...(cached?.key === key ? cached.logps : {}) };
  for (const [id, v] of out) logps[id] = v;
  await writeFileAtomic(file, JSON.stringify({ key, logps } satisfies ReferenceCache));
  return out;
}
