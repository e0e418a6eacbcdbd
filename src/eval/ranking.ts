// Ranking protocol: every candidate scored by the log-likelihood of its answer given the prompt;
// HR@k, NDCG@k and MRR from the target's rank. Ties are broken against the target (a candidate
// scoring exactly as the target ranks above it), so a constant scorer never looks good.

export const RANK_CUTOFFS = [1, 3, 5, 10] as const;

export interface RankingMetrics {
  examples: number;
  hr: Record<string, number>; // "1", "3", "5", "10"
  ndcg: Record<string, number>; // "5", "10"
  mrr: number;
}

/** 1-based rank of candidate `target` under `scores` (higher is better; ties rank above the target). */
export function rankOf(scores: readonly number[], target: number): number {
  const t = scores[target];
  if (!Number.isFinite(t)) return scores.length;
  let rank = 1;
  scores.forEach((s, i) => {
    if (i !== target && s >= t) rank++;
  });
  return rank;
}

/** Metrics from the target ranks of a set of examples. */
export function rankingMetrics(ranks: readonly number[]): RankingMetrics {
  const n = ranks.length;
  const mean = (f: (r: number) => number) =>
    n === 0 ? 0 : ranks.reduce((s, r) => s + f(r), 0) / n;
  const hr: Record<string, number> = {};
  for (const k of RANK_CUTOFFS) hr[k] = mean((r) => (r <= k ? 1 : 0));
  const ndcg: Record<string, number> = {};
  for (const k of [5, 10]) ndcg[k] = mean((r) => (r <= k ? 1 / Math.log2(r + 1) : 0));
  return { examples: n, hr, ndcg, mrr: mean((r) => 1 / r) };
}
