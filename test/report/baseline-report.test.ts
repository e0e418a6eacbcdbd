// The report of a real (tiny) classic-baseline run: the trainer's per-step lines give a loss
// chart with one series (training loss: baselines log no validation loss) and a learning-rate
// chart; the per-epoch validation lines give the ranking-metric curves.

import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { parseBaselineConfig } from "../../src/baselines/config.js";
import { Runtime } from "../../src/graph/index.js";
import { writeReport } from "../../src/report/index.js";
import { trainBaseline } from "../../src/train/baselines.js";
import { prefixExamples } from "../baselines/helpers.js";
import { byClass, parseSvg, texts } from "./svg.js";

const root = await mkdtemp(join(tmpdir(), "prefrec-baseline-report-"));
after(() => rm(root, { recursive: true, force: true }));

test("a tiny SASRec run's report has a one-series loss chart, the learning rate and validation", async () => {
  const sequences = Array.from({ length: 6 }, (_, u) =>
    Array.from({ length: 6 }, (_, t) => (u * 5 + t) % 11),
  );
  const others = (u: number, t: number) => [(u + t + 3) % 11, (u + 2 * t + 7) % 11];
  const run = join(root, "sasrec");
  await trainBaseline(
    parseBaselineConfig({
      data: "unused",
      kind: "sasrec",
      hidden: 8,
      blocks: 1,
      heads: 1,
      batchSize: 8,
      epochs: 2,
      threads: 1,
    }),
    {
      out: run,
      data: {
        train: prefixExamples("train", sequences, others),
        valid: prefixExamples("valid", sequences.slice(0, 2), others),
        numItems: 12,
      },
      quiet: true,
      runtime: new Runtime({ threads: 1 }),
    },
  );
  const files = await writeReport(run);
  assert.deepEqual(
    files.pngs.map((p) => p.slice(run.length + 1)),
    ["loss.png", "lr.png", "validation.png"],
  );
  const html = await readFile(files.html, "utf8");
  const svg = (id: string) => {
    const m = html.match(new RegExp(`<figure id="${id}">(<svg[\\s\\S]*?</svg>)`));
    assert.ok(m, `no figure ${id}`);
    return parseSvg(m[1]);
  };
  const loss = svg("loss");
  assert.equal(byClass(loss, "mark-line", "role-mark").length, 1);
  assert.deepEqual(byClass(loss, "role-axis-title").flatMap(texts).sort(), ["loss", "step"]);
  assert.deepEqual(byClass(svg("validation"), "role-legend-label").flatMap(texts), [
    "HR@1",
    "NDCG@5",
    "MRR",
  ]);
});
