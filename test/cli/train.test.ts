// `prefrec train`: a --config file is validated by the training schema and every key honoured
// (lora: null / {r, alpha} / "r,alpha", loraTargets) or rejected by name; LoRA-only flags with
// --full are refused; --resume refuses settings that cannot change and a finished run gains no
// second validation line.

import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Command } from "@commander-js/extra-typings";
import { CliError } from "../../src/cli/errors.js";
import { registerTrain } from "../../src/cli/train.js";
import { newRunConfig } from "../../src/cli/train-config.js";
import { buildTrainFixture, type TrainFixture } from "../train/fixture.js";

describe("train --config", () => {
  let dir = "";
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "prefrec-train-cli-"));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  let n = 0;
  const withFile = async (text: string, flags: Record<string, unknown> = {}, type = "sft") => {
    const file = join(dir, `c${n++}.yaml`);
    await writeFile(file, `data: D\nmodel: M\nout: R\n${text}`);
    return { file, result: newRunConfig(type, { config: file, ...flags }) };
  };

  it("lora: null is full fine-tuning, as the shipped configs write it", async () => {
    const { result } = await withFile("lora: null\nlr: 0.003\n");
    const { config } = await result;
    assert.equal(config.lora, null);
    assert.equal(config.lr, 0.003);
    // Without it the command's default is LoRA 8,32.
    assert.deepEqual((await (await withFile("")).result).config.lora?.r, 8);
  });

  it('lora: {r: 4, alpha: 16}, lora: "4,16" and loraTargets are honoured', async () => {
    const a = (await (await withFile("lora: { r: 4, alpha: 16, dropout: 0.1 }\n")).result).config;
    assert.deepEqual([a.lora?.r, a.lora?.alpha, a.lora?.dropout], [4, 16, 0.1]);
    const b = (await (await withFile('lora: "4,16"\nloraTargets: [q_proj, v_proj]\n')).result)
      .config;
    assert.deepEqual([b.lora?.r, b.lora?.alpha, b.lora?.targets], [4, 16, ["q_proj", "v_proj"]]);
    const c = (await (await withFile("loraTargets: q_proj,o_proj\nloraDropout: 0.2\n")).result)
      .config;
    assert.deepEqual([c.lora?.r, c.lora?.targets, c.lora?.dropout], [8, ["q_proj", "o_proj"], 0.2]);
    // Flags win over the file.
    const d = (await (await withFile('lora: "4,16"\n', { lora: { r: 2, alpha: 4 } })).result)
      .config;
    assert.deepEqual([d.lora?.r, d.lora?.alpha], [2, 4]);
  });

  it("objective parameters come from the file, flags win", async () => {
    const { result } = await withFile(
      "beta: 0.5\nobjective: { negatives: 2 }\n",
      { beta: 2 },
      "sdpo",
    );
    assert.deepEqual((await result).config.objective, { type: "sdpo", beta: 2, negatives: 2 });
  });

  it("unknown or misspelled keys are errors naming the file, the key and the closest one", async () => {
    const { file, result } = await withFile("bogusKey: 3\n");
    await assert.rejects(result, (e: Error) => {
      assert.ok(
        e.message.startsWith(`${file}: bogusKey: unknown key "bogusKey" (did you mean "`),
        e.message,
      );
      return true;
    });
    await assert.rejects(
      (await withFile("batchSise: 3\n")).result,
      /batchSise: unknown key "batchSise" \(did you mean "batchSize"\?\)/,
    );
    await assert.rejects(
      (await withFile("lora: { r: 4, alpah: 16 }\n")).result,
      /lora\.alpah: unknown key "alpah" \(did you mean "alpha"\?\)/,
    );
    await assert.rejects((await withFile("lora: 4\n")).result, /lora: /);
    await assert.rejects(
      (await withFile("batchSize: 0\n")).result,
      /batchSize: expected a whole number ≥ 1/,
    );
    await assert.rejects(
      (await withFile("objective: { type: sdpo, beta: 1, negatvies: 3 }\n", {}, "sdpo")).result,
      /invalid training config: objective\.negatvies: unknown key "negatvies" \(did you mean "negatives"\?\)/,
    );
  });

  it("LoRA-only settings with full fine-tuning are refused", async () => {
    await assert.rejects(
      newRunConfig("sft", { data: "D", model: "M", out: "R", full: true, loraDropout: 0.1 }),
      (e: Error) =>
        e instanceof CliError &&
        /--lora-dropout: LoRA settings, but this run is full fine-tuning/.test(e.message),
    );
    await assert.rejects(
      (await withFile("lora: null\nloraTargets: [q_proj]\n")).result,
      /loraTargets: LoRA settings, but this run is full fine-tuning/,
    );
    await assert.rejects(
      (await withFile('full: true\nlora: "4,16"\n')).result,
      /full: true and lora settings exclude each other/,
    );
    await assert.rejects(
      newRunConfig("sft", {
        data: "D",
        model: "M",
        out: "R",
        full: true,
        lora: { r: 8, alpha: 32 },
      }),
      /--lora and --full exclude each other/,
    );
  });
});

describe("train --resume", () => {
  let dir = "";
  let fx: TrainFixture;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "prefrec-resume-cli-"));
    fx = await buildTrainFixture(dir, { users: 60, maxTrain: 16 });
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const cli = async (args: string[]) => {
    const program = new Command().exitOverride();
    registerTrain(program);
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = (() => true) as typeof process.stdout.write;
    try {
      await program.parseAsync(["node", "prefrec", "train", ...args, "--quiet"]);
    } finally {
      process.stdout.write = write;
    }
  };
  const lines = async (run: string) =>
    (await readFile(join(run, "metrics.jsonl"), "utf8"))
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { split?: string; step: number });

  it("refuses settings that cannot change, accepts runtime ones, adds no duplicate validation", async () => {
    const run = join(dir, "run");
    const common = ["--threads", "1"];
    await cli([
      "sft",
      "--data",
      fx.data,
      "--model",
      fx.model,
      "--full",
      "--out",
      run,
      "--max-steps",
      "2",
      "--eval-examples",
      "4",
      ...common,
    ]);
    const before = await lines(run);
    assert.equal(before.filter((l) => l.split === "valid").length, 1);

    await assert.rejects(
      cli(["sft", "--resume", run, "--lr", "0.5", "--batch-size", "2", "--data", fx.data]),
      (e: Error) =>
        e instanceof CliError &&
        /these cannot change on resume: --lr, --batch-size, --data \(may change: --max-steps, --threads, --provider, --log-every, --save-every\)/.test(
          e.message,
        ),
    );
    // A finished run resumed (with settings that may change) writes no second validation line.
    await cli(["sft", "--resume", run, "--threads", "1", "--log-every", "1"]);
    assert.deepEqual(await lines(run), before);
    const config = JSON.parse(await readFile(join(run, "config.json"), "utf8"));
    assert.equal(config.logEvery, 1);
    // Extending it continues and validates once more at the new end.
    await cli(["sft", "--resume", run, "--max-steps", "3"]);
    const after = await lines(run);
    assert.deepEqual(
      after.filter((l) => l.split === "valid").map((l) => l.step),
      [2, 3],
    );
  });
});
