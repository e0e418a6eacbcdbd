// SASRec speed and sanity on S-DPO's LastFM split: one epoch over the training sequences (CE
// over the catalog, hidden 64, batch 128), including that epoch's validation on all 2,767 valid
// prompts. Usage: tsx bench/baselines.ts [--data PREPARED] [--data-root DIR] [--threads N]
// (without --data, the LastFM files under DIR/lastfm/sdpo-cans20 are prepared into a temp dir).
// Prints one JSON line: sasrec_epoch_seconds, sasrec_examples_per_s (training targets per
// second of the epoch), sasrec_hr1 (valid HR@1 after the epoch, on the given candidates).

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseBaselineConfig } from "../src/baselines/config.js";
import { prepareDataset } from "../src/data/index.js";
import { loadBaselineData, trainBaseline } from "../src/train/baselines.js";

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const scratch = await mkdtemp(join(tmpdir(), "prefrec-bench-baselines-"));
try {
  let data = arg("data");
  if (!data) {
    data = join(scratch, "lastfm");
    const root = resolve(arg("data-root") ?? "../shared/data");
    await prepareDataset({
      source: "sdpo",
      path: join(root, "lastfm", "sdpo-cans20"),
      out: data,
      quiet: true,
    });
  }
  const loaded = await loadBaselineData(data);
  const threads = arg("threads");
  const config = parseBaselineConfig({
    kind: "sasrec",
    data,
    loss: "ce",
    hidden: 64,
    batchSize: 128,
    epochs: 1,
    threads: threads ? Number(threads) : null,
  });
  let hr1 = Number.NaN;
  const t0 = performance.now();
  const s = await trainBaseline(config, {
    out: join(scratch, "run"),
    data: loaded,
    quiet: true,
    onProgress: (v) => {
      hr1 = v.hr1;
    },
  });
  const seconds = (performance.now() - t0) / 1000;
  console.log(
    JSON.stringify({
      sasrec_epoch_seconds: Number(seconds.toFixed(2)),
      sasrec_examples_per_s: Number((s.examples / seconds).toFixed(1)),
      sasrec_hr1: Number(hr1.toFixed(4)),
      train_targets: s.examples,
      steps: s.steps,
    }),
  );
} finally {
  await rm(scratch, { recursive: true, force: true });
}
