// Views of an evaluation over several runs (seeds): the target ranks an evaluation wrote to its
// predictions.jsonl, the "last prompt of each test user" view (the S-DPO paper's: one prompt per
// user), and mean ± sample std over runs. Shared by experiments with seeds and the benches.

import { readFile } from "node:fs/promises";
import { lastPerUser } from "../baselines/sequences.js";
import type { Example } from "../data/types.js";
import { UserError } from "../io/errors.js";
import { type RankingMetrics, rankingMetrics } from "./ranking.js";

/** Mean and sample standard deviation (n − 1; 0 for a single value, mean 0 for none). */
export function meanStd(values: readonly number[]): { mean: number; std: number; n: number } {
  const n = values.length;
  const mean = values.reduce((s, v) => s + v, 0) / Math.max(1, n);
  const variance = n > 1 ? values.reduce((s, v) => s + (v - mean) ** 2, 0) / (n - 1) : 0;
  return { mean, std: Math.sqrt(variance), n };
}

/**
 * The target's rank by summed log-prob (ranking protocol) of each example, in `examples` order,
 * read from an evaluation's predictions.jsonl; null when the file has no ranking for some example
 * (the protocol did not run). A malformed line is a one-line UserError naming file and line.
 */
export async function readRanks(
  file: string,
  examples: readonly Example[],
): Promise<number[] | null> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    throw new UserError(`${file}: cannot read (${(error as NodeJS.ErrnoException).code ?? error})`);
  }
  const rankById = new Map<string, number>();
  for (const [n, line] of text.split("\n").entries()) {
    if (!line.trim()) continue;
    let p: { id?: unknown; ranking?: { rankSum?: unknown } };
    try {
      p = JSON.parse(line);
    } catch {
      throw new UserError(`${file}:${n + 1}: not a JSON line (truncated file?)`);
    }
    const rank = p?.ranking?.rankSum;
    if (typeof p?.id === "string" && typeof rank === "number") rankById.set(p.id, rank);
  }
  const ranks: number[] = [];
  for (const e of examples) {
    const r = rankById.get(e.id);
    if (r === undefined) return null;
    ranks.push(r);
  }
  return ranks;
}

/** Ranking metrics over each user's last example only (`ranks[i]` belongs to `examples[i]`). */
export function lastPerUserMetrics(
  examples: readonly Example[],
  ranks: readonly number[],
): RankingMetrics {
  return rankingMetrics(lastPerUser(examples).map((i) => ranks[i]));
}
