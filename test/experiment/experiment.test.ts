// A tiny end-to-end experiment (seconds), reuse of finished steps, continuing an interrupted
// experiment with identical results, and config validation errors.

import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { parseExperiment } from "../../src/experiment/config.js";
import { runExperiment } from "../../src/experiment/run.js";
import { Runtime } from "../../src/graph/index.js";

const runtime = new Runtime({ threads: 1 });

const tiny = (extra: Record<string, unknown> = {}) =>
  parseExperiment({
    name: "tiny",
    seed: 0,
    data: {
      synth: { users: 50, items: 40, seed: 2 },
      prepare: { candidates: 6, negatives: 2, maxTrain: 40, maxValid: 6, maxTest: 6 },
    },
    tokenizer: { vocab: 300 },
    model: { preset: "tiny", seed: 0 },
    training: { lora: null, batchSize: 4, lr: 0.001, evalExamples: 4 },
    stages: [
      { name: "sft", objective: { type: "sft" }, maxSteps: 4 },
      {
        name: "sdpo",
        init: "sft",
        objective: { type: "sdpo", beta: 1, negatives: 2 },
        maxSteps: 3,
      },
    ],
    evaluation: { maxExamples: 5, maxNewTokens: 4, batchSize: 4 },
    ...extra,
  });

describe("experiment", () => {
  const dirs: string[] = [];
  const tmp = async () => {
    const d = await mkdtemp(join(tmpdir(), "prefrec-exp-"));
    dirs.push(d);
    return d;
  };
  after(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it("runs end to end, writes results, reuses finished steps", async () => {
    const out = await tmp();
    const first = await runExperiment(tiny(), { out, quiet: true, runtime });
    assert.deepEqual(
      first.rows.map((r) => r.stage),
      ["sft", "sdpo"],
    );
    assert.equal(first.rows[1].train.steps, 3);
    assert.equal(first.rows[0].metrics.examples, 5);
    assert.equal(first.rows[0].metrics.constrained!.validRatio, 1);
    assert.ok(first.rows[0].curve.length === 4);
    const md = await readFile(join(out, "results.md"), "utf8");
    assert.match(md, /\| sdpo \| /);
    assert.match(md, /## Configuration/);
    const json = JSON.parse(await readFile(join(out, "results.json"), "utf8"));
    assert.equal(json.rows.length, 2);
    const summary = await readFile(join(out, "stages", "sdpo", "summary.json"), "utf8");
    const t0 = performance.now();
    const again = await runExperiment(tiny(), { out, quiet: true, runtime });
    assert.ok(performance.now() - t0 < 5000, "nothing is recomputed");
    assert.equal(await readFile(join(out, "stages", "sdpo", "summary.json"), "utf8"), summary);
    assert.deepEqual(
      again.rows.map((r) => r.metrics),
      first.rows.map((r) => r.metrics),
    );
    // Changing a later stage recomputes that stage only.
    const changed = tiny({
      stages: [
        { name: "sft", objective: { type: "sft" }, maxSteps: 4 },
        {
          name: "sdpo",
          init: "sft",
          objective: { type: "sdpo", beta: 2, negatives: 2 },
          maxSteps: 3,
        },
      ],
    });
    const sftSummary = await readFile(join(out, "stages", "sft", "summary.json"), "utf8");
    await runExperiment(changed, { out, quiet: true, runtime });
    assert.equal(await readFile(join(out, "stages", "sft", "summary.json"), "utf8"), sftSummary);
    assert.notEqual(await readFile(join(out, "stages", "sdpo", "summary.json"), "utf8"), summary);
  });

  it("an interrupted experiment continues to the same results", async () => {
    const straight = await runExperiment(tiny(), { out: await tmp(), quiet: true, runtime });
    const out = await tmp();
    const controller = new AbortController();
    controller.abort(); // stops after the first training step
    await assert.rejects(
      runExperiment(tiny(), { out, quiet: true, runtime, signal: controller.signal }),
      /interrupted/,
    );
    const resumed = await runExperiment(tiny(), { out, quiet: true, runtime });
    assert.deepEqual(
      resumed.rows.map((r) => r.metrics),
      straight.rows.map((r) => r.metrics),
    );
    assert.deepEqual(
      resumed.rows.map((r) => r.curve),
      straight.rows.map((r) => r.curve),
    );
  });

  it("config errors name the problem", () => {
    assert.throws(() => tiny({ extra: 1 }), /invalid experiment config/);
    // Unknown keys anywhere name their path and the closest valid key.
    const data = { synth: { users: 50, items: 40, seed: 2 } };
    assert.throws(
      () => tiny({ data: { ...data, prepare: { negatvies: 3 } } }),
      /invalid experiment config: data\.prepare\.negatvies: unknown key "negatvies" \(did you mean "negatives"\?\)/,
    );
    assert.throws(
      () => tiny({ data: { synth: { users: 50, itmes: 40 } } }),
      /data\.synth\.itmes: unknown key "itmes" \(did you mean "items"\?\)/,
    );
    assert.throws(
      () => tiny({ training: { batchSise: 4 } }),
      /training: batchSise: unknown key "batchSise" \(did you mean "batchSize"\?\)/,
    );
    assert.throws(
      () => tiny({ evaluation: { maxExampels: 4 } }),
      /evaluation\.maxExampels: unknown key "maxExampels" \(did you mean "maxExamples"\?\)/,
    );
    assert.throws(
      () => tiny({ evaluation: { batchSize: 0 } }),
      /evaluation\.batchSize: expected a whole number ≥ 1/,
    );
    assert.throws(
      () => tiny({ stages: [{ name: "sft", objective: { type: "sfft" } }] }),
      /stages\[0\]\.objective\.type: unknown objective "sfft" .*did you mean "sft"/,
    );
    assert.throws(
      () => tiny({ stages: [{ name: "sft", objective: { type: "sft" }, lerningRate: 1 }] }),
      /stage "sft": invalid training config: lerningRate: unknown key "lerningRate"/,
    );
    assert.throws(
      () =>
        tiny({
          stages: [
            { name: "sdpo", init: "sft", objective: { type: "sdpo", beta: 1, negatives: 2 } },
          ],
        }),
      /stage "sdpo" starts from "sft", which is not an earlier stage/,
    );
    assert.throws(() => tiny({ tokenizer: {} }), /a model from a preset needs a tokenizer/);
    assert.throws(
      () => tiny({ stages: [{ name: "sft", objective: { type: "sft" }, batchSize: "big" }] }),
      /stage "sft": invalid training config/,
    );
    assert.throws(
      () =>
        tiny({
          stages: [
            { name: "a", objective: { type: "sft" } },
            { name: "a", objective: { type: "sft" } },
          ],
        }),
      /used twice/,
    );
  });
});
