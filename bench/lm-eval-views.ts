// Candidate-ranking quality of LM evaluations (their predictions.jsonl) in the two views of
// docs/results.md: every test prompt, and each test user's last prompt (the S-DPO paper's view).
// Several evaluation folders (seeds) give mean ± std over them.
// Usage: node --import tsx bench/lm-eval-views.ts DATA EVAL_DIR [EVAL_DIR...]  → one JSON line.

import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { loadExamples } from "../src/data/dataset.js";
import { printViews } from "./views.js";

const [data, ...dirs] = process.argv.slice(2);
if (!data || dirs.length === 0) {
  process.stderr.write("usage: bench/lm-eval-views.ts DATA EVAL_DIR [EVAL_DIR...]\n");
  process.exit(2);
}
/** A one-line error and exit 2: this script reads files a user names. */
function fail(message: string): never {
  process.stderr.write(`lm-eval-views: ${message}\n`);
  process.exit(2);
}
const test = await loadExamples(data, "test").catch((e: Error) => fail(e.message));
const ranksPerRun: number[][] = [];
for (const dir of dirs) {
  const file = join(dir, "predictions.jsonl");
  const rankById = new Map<string, number>();
  const text = await readFile(file, "utf8").catch((e: NodeJS.ErrnoException) =>
    fail(`${file}: cannot read (${e.code ?? e.message})`),
  );
  for (const [n, line] of text.split("\n").entries()) {
    if (!line.trim()) continue;
    let p: { id: string; ranking?: { rankSum: number } };
    try {
      p = JSON.parse(line);
    } catch {
      fail(`${file}:${n + 1}: not a JSON line (truncated file?)`);
    }
    if (p.ranking) rankById.set(p.id, p.ranking.rankSum);
  }
  const ranks = test.map((e) => {
    const r = rankById.get(e.id);
    if (r === undefined) fail(`${file}: no ranking for ${e.id} (evaluate every test prompt)`);
    return r;
  });
  ranksPerRun.push(ranks);
}
printViews(test, ranksPerRun);
