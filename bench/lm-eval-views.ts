// Candidate-ranking quality of LM evaluations (their predictions.jsonl) in the two views of
// docs/results.md: every test prompt, and each test user's last prompt (the S-DPO paper's view).
// Several evaluation folders (seeds) give mean ± std over them.
// Usage: node --import tsx bench/lm-eval-views.ts DATA EVAL_DIR [EVAL_DIR...]  → one JSON line.

import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { lastPerUser } from "../src/baselines/sequences.js";
import { loadExamples } from "../src/data/dataset.js";
import { rankingMetrics } from "../src/eval/ranking.js";

const [data, ...dirs] = process.argv.slice(2);
if (!data || dirs.length === 0) {
  process.stderr.write("usage: bench/lm-eval-views.ts DATA EVAL_DIR [EVAL_DIR...]\n");
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
for (const dir of dirs) {
  const file = join(dir, "predictions.jsonl");
  const rankById = new Map<string, number>();
  for (const line of (await readFile(file, "utf8")).split("\n")) {
    if (!line.trim()) continue;
    const p = JSON.parse(line) as { id: string; ranking?: { rankSum: number } };
    if (p.ranking) rankById.set(p.id, p.ranking.rankSum);
  }
  const ranks = test.map((e) => {
    const r = rankById.get(e.id);
    if (r === undefined) {
      process.stderr.write(`${file}: no ranking for ${e.id} (evaluate every test prompt)\n`);
      process.exit(2);
    }
    return r;
  });
  views.all.push(metricsOf(ranks));
  views.lastPerUser.push(metricsOf(last.map((i) => ranks[i])));
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
    runs: dirs.length,
    examples: { all: test.length, lastPerUser: last.length },
    all: summary(views.all),
    lastPerUser: summary(views.lastPerUser),
    perRun: views,
  })}\n`,
);
