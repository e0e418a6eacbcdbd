// The trainer end to end on a tiny model: exact resume (LoRA and full), best/last checkpoints and
// summaries, later stages from an earlier run, and the bad-input errors.

import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { initFromRun } from "../../src/eval/load.js";
import { Runtime } from "../../src/graph/index.js";
import { loadCheckpoint } from "../../src/model/checkpoint.js";
import { loadLoraAdapter } from "../../src/model/peft.js";
import { parseTrainConfig, type TrainConfig } from "../../src/train/config.js";
import { train } from "../../src/train/trainer.js";
import { buildTrainFixture, type TrainFixture } from "./fixture.js";

const runtime = new Runtime({ threads: 1 });

describe("trainer", () => {
  let dir = "";
  let fx: TrainFixture;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "prefrec-train-"));
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
      evalExamples: 0,
      ...extra,
    });

  for (const mode of ["lora", "full"] as const) {
    it(`2 steps + resume + 2 steps = 4 steps (${mode}${mode === "lora" ? " with dropout" : ""}, S-DPO after SFT, accumulation)`, async () => {
      const sftRun = join(dir, `sft-${mode}`);
      const lora = mode === "lora" ? { r: 4, alpha: 8, dropout: 0.1 } : null;
      await train(config({ objective: { type: "sft" }, lora, maxSteps: 3 }), sftRun, {
        quiet: true,
        runtime,
      });
      const init = await initFromRun(sftRun);
      const sdpo = (extra: Record<string, unknown> = {}) =>
        config({
          ...init,
          objective: { type: "sdpo", beta: 1, negatives: 3 },
          maxSteps: 4,
          gradAccum: 2,
          ...extra,
        });
      const straight = join(dir, `straight-${mode}`);
      await train(sdpo(), straight, { quiet: true, runtime });
      const split = join(dir, `split-${mode}`);
      const first = await train(sdpo(), split, { quiet: true, runtime, stopAfter: 2 });
      assert.equal(first.steps, 2);
      assert.equal(first.interrupted, true);
      const second = await train(sdpo(), split, { quiet: true, runtime, resume: true });
      assert.equal(second.steps, 4);
      const read = async (run: string) =>
        mode === "lora"
          ? [
              ...(
                await loadLoraAdapter(join(run, "checkpoints", "last", "adapter"))
              ).weights.values(),
            ].flatMap((p) => [...p.A.data, ...p.B.data])
          : [
              ...(await loadCheckpoint(join(run, "checkpoints", "last", "model"))).weights.values(),
            ].flatMap((t) => [...t.data]);
      const a = await read(straight);
      const b = await read(split);
      assert.equal(a.length, b.length);
      assert.ok(
        a.every((v, i) => v === b[i]),
        "resumed weights differ from the uninterrupted run",
      );
      const initial =
        mode === "lora"
          ? [...(await loadLoraAdapter(init.initAdapter!)).weights.values()].flatMap((p) => [
              ...p.A.data,
              ...p.B.data,
            ])
          : [];
      if (mode === "lora")
        assert.ok(
          initial.some((v, i) => v !== a[i]),
          "training changed the adapter",
        );
      const metrics = (await readFile(join(split, "metrics.jsonl"), "utf8"))
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l));
      assert.deepEqual(
        metrics.map((m) => m.step),
        [1, 2, 3, 4],
      );
      const straightMetrics = (await readFile(join(straight, "metrics.jsonl"), "utf8"))
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l));
      assert.deepEqual(
        metrics.map((m) => m.loss),
        straightMetrics.map((m) => m.loss),
      );
      // Without dropout the policy starts equal to the reference: S-DPO's loss is log(1+K).
      if (mode === "full") {
        assert.ok(
          Math.abs(straightMetrics[0].loss - Math.log(4)) < 1e-4,
          "S-DPO starts at log(1+K)",
        );
      }
    });
  }

  it("validation keeps the best checkpoint and writes a summary", async () => {
    const run = join(dir, "valid");
    const summary = await train(
      config({
        objective: { type: "sft" },
        lora: null,
        maxSteps: 4,
        evalEvery: 2,
        evalExamples: 8,
      }),
      run,
      {
        quiet: true,
        runtime,
      },
    );
    assert.equal(summary.valid?.examples, 8);
    assert.ok(summary.valid!.hr1 >= 0 && summary.valid!.hr1 <= 1);
    assert.ok(summary.bestStep === 2 || summary.bestStep === 4);
    assert.ok(existsSync(join(run, "checkpoints", "best", "model", "model.safetensors")));
    const saved = JSON.parse(await readFile(join(run, "summary.json"), "utf8"));
    assert.equal(saved.steps, 4);
    // The memory record: full fine-tuning trains float32 masters (the option's default is
    // stored; this fixture is float32 anyway); the peak is measured.
    assert.equal(saved.memory.weightsDtype, "stored");
    assert.match(saved.memory.held, /^float32 masters of every weight \(trained\)$/);
    assert.ok(saved.memory.measuredPeakRssGib > 0);
    assert.ok(saved.memory.estimated.total_gib >= saved.memory.estimated.weights_gib);
    const lines = (await readFile(join(run, "metrics.jsonl"), "utf8"))
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    assert.equal(lines.filter((l) => l.split === "valid").length, 2);
  });

  it("a non-finite loss stops training with the step named and the last good state kept", async () => {
    const run = join(dir, "nan");
    await assert.rejects(
      train(
        config({
          objective: { type: "sft" },
          lora: null,
          maxSteps: 6,
          lr: 1e30,
          warmupRatio: 0,
          maxGradNorm: 1e30,
        }),
        run,
        {
          quiet: true,
          runtime,
        },
      ),
      /step \d+: the loss is .* \(gradient norm .*\); training stopped, the last good state is in/,
    );
    const state = JSON.parse(
      await readFile(join(run, "checkpoints", "last", "state.json"), "utf8"),
    );
    const { weights } = await loadCheckpoint(join(run, "checkpoints", "last", "model"));
    assert.ok(
      [...weights.values()].every((t) => t.data.every(Number.isFinite)),
      "the kept weights are finite",
    );
    assert.ok(state.step >= 1);
  });

  it("bad input: existing run, too few negatives, a later stage from nothing", async () => {
    const run = join(dir, "exists");
    await train(config({ objective: { type: "sft" }, lora: null, maxSteps: 1 }), run, {
      quiet: true,
      runtime,
    });
    await assert.rejects(
      train(config({ objective: { type: "sft" }, lora: null, maxSteps: 1 }), run, {
        quiet: true,
        runtime,
      }),
      /already holds a run; continue it with --resume/,
    );
    await assert.rejects(
      train(
        config({ objective: { type: "sdpo", beta: 1, negatives: 5 }, lora: null, maxSteps: 1 }),
        join(dir, "k5"),
        { quiet: true, runtime },
      ),
      /has 3 negatives, the sdpo objective needs 5 \(prepare the data with --negatives 5\)/,
    );
    await assert.rejects(initFromRun(join(dir, "nothing")), /not a training run/);
    assert.throws(
      () => parseTrainConfig({ data: "d", model: "m", objective: { type: "xpo" } }),
      /invalid training config/,
    );
    assert.throws(
      () => parseTrainConfig({ data: "d", model: "m", objective: { type: "sdpo", beta: 1 } }),
      /negatives/,
    );
  });
});
