// The two views of docs/results.md, shared by the evaluation benches: every test prompt, and each
// test user's last prompt (the S-DPO paper's view), mean ± std over several runs (seeds).

import { lastPerUser } from "../src/baselines/sequences.js";
import type { Example } from "../src/data/types.js";
import { type RankingMetrics, rankingMetrics } from "../src/eval/ranking.js";
import { lastPerUserMetrics, meanStd } from "../src/eval/views.js";

type Row = Record<string, number>;

/** HR@1, HR@5, NDCG@5, NDCG@10 and MRR of ranking metrics. */
function pick(m: RankingMetrics): Row {
  return { hr1: m.hr["1"], hr5: m.hr["5"], ndcg5: m.ndcg["5"], ndcg10: m.ndcg["10"], mrr: m.mrr };
}

/** Mean and sample std of each metric over runs, to 4 decimals. */
function summary(rows: Row[]) {
  return Object.fromEntries(
    Object.keys(rows[0]).map((k) => {
      const { mean, std } = meanStd(rows.map((r) => r[k]));
      return [k, { mean: Number(mean.toFixed(4)), std: Number(std.toFixed(4)) }];
    }),
  );
}

/** One JSON line with both views for each run's target ranks (one rank per test example). */
export function printViews(test: Example[], ranksPerRun: number[][]): void {
  const last = lastPerUser(test);
  const views: Record<string, Row[]> = {
    all: ranksPerRun.map((ranks) => pick(rankingMetrics(ranks))),
    lastPerUser: ranksPerRun.map((ranks) => pick(lastPerUserMetrics(test, ranks))),
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
