// Baseline stages in an experiment: Pop and a tiny SASRec beside a tiny SFT stage give one
// results table, finished baseline runs are reused, and baseline options are validated.

import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { loadExamples } from "../../src/data/index.js";
import { loadRecommender } from "../../src/eval/load.js";
import { rankingMetrics, rankOf } from "../../src/eval/ranking.js";
import { parseExperiment } from "../../src/experiment/config.js";
import { runExperiment } from "../../src/experiment/run.js";
import { Runtime } from "../../src/graph/index.js";
import { readJsonl } from "../data/helpers.js";

const runtime = new Runtime({ threads: 1 });

const sasrec = { name: "sasrec", baseline: "sasrec", hidden: 8, blocks: 1, epochs: 2, patience: 0 };
const experiment = (stages: unknown[]) =>
  parseExperiment({
    name: "mixed",
    seed: 0,
    data: {
      synth: { users: 50, items: 40, seed: 2 },
      prepare: { candidates: 6, negatives: 2, maxTrain: 40, maxValid: 6, maxTest: 6 },
    },
    tokenizer: { vocab: 300 },
    model: { preset: "tiny", seed: 0 },
    training: { lora: null, batchSize: 4, lr: 0.001, evalExamples: 4 },
    stages,
    evaluation: { maxExamples: 5, maxNewTokens: 4, batchSize: 4 },
  });
const mixed = () =>
  experiment([
    { name: "sft", objective: { type: "sft" }, maxSteps: 2 },
    { name: "pop", baseline: "pop" },
    { ...sasrec, batchSize: 16 },
  ]);

describe("experiment baseline stages", () => {
  const dirs: string[] = [];
  after(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it("Pop and SASRec beside SFT: one table, same examples, reused on a second run", async () => {
    const out = await mkdtemp(join(tmpdir(), "prefrec-expbase-"));
    dirs.push(out);
    const first = await runExperiment(mixed(), { out, quiet: true, runtime });
    assert.deepEqual(
      first.rows.map((r) => [r.stage, r.kind, r.objective]),
      [
        ["sft", "lm", "sft"],
        ["pop", "baseline", "pop"],
        ["sasrec", "baseline", "sasrec"],
      ],
    );
    for (const r of first.rows) {
      assert.equal(r.metrics.examples, 5);
      assert.equal(r.metrics.ranking!.sum.examples, 5);
    }
    // Generation protocols do not apply to ID models: present for the LM, absent for baselines.
    assert.ok(first.rows[0].metrics.generation);
    assert.equal(first.rows[1].metrics.generation, undefined);
    assert.ok(first.rows[1].metrics.notApplicable!.includes("generation"));
    const sas = first.rows[2];
    assert.equal(sas.train.epochs, 2);
    assert.ok(sas.train.steps > 0 && sas.train.seconds > 0);
    assert.equal(sas.curve.length, 2, "one mean training loss per epoch");
    assert.equal(first.rows[1].train.steps, 0);
    // The LM row gives its best checkpoint's validation HR@1: under the default selectBy (loss),
    // the HR@1 of the validation with the lowest loss (the first of equals).
    const validations = (
      await readJsonl<{ split?: string; loss: number; hr1: number }>(
        join(out, "stages", "sft", "metrics.jsonl"),
      )
    ).filter((m) => m.split === "valid");
    assert.ok(validations.length > 0);
    const best = validations.reduce((a, b) => (b.loss < a.loss ? b : a));
    assert.equal(first.rows[0].train.bestValidHr1, best.hr1);
    assert.equal(first.rows[0].train.bestValidLoss, best.loss);
    // The experiment's row is what `prefrec eval` computes on the same run and examples.
    const examples = (await loadExamples(join(out, "data", "prepared"), "test")).slice(0, 5);
    const loaded = await loadRecommender(join(out, "stages", "sasrec"), { runtime });
    const scores = await loaded.recommender.scoreCandidates(examples);
    await loaded.recommender.dispose?.();
    const direct = rankingMetrics(examples.map((e, i) => rankOf(scores[i], e.target.index)));
    assert.equal(sas.metrics.ranking!.sum.hr["1"], direct.hr["1"]);
    assert.equal(sas.metrics.ranking!.sum.mrr, direct.mrr);

    const md = await readFile(join(out, "results.md"), "utf8");
    for (const name of ["sft", "pop", "sasrec"]) assert.match(md, new RegExp(`\\| ${name} \\|`));
    assert.match(md, /\| sasrec \| sasrec \| – \| 2 \| /, "training table: epochs");
    const json = JSON.parse(await readFile(join(out, "results.json"), "utf8"));
    assert.equal(json.rows.length, 3);

    const summary = await readFile(join(out, "stages", "sasrec", "summary.json"), "utf8");
    const metrics = await readFile(join(out, "stages", "sasrec", "metrics.jsonl"), "utf8");
    const again = await runExperiment(mixed(), { out, quiet: true, runtime });
    assert.equal(await readFile(join(out, "stages", "sasrec", "summary.json"), "utf8"), summary);
    assert.equal(await readFile(join(out, "stages", "sasrec", "metrics.jsonl"), "utf8"), metrics);
    assert.deepEqual(
      again.rows.map((r) => r.metrics),
      first.rows.map((r) => r.metrics),
    );
    // A changed baseline option retrains that stage only.
    const changed = experiment([
      { name: "sft", objective: { type: "sft" }, maxSteps: 2 },
      { name: "pop", baseline: "pop" },
      { ...sasrec, batchSize: 8 },
    ]);
    const sft = await readFile(join(out, "stages", "sft", "summary.json"), "utf8");
    const third = await runExperiment(changed, { out, quiet: true, runtime });
    assert.equal(await readFile(join(out, "stages", "sft", "summary.json"), "utf8"), sft);
    assert.ok(third.rows[2].train.steps > sas.train.steps, "smaller batches: more steps");
  });

  it("an interrupted baseline stage continues to the same run", async () => {
    const straight = await mkdtemp(join(tmpdir(), "prefrec-expbase-"));
    const out = await mkdtemp(join(tmpdir(), "prefrec-expbase-"));
    dirs.push(straight, out);
    const only = () => experiment([{ ...sasrec, batchSize: 8 }]);
    const a = await runExperiment(only(), { out: straight, quiet: true, runtime });
    const controller = new AbortController();
    controller.abort(); // stops after the first training step
    await assert.rejects(
      runExperiment(only(), { out, quiet: true, runtime, signal: controller.signal }),
      /stage sasrec was interrupted/,
    );
    const b = await runExperiment(only(), { out, quiet: true, runtime });
    assert.deepEqual(b.rows[0].metrics, a.rows[0].metrics);
    assert.deepEqual(b.rows[0].curve, a.rows[0].curve);
    assert.equal(b.rows[0].train.steps, a.rows[0].train.steps);
  });

  it("baseline stage errors name the problem", () => {
    assert.throws(
      () => experiment([{ name: "sasrec", baseline: "sasrec", epoch: 3 }]),
      /stage "sasrec": invalid baseline config: epoch: unknown key "epoch" \(did you mean "epochs"\?\)/,
    );
    assert.throws(
      () => experiment([{ name: "sasrec", baseline: "sasrec", loss: "mse" }]),
      /stage "sasrec": invalid baseline config: loss:/,
    );
    assert.throws(() => experiment([{ name: "s", baseline: "sasrek" }]), /stages\[0\]\.baseline:/);
    assert.throws(
      () =>
        experiment([
          { name: "sft", objective: { type: "sft" } },
          { name: "sasrec", baseline: "sasrec", init: "sft" },
        ]),
      /stage "sasrec": a baseline stage cannot have init/,
    );
    assert.throws(
      () =>
        experiment([
          { name: "pop", baseline: "pop" },
          { name: "dpo", init: "pop", objective: { type: "dpo", beta: 1 } },
        ]),
      /stage "dpo" starts from "pop", a baseline stage/,
    );
    assert.throws(
      () => experiment([{ name: "s", model: "sasrec" }]),
      /stage "s": give either objective .* or baseline \(baseline: sasrec\)/,
    );
    assert.throws(
      () => experiment([{ name: "s", baseline: "pop", objective: { type: "sft" } }]),
      /give either objective/,
    );
    assert.throws(
      () => experiment([{ name: "s", baseline: "pop", data: "x" }]),
      /stage "s": data is set by the experiment/,
    );
  });
});
