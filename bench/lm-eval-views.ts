// Candidate-ranking quality of LM evaluations (their predictions.jsonl) in the two views of
// docs/results.md: every test prompt, and each test user's last prompt (the S-DPO paper's view).
// Several evaluation folders (seeds) give mean ± std over them.
// Usage: node --import tsx bench/lm-eval-views.ts DATA EVAL_DIR [EVAL_DIR...]  → one JSON line.

import { join } from "node:path";
import { loadExamples } from "../src/data/dataset.js";
import { readRanks } from "../src/eval/views.js";
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
  const ranks = await readRanks(file, test).catch((e: Error) => fail(e.message));
  if (!ranks) fail(`${file}: no ranking for some test prompt (evaluate every test prompt)`);
  ranksPerRun.push(ranks);
}
printViews(test, ranksPerRun);
