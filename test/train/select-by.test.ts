// Which checkpoint is "best" (`selectBy`): the lowest validation loss (the papers) or the
// highest validation HR@1 (the baselines' rule), ties keeping the earlier; checked by hand and
// against a run's own validation lines.

import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { parseTrainConfig } from "../../src/train/config.js";
import { train } from "../../src/train/trainer.js";
import { improves } from "../../src/train/validate.js";
import { readJsonl } from "../data/helpers.js";
import { tempDir } from "../io/helpers.js";
import { buildTrainFixture } from "./fixture.js";

test("improves: loss lower, or HR@1 higher (ties keep the earlier); anything beats nothing", () => {
  const best = { bestStep: 4, bestValidLoss: 2, bestValidHr1: 0.5 };
  const none = { bestStep: null, bestValidLoss: null, bestValidHr1: null };
  assert.equal(improves({ loss: 1.9, hr1: 0.1 }, best, "loss"), true);
  assert.equal(improves({ loss: 2, hr1: 0.9 }, best, "loss"), false);
  assert.equal(improves({ loss: 9, hr1: 0.6 }, best, "hr1"), true);
  assert.equal(improves({ loss: 0.1, hr1: 0.5 }, best, "hr1"), false);
  assert.equal(improves({ loss: 9, hr1: 0 }, none, "hr1"), true);
  // A checkpoint written before selectBy has no HR@1: the first HR@1 validation replaces it.
  assert.equal(improves({ loss: 9, hr1: 0 }, { bestStep: 4, bestValidLoss: 2 }, "hr1"), true);
});

test("selectBy hr1 keeps the step with the highest validation HR@1; loss the lowest loss", async (t) => {
  const dir = await tempDir(t);
  const fx = await buildTrainFixture(dir, { users: 40, maxTrain: 32 });
  for (const selectBy of ["hr1", "loss"] as const) {
    const runDir = join(dir, selectBy);
    const summary = await train(
      parseTrainConfig({
        data: fx.data,
        model: fx.model,
        objective: { type: "sft" },
        batchSize: 4,
        maxSteps: 6,
        evalEvery: 1,
        evalExamples: 16,
        lr: 3e-3,
        selectBy,
      }),
      runDir,
      { quiet: true },
    );
    const valid = (
      await readJsonl<{ split?: string; step: number; loss: number; hr1: number }>(
        join(runDir, "metrics.jsonl"),
      )
    ).filter((l) => l.split === "valid");
    assert.equal(valid.length, 6);
    const key = (l: { loss: number; hr1: number }) => (selectBy === "hr1" ? -l.hr1 : l.loss);
    const want = valid.reduce((a, b) => (key(b) < key(a) ? b : a));
    assert.equal(summary.bestStep, want.step, selectBy);
    assert.equal(summary.bestValidHr1, want.hr1);
    assert.equal(summary.bestValidLoss, want.loss);
  }
  assert.throws(
    () =>
      parseTrainConfig({
        data: fx.data,
        model: fx.model,
        objective: { type: "sft" },
        selectBy: "mrr",
      }),
    /selectBy/,
  );
  // HR@1 selection without validation would silently keep no best checkpoint.
  assert.throws(
    () =>
      parseTrainConfig({
        data: fx.data,
        model: fx.model,
        objective: { type: "sft" },
        selectBy: "hr1",
        evalExamples: 0,
      }),
    /selectBy: hr1 \(--select-by\) .* needs evalExamples > 0, got 0/,
  );
});
