// An experiment stage may start its item tokens from a SASRec stage of the same experiment
// (`itemInit: <stage>`, LLaRA): the LM stage is keyed on that stage, and references are checked.

import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { parseExperiment } from "../../src/experiment/config.js";
import { runExperiment } from "../../src/experiment/run.js";
import { Runtime } from "../../src/graph/index.js";

const runtime = new Runtime({ threads: 1 });

const experiment = (stages: unknown[], training: Record<string, unknown> = {}) =>
  parseExperiment({
    name: "llara",
    seed: 0,
    data: {
      synth: { users: 40, items: 30, seed: 2 },
      prepare: { candidates: 6, negatives: 2, maxTrain: 24, maxValid: 6, maxTest: 6 },
    },
    tokenizer: { vocab: 300 },
    model: { preset: "tiny", seed: 0 },
    training: { lora: null, batchSize: 4, lr: 0.001, evalExamples: 0, ...training },
    stages,
    evaluation: { maxExamples: 4, batchSize: 4, protocols: ["ranking"] },
  });
const sasrec = (epochs: number) => ({
  name: "sasrec",
  baseline: "sasrec",
  hidden: 8,
  blocks: 1,
  epochs,
  patience: 0,
});
const sft = {
  name: "sft",
  objective: { type: "sft" },
  items: "id",
  itemInit: "sasrec",
  maxSteps: 1,
};

describe("experiment itemInit", () => {
  const dirs: string[] = [];
  after(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it("a stage starts its item rows from the SASRec stage and follows its changes", async () => {
    const out = await mkdtemp(join(tmpdir(), "prefrec-llara-"));
    dirs.push(out);
    await runExperiment(experiment([sasrec(1), sft]), { out, quiet: true, runtime });
    const run = join(out, "stages", "sft");
    const config = JSON.parse(await readFile(join(run, "config.json"), "utf8"));
    assert.equal(config.itemInit, join(out, "stages", "sasrec"));
    assert.ok(existsSync(join(run, "checkpoints", "last", "item_projection.safetensors")));
    const summary = await readFile(join(run, "summary.json"), "utf8");
    // Same experiment: reused. A retrained SASRec stage: the LM stage trains again.
    await runExperiment(experiment([sasrec(1), sft]), { out, quiet: true, runtime });
    assert.equal(await readFile(join(run, "summary.json"), "utf8"), summary);
    await runExperiment(experiment([sasrec(2), sft]), { out, quiet: true, runtime });
    assert.notEqual(await readFile(join(run, "summary.json"), "utf8"), summary);
  });

  it("itemInit must name an earlier SASRec stage, on the stage itself", () => {
    assert.throws(
      () => experiment([sft, sasrec(1)]),
      /stage "sft": itemInit "sasrec" is not an earlier stage with baseline: sasrec/,
    );
    assert.throws(
      () => experiment([{ name: "sasrec", baseline: "pop" }, sft]),
      /not an earlier stage with baseline: sasrec/,
    );
    assert.throws(
      () => experiment([sasrec(1), { ...sft, itemInit: undefined }], { itemInit: "sasrec" }),
      /training.itemInit: set itemInit on the stage/,
    );
    assert.throws(
      () => experiment([sasrec(1), { ...sft, items: "title" }]),
      /needs items: id or hybrid, got title/,
    );
  });
});
