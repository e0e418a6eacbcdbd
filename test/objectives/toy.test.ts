// Adding an objective is adding one definition: a toy objective registered here (its own
// parameter, extra per-example input and loss) trains from the CLI and from an experiment
// without any other file knowing its name.

import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Command } from "@commander-js/extra-typings";
import { z } from "zod";
import { registerTrain } from "../../src/cli/train.js";
import { parseExperiment } from "../../src/experiment/config.js";
import { runExperiment } from "../../src/experiment/run.js";
import {
  add,
  div,
  mul,
  neg,
  Runtime,
  reduceMean,
  slice,
  softplus,
  sub,
  unsqueeze,
} from "../../src/graph/index.js";
import { positive } from "../../src/io/schema.js";
import { defineObjective, registerObjective } from "../../src/objectives/index.js";
import { buildTrainFixture, type TrainFixture } from "../train/fixture.js";

/** A reference-free soft hinge on per-token log-probs, each negative weighted by φ_p/φ_k. */
const toy = defineObjective({
  name: "toy",
  summary: "a toy objective registered by a test",
  paper: null,
  formula: "mean_k w_k·softplus(m − (lp_w/|w| − lp_k/|k|)), w_k = φ_p/φ_k",
  params: z.strictObject({
    margin: positive().default(1).describe("target gap m"),
  }),
  needsReference: false,
  negatives: () => 2,
  inputs: {
    weights: (example, _p, answers) => [
      0,
      ...example.phi.slice(1, answers).map((phi) => example.phi[0] / phi),
    ],
  },
  loss(p, inputs) {
    const chosen = unsqueeze(div(inputs.policyChosen, inputs.chosenLength), [1]); // [B, 1]
    const rejected = div(
      slice(inputs.policyRejected!, 1, 0, 2),
      slice(inputs.rejectedLength!, 1, 0, 2),
    ); // [B, K]
    const weights = slice(inputs.extra!.weights, 1, 0, 2); // [B, K]
    const perNegative = mul(weights, softplus(add(neg(sub(chosen, rejected)), p.margin)));
    return {
      loss: reduceMean(perNegative),
      metrics: { weight: reduceMean(weights, [1]), chosen_logp: inputs.policyChosen },
    };
  },
});

registerObjective(toy);
const runtime = new Runtime({ threads: 1 });

describe("a toy objective registered in one place", () => {
  let dir = "";
  let fx: TrainFixture;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "prefrec-toy-"));
    fx = await buildTrainFixture(dir, { users: 60, maxTrain: 16 });
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const cli = async (args: string[]): Promise<string> => {
    const program = new Command().exitOverride();
    registerTrain(program);
    const out: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((s: string) => {
      out.push(String(s));
      return true;
    }) as typeof process.stdout.write;
    try {
      await program.parseAsync(["node", "prefrec", ...args]);
    } finally {
      process.stdout.write = write;
    }
    return out.join("");
  };

  it("trains from the CLI: `train toy` with its own flag", async () => {
    const program = new Command();
    registerTrain(program);
    const help = program.commands
      .find((c) => c.name() === "train")!
      .commands.find((c) => c.name() === "toy")!
      .helpInformation();
    assert.match(help, /--margin <x>\s+target gap m \(default: 1\)/);
    const run = join(dir, "cli-run");
    const printed = await cli([
      "train",
      "toy",
      "--data",
      fx.data,
      "--model",
      fx.model,
      "--full",
      "--out",
      run,
      "--margin",
      "0.5",
      "--max-steps",
      "2",
      "--eval-examples",
      "4",
      "--threads",
      "1",
      "--quiet",
    ]);
    assert.match(printed, /done: .*2\/2 steps/);
    const config = JSON.parse(await readFile(join(run, "config.json"), "utf8"));
    assert.deepEqual(config.objective, { type: "toy", margin: 0.5 });
    const lines = (await readFile(join(run, "metrics.jsonl"), "utf8"))
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    const steps = lines.filter((l) => l.split === undefined);
    assert.equal(steps.length, 2);
    for (const s of steps) {
      assert.ok(Number.isFinite(s.loss) && s.loss > 0);
      // The extra input reached the loss: φ_p/φ_k is positive and not all ones.
      assert.ok(s.weight > 0 && Number.isFinite(s.weight));
    }
    assert.equal(lines.filter((l) => l.split === "valid").length, 1);
  });

  it("trains from an experiment stage", async () => {
    const config = parseExperiment({
      name: "toy",
      data: {
        synth: { users: 40, items: 40, seed: 2 },
        prepare: { candidates: 6, negatives: 2, maxTrain: 16, maxValid: 4, maxTest: 4 },
      },
      tokenizer: { vocab: 300 },
      model: { preset: "tiny" },
      training: { lora: null, batchSize: 4, evalExamples: 4 },
      stages: [{ name: "toy", objective: { type: "toy", margin: 1 }, maxSteps: 2 }],
      evaluation: { protocols: ["ranking"], maxExamples: 4, batchSize: 4 },
    });
    const out = join(dir, "experiment");
    const result = await runExperiment(config, { out, quiet: true, runtime });
    assert.equal(result.rows[0].stage, "toy");
    assert.equal(result.rows[0].train.steps, 2);
    const stage = JSON.parse(await readFile(join(out, "stages", "toy", "config.json"), "utf8"));
    assert.deepEqual(stage.objective, { type: "toy", margin: 1 });
  });
});
