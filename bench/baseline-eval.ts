// Test-split quality of baseline runs on the given candidates, in two views: every test prompt,
// and each test user's last prompt. Several runs (seeds) give mean ± std over runs.
// Usage: node --import tsx bench/baseline-eval.ts DATA RUN [RUN...]  → one JSON line.

import { loadBaselineRun } from "../src/baselines/load.js";
import { loadExamples } from "../src/data/dataset.js";
import { rankOf } from "../src/eval/ranking.js";
import { printViews } from "./views.js";

const [data, ...runs] = process.argv.slice(2);
if (!data || runs.length === 0) {
  process.stderr.write("usage: bench/baseline-eval.ts DATA RUN [RUN...]\n");
  process.exit(2);
}
const test = await loadExamples(data, "test");
const ranksPerRun: number[][] = [];
for (const run of runs) {
  const model = await loadBaselineRun(run);
  const scores = await model.scoreCandidates(test);
  const ranks = test.map((e, i) => rankOf(scores[i], e.target.index));
  ranksPerRun.push(ranks);
  await model.dispose();
}
printViews(test, ranksPerRun);
