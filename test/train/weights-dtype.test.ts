// `weightsDtype` (--weights-dtype) in training: a BF16 checkpoint trained with its frozen weights
// as stored or as float32 gives the same losses (the cast is exact), for LoRA and for full
// fine-tuning (float32 masters, 16-bit reference); the config file sets it, resume keeps it.

import assert from "node:assert/strict";
import { copyFile, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { newRunConfig, resumeConfig } from "../../src/cli/train-config.js";
import { Runtime } from "../../src/graph/index.js";
import { planWeights } from "../../src/model/checkpoint.js";
import { loadLmConfig } from "../../src/model/config.js";
import { writeRandomCheckpoint } from "../../src/model/random-checkpoint.js";
import { TOKENIZER_FILES } from "../../src/model/tokenizer/items.js";
import { parseTrainConfig } from "../../src/train/config.js";
import { train } from "../../src/train/trainer.js";
import { buildTrainFixture, type TrainFixture } from "./fixture.js";

const runtime = new Runtime({ threads: 1 });

describe("weightsDtype in training", () => {
  let dir = "";
  let fx: TrainFixture;
  let bf16 = "";
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "prefrec-wdtype-"));
    fx = await buildTrainFixture(dir);
    // The fixture's shape and tokenizer, random BF16 weights.
    bf16 = join(dir, "bf16");
    await writeRandomCheckpoint(bf16, await loadLmConfig(fx.model), { seed: 2 });
    for (const f of TOKENIZER_FILES)
      await copyFile(join(fx.model, f), join(bf16, f)).catch(() => undefined);
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** Losses of a 2-step S-DPO run (a reference model is needed) and its summary. */
  const run = async (name: string, weightsDtype: string, lora: unknown) => {
    const out = join(dir, name);
    const config = parseTrainConfig({
      data: fx.data,
      model: bf16,
      objective: { type: "sdpo", beta: 1, negatives: 3 },
      batchSize: 4,
      lr: 1e-3,
      evalExamples: 0,
      maxSteps: 2,
      lora,
      weightsDtype,
    });
    await train(config, out, { quiet: true, runtime });
    const losses = (await readFile(join(out, "metrics.jsonl"), "utf8"))
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l).loss as number);
    const summary = JSON.parse(await readFile(join(out, "summary.json"), "utf8"));
    return { out, losses, summary };
  };

  const close = (a: number[], b: number[]) => {
    assert.equal(a.length, b.length);
    for (let i = 0; i < a.length; i++)
      assert.ok(Math.abs(a[i] - b[i]) <= 1e-5 * Math.max(1, Math.abs(b[i])), `loss ${i}`);
  };

  it("full fine-tuning: stored (float32 masters, BF16 reference) trains as float32 does", async () => {
    const stored = await run("full-stored", "stored", null);
    const f32 = await run("full-f32", "float32", null);
    close(stored.losses, f32.losses);
    assert.equal(stored.summary.memory.weightsDtype, "stored");
    assert.match(stored.summary.memory.held, /frozen reference keeps BF16 as stored/);
    assert.doesNotMatch(f32.summary.memory.held, /reference/);
    // The trained weights are float32 whichever way the base was held.
    const model = join(stored.out, "checkpoints", "last", "model");
    const plan = await planWeights(model, await loadLmConfig(model), "stored");
    assert.deepEqual(Object.keys(plan.dtypes), ["F32"]);
  });

  it("LoRA: a stored base and a float32 base give the same losses", async () => {
    const lora = { r: 4, alpha: 8 };
    const stored = await run("lora-stored", "stored", lora);
    const f32 = await run("lora-f32", "float32", lora);
    close(stored.losses, f32.losses);
    assert.match(stored.summary.memory.held, /^BF16 as stored/);
    assert.equal(f32.summary.memory.held, "float32 in memory");
  });

  it("a config file sets it, a bad value is named, and --resume keeps it", async () => {
    const file = join(dir, "run.yaml");
    const out = join(dir, "from-file");
    await writeFile(file, `data: ${fx.data}\nmodel: ${bf16}\nout: ${out}\nweightsDtype: float32\n`);
    const { config } = await newRunConfig("sft", { config: file });
    assert.equal(config.weightsDtype, "float32");
    const flag = await newRunConfig("sft", { config: file, weightsDtype: "stored" });
    assert.equal(flag.config.weightsDtype, "stored");
    await writeFile(file, `data: ${fx.data}\nmodel: ${bf16}\nout: ${out}\nweightsDtype: int8\n`);
    await assert.rejects(newRunConfig("sft", { config: file }), /weightsDtype.*stored, float32/);
    // A run's config.json carries it; resume may not change it.
    const done = join(dir, "lora-f32");
    assert.equal((await resumeConfig("sdpo", { resume: done })).weightsDtype, "float32");
    await assert.rejects(
      resumeConfig("sdpo", { resume: done, weightsDtype: "stored" }),
      /cannot change on resume: --weights-dtype/,
    );
  });
});
