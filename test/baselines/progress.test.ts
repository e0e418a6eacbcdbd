// A baseline run's progress and training log: the step total counts every epoch's own windows
// (later epochs cut sequences at shifted points and can have more), so the progress never shows
// more steps than its total; every step writes a metrics line with its loss and learning rate.

import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { parseBaselineConfig } from "../../src/baselines/config.js";
import { epochWindowCount, epochWindows } from "../../src/baselines/sequences.js";
import { Runtime } from "../../src/graph/index.js";
import { trainBaseline } from "../../src/train/baselines.js";
import { prefixExamples } from "./helpers.js";

const root = await mkdtemp(join(tmpdir(), "prefrec-baseline-progress-"));
after(() => rm(root, { recursive: true, force: true }));

const sequences = Array.from({ length: 7 }, (_, u) =>
  Array.from({ length: 5 + u }, (_, t) => (u * 3 + t) % 11),
);

test("epochWindowCount is the number of windows epochWindows gives, epoch by epoch", () => {
  const counts: number[] = [];
  for (const maxLen of [2, 3, 4])
    for (const seed of [1, 7])
      for (let epoch = 0; epoch < 6; epoch++) {
        const n = epochWindowCount(sequences, maxLen, seed, epoch);
        assert.equal(
          n,
          epochWindows(sequences, maxLen, seed, epoch).length,
          `${maxLen}/${seed}/${epoch}`,
        );
        counts.push(n - epochWindowCount(sequences, maxLen, seed, 0));
      }
  // The case that broke the progress total: a later epoch with more windows than epoch 0.
  assert.ok(counts.some((d) => d > 0));
});

test("a SASRec run's progress never passes its total, which is the steps taken; one metrics line per step", async () => {
  const others = (u: number, t: number) => [(u + t + 3) % 11, (u + 2 * t + 7) % 11];
  const data = {
    train: prefixExamples("train", sequences, others),
    valid: prefixExamples("valid", sequences.slice(0, 2), others),
    numItems: 12,
  };
  const config = parseBaselineConfig({
    data: "unused",
    kind: "sasrec",
    hidden: 8,
    blocks: 1,
    heads: 1,
    batchSize: 2,
    maxLen: 3,
    epochs: 4,
    patience: 0,
    lr: 0.01,
    threads: 1,
  });
  const written: string[] = [];
  const write = process.stderr.write;
  process.stderr.write = ((chunk: string | Uint8Array) => {
    written.push(String(chunk));
    return true;
  }) as typeof process.stderr.write;
  let summary: Awaited<ReturnType<typeof trainBaseline>>;
  try {
    summary = await trainBaseline(config, {
      out: join(root, "sasrec"),
      data,
      runtime: new Runtime({ threads: 1 }),
    });
  } finally {
    process.stderr.write = write;
  }
  const counts = written
    .join("")
    .split("\n")
    .flatMap((l) => {
      const m = l.match(/^train sasrec: (\d+)\/(\d+)/);
      return m ? [[Number(m[1]), Number(m[2])]] : [];
    });
  assert.ok(counts.length > 0, written.join(""));
  for (const [done, total] of counts) assert.ok(done <= total, `${done}/${total}`);
  assert.deepEqual(counts.at(-1), [summary.steps, summary.steps]);

  const lines = (await readFile(join(root, "sasrec", "metrics.jsonl"), "utf8"))
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));
  const train = lines.filter((l) => l.split === undefined);
  assert.deepEqual(
    train.map((l) => l.step),
    Array.from({ length: summary.steps }, (_, i) => i + 1),
  );
  for (const l of train) {
    assert.ok(Number.isFinite(l.loss) && l.loss > 0);
    assert.equal(l.lr, 0.01);
  }
  assert.equal(lines.filter((l) => l.split === "valid").length, 4);
});
