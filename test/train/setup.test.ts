// The trainer's setup phase: it works only on the examples the run will visit (tokenization and
// reference log-probs), stops on an abort between batches, and leaves no run folder behind when
// it fails.

import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Runtime } from "../../src/graph/index.js";
import { shuffled, visitedExamples } from "../../src/train/batches.js";
import { parseTrainConfig, type TrainConfig } from "../../src/train/config.js";
import { referenceBatches } from "../../src/train/reference.js";
import { train } from "../../src/train/trainer.js";
import { buildTrainFixture, type TrainFixture } from "./fixture.js";

const runtime = new Runtime({ threads: 1 });

/** The examples the loop visits, walked the naive way: every micro-batch's slice, by hand. */
function naiveVisited(n: number, batch: number, seed: number, micro: number): number[] {
  const out = new Set<number>();
  let epoch = 0;
  let position = 0;
  for (let m = 0; m < micro; m++) {
    const order = shuffled(n, seed, epoch);
    for (let i = position; i < Math.min(position + batch, n); i++) out.add(order[i]);
    position += batch;
    if (position >= n) {
      epoch++;
      position = 0;
    }
  }
  return [...out].sort((a, b) => a - b);
}

describe("trainer setup", () => {
  let dir = "";
  let fx: TrainFixture;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "prefrec-setup-"));
    fx = await buildTrainFixture(dir);
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const config = (extra: Record<string, unknown>): TrainConfig =>
    parseTrainConfig({
      data: fx.data,
      model: fx.model,
      batchSize: 4,
      lr: 1e-3,
      lora: null,
      ...extra,
    });

  it("visitedExamples follows the loop's order, across epochs and from a resume position", () => {
    for (const [n, batch, micro] of [
      [64, 4, 2],
      [10, 4, 5],
      [7, 3, 100],
    ] as const) {
      assert.deepEqual(
        visitedExamples(n, batch, 5, { epoch: 0, position: 0 }, micro),
        naiveVisited(n, batch, 5, micro),
      );
    }
    assert.equal(visitedExamples(64, 4, 0, { epoch: 0, position: 0 }, 2).length, 8);
    // From epoch 1, position 60 of 64: the last 4 of epoch 1, then the first 4 of epoch 2.
    const resumed = visitedExamples(64, 4, 0, { epoch: 1, position: 60 }, 2);
    const expected = [...shuffled(64, 0, 1).slice(60), ...shuffled(64, 0, 2).slice(0, 4)];
    assert.deepEqual(
      resumed,
      [...new Set(expected)].sort((a, b) => a - b),
    );
  });

  it("reference batches: whole batches of 8 around the visited examples and the validation start", () => {
    assert.deepEqual(referenceBatches([3, 17], 64, false), [
      ...[0, 1, 2, 3, 4, 5, 6, 7],
      ...[16, 17, 18, 19, 20, 21, 22, 23],
    ]);
    // 20 examples: the last batch (16–19) is shared with the first validation examples.
    assert.deepEqual(referenceBatches([0], 20, true), [0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19]);
    assert.deepEqual(referenceBatches([], 16, true), []);
  });

  it("--max-steps: reference log-probs only for the batches the steps visit (+ validation)", async () => {
    const run = join(dir, "sdpo-1-step");
    const summary = await train(
      config({
        objective: { type: "sdpo", beta: 1, negatives: 3 },
        maxSteps: 1,
        evalExamples: 5,
      }),
      run,
      { quiet: true, runtime },
    );
    assert.equal(summary.steps, 1);
    assert.equal(summary.trainExamples, 64);
    const cache = JSON.parse(await readFile(join(run, "reference-logps.json"), "utf8"));
    const ids = Object.keys(cache.logps);
    const visited = visitedExamples(64, 4, 0, { epoch: 0, position: 0 }, 1);
    assert.equal(visited.length, 4);
    const scored = referenceBatches(visited, 64, true);
    assert.ok(scored.length <= 32);
    assert.deepEqual(
      ids.filter((id) => id.startsWith("train-")).sort(),
      scored.map((i) => `train-${i}`).sort(),
    );
    assert.equal(ids.filter((id) => id.startsWith("valid-")).length, 5);
  });

  it("an abort during setup stops it, between batches, and leaves no run folder", async () => {
    const before = join(dir, "aborted-before");
    const controller = new AbortController();
    controller.abort();
    await assert.rejects(
      train(config({ objective: { type: "sft" }, maxSteps: 1 }), before, {
        quiet: true,
        runtime,
        signal: controller.signal,
      }),
      /interrupted during data loading; the run was not started/,
    );
    assert.equal(existsSync(before), false);
    // Aborted while reference log-probs are being computed: after the data-loading and
    // tokenization checks, the third check is the second batch of reference scoring.
    let reads = 0;
    const late = {
      get aborted() {
        reads++;
        return reads > 3;
      },
    } as AbortSignal;
    const during = join(dir, "aborted-reference");
    await assert.rejects(
      train(
        config({
          objective: { type: "sdpo", beta: 1, negatives: 3 },
          maxSteps: 3,
          evalExamples: 8,
        }),
        during,
        { quiet: true, runtime, signal: late },
      ),
      /interrupted during reference scoring/,
    );
    assert.equal(reads, 4);
    assert.equal(existsSync(during), false);
  });

  it("a failed setup leaves no run folder holding only config.json", async () => {
    const run = join(dir, "k5");
    await assert.rejects(
      train(config({ objective: { type: "sdpo", beta: 1, negatives: 5 }, maxSteps: 1 }), run, {
        quiet: true,
        runtime,
      }),
      /the sdpo objective needs 5/,
    );
    assert.equal(existsSync(run), false);
    const badModel = join(dir, "bad-model");
    await assert.rejects(
      train(
        config({ objective: { type: "sft" }, model: join(dir, "nope"), maxSteps: 1 }),
        badModel,
        {
          quiet: true,
          runtime,
        },
      ),
    );
    assert.equal(existsSync(badModel), false);
  });
});
