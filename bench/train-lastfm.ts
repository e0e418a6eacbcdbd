// End to end on S-DPO's LastFM files: `configs/lastfm-sdpo.yaml` (a tokenizer and the `small`
// preset from scratch, SFT then DPO and S-DPO on a 2,000-example subset), HR@1 by candidate
// ranking on the 2,495 test prompts. Usage: tsx bench/train-lastfm.ts [--data-root DIR] [--out DIR]
// Prints one JSON line; the full tables are in OUT/results.md.

import { resolve } from "node:path";
import { loadExperiment } from "../src/experiment/config.js";
import { runExperiment } from "../src/experiment/run.js";

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
};
const config = await loadExperiment(
  "configs/lastfm-sdpo.yaml",
  resolve(arg("data-root", "../shared/data")),
);
const t0 = performance.now();
const result = await runExperiment(config, { out: arg("out", "runs/lastfm-sdpo") });
const line: Record<string, number | string> = {
  seconds: Number(((performance.now() - t0) / 1000).toFixed(0)),
};
for (const row of result.rows) {
  line[`${row.stage}_hr1`] = Number((row.metrics.ranking?.sum.hr["1"] ?? Number.NaN).toFixed(4));
  line[`${row.stage}_train_seconds`] = Number(row.train.seconds.toFixed(0));
  line[`${row.stage}_examples_per_s`] = Number(row.train.examplesPerSecond.toFixed(2));
}
line.test_examples = result.rows[0]?.metrics.examples ?? 0;
console.log(JSON.stringify(line));
