// Test-split quality of baseline runs on the given candidates, in two views: every test prompt,
// and each test user's last prompt. Several runs (seeds) give mean ± std over runs.
// Usage: node --import tsx bench/baseline-eval.ts DATA RUN [RUN...]  → one JSON line.

import { loadBaselineRun } from "../src/baselines/load.js";
import { lastPerUser } from "../src/baselines/sequences.js";
import { loadExamples } from "../src/data/dataset.js";
import { rankingMetrics, rankOf } from "../src/eval/ranking.js";

const [data, ...runs] = process.argv.slice(2);
if (!data || runs.length === 0) {
  process.stderr.write("usage: bench/baseline-eval.ts DATA RUN [RUN...]\n");
  process.exit(2);
}
const test = await loadExamples(data, "test");
const last = lastPerUser(test);
type Row = Record<string, number>;
const metricsOf = (ranks: number[]): Row => {
  const m = rankingMetrics(ranks);
  return { hr1: m.hr["1"], hr5: m.hr["5"], ndcg5: m.ndcg["5"], ndcg10: m.ndcg["10"], mrr: m.mrr };
};
const views: Record<string, Row[]> = { all: [], lastPerUser: [] };
for (const run of runs) {
  const model = await loadBaselineRun(run);
  const scores = await model.scoreCandidates(test);
  const ranks = test.map((e, i) => rankOf(scores[i], e.target.index));
  views.all.push(metricsOf(ranks));
  views.lastPerUser.push(metricsOf(last.map((i) => ranks[i])));
  await model.dispose();
}
const summary = (rows: Row[]) =>
  Object.fromEntries(
    Object.keys(rows[0]).map((k) => {
      const xs = rows.map((r) => r[k]);
      const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
      const std = Math.sqrt(
        xs.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, xs.length - 1),
      );
      return [k, { mean: Number(mean.toFixed(4)), std: Number(std.toFixed(4)) }];
    }),
  );
process.stdout.write(
  `${JSON.stringify({
    runs: runs.length,
    examples: { all: test.length, lastPerUser: last.length },
    all: summary(views.all),
    lastPerUser: summary(views.lastPerUser),
    perRun: views,
  })}\n`,
);
