// The two views of docs/results.md, shared by the evaluation benches: every test prompt, and each
// test user's last prompt (the S-DPO paper's view), mean ± std over several runs (seeds).

import { lastPerUser } from "../src/baselines/sequences.js";
import type { Example } from "../src/data/types.js";
import { rankingMetrics } from "../src/eval/ranking.js";

type Row = Record<string, number>;

/** HR@1, HR@5, NDCG@5, NDCG@10 and MRR of 1-based target ranks. */
function metricsOf(ranks: number[]): Row {
  const m = rankingMetrics(ranks);
  return { hr1: m.hr["1"], hr5: m.hr["5"], ndcg5: m.ndcg["5"], ndcg10: m.ndcg["10"], mrr: m.mrr };
}

/** Mean and sample std of each metric over runs, to 4 decimals. */
function summary(rows: Row[]) {
  return Object.fromEntries(
    Object.keys(rows[0]).map((k) => {
      const xs = rows.map((r) => r[k]);
      const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
      const std = Math.sqrt(
        xs.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, xs.length - 1),
      );
      return [k, { mean: Number(mean.toFixed(4)), std: Number(std.toFixed(4)) }];
    }),
  );
}

/** One JSON line with both views for each run's target ranks (one rank per test example). */
export function printViews(test: Example[], ranksPerRun: number[][]): void {
  const last = lastPerUser(test);
  const views: Record<string, Row[]> = {
    all: ranksPerRun.map(metricsOf),
    lastPerUser: ranksPerRun.map((ranks) => metricsOf(last.map((i) => ranks[i]))),
  };
  process.stdout.write(
    `${JSON.stringify({
      runs: ranksPerRun.length,
      examples: { all: test.length, lastPerUser: last.length },
      all: summary(views.all),
      lastPerUser: summary(views.lastPerUser),
      perRun: views,
    })}\n`,
  );
}
