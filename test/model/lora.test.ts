// LoRA on the model graph: B = 0 reproduces the base exactly, unmerged equals merged, and a
// saved PEFT adapter loads back into a LanguageModel with the same outputs.

import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { saveCheckpoint } from "../../src/model/checkpoint.js";
import { LanguageModel } from "../../src/model/lm.js";
import { initLoraWeights, mergeLora } from "../../src/model/lora.js";
import { PROJECTIONS } from "../../src/model/names.js";
import { type LoraAdapterConfig, saveLoraAdapter } from "../../src/model/peft.js";
import { testRuntime, tinyConfig, tinyWeights } from "./tiny.js";

const config = tinyConfig({ modelType: "qwen2", qkvBias: true, tieWordEmbeddings: false });
const base = tinyWeights(config, 8);
const adapterConfig: LoraAdapterConfig = {
  r: 4,
  loraAlpha: 8,
  loraDropout: 0,
  targetModules: [...PROJECTIONS],
  baseModelNameOrPath: null,
  useRslora: false,
  extra: {},
};
const ids = [3, 14, 15, 9, 26, 5];

function randomizeB(weights: ReturnType<typeof initLoraWeights>): void {
  let s = 99;
  for (const pair of weights.values()) {
    for (let i = 0; i < pair.B.data.length; i++) {
      s = (s * 48271) % 2147483647;
      pair.B.data[i] = (s / 2147483647 - 0.5) * 0.2;
    }
  }
}

describe("LoRA", () => {
  let dir: string | undefined;
  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("B = 0 (PEFT's initialization) gives exactly the base logits", async () => {
    const lora = initLoraWeights(config, PROJECTIONS, 4, 1);
    const plain = await new LanguageModel(config, base, { runtime: testRuntime }).logits(ids);
    const adapted = await new LanguageModel(config, base, {
      runtime: testRuntime,
      adapter: { weights: lora, config: adapterConfig },
    }).logits(ids);
    assert.deepEqual([...(adapted.data as Float32Array)], [...(plain.data as Float32Array)]);
  });

  it("unmerged equals merged to 1e-5, and differs from the base", async () => {
    const lora = initLoraWeights(config, PROJECTIONS, 4, 2);
    randomizeB(lora);
    const unmerged = await new LanguageModel(config, base, {
      runtime: testRuntime,
      adapter: { weights: lora, config: adapterConfig },
    }).logits(ids);
    const merged = await new LanguageModel(config, mergeLora(base, lora, adapterConfig), {
      runtime: testRuntime,
    }).logits(ids);
    const plain = await new LanguageModel(config, base, { runtime: testRuntime }).logits(ids);
    const a = unmerged.data as Float32Array;
    const b = merged.data as Float32Array;
    const p = plain.data as Float32Array;
    let maxDiff = 0;
    let maxEffect = 0;
    for (let i = 0; i < a.length; i++) {
      maxDiff = Math.max(maxDiff, Math.abs(a[i] - b[i]));
      maxEffect = Math.max(maxEffect, Math.abs(a[i] - p[i]));
    }
    assert.ok(maxDiff < 1e-5, `merged vs unmerged differ by ${maxDiff}`);
    assert.ok(maxEffect > 1e-2, `the adapter changes the logits (by ${maxEffect})`);
  });

  it("model directory + PEFT adapter saved and loaded give the same scores", async () => {
    const lora = initLoraWeights(config, ["q_proj", "v_proj", "down_proj"], 4, 3);
    randomizeB(lora);
    const config2 = { ...adapterConfig, targetModules: ["q_proj", "v_proj", "down_proj"] };
    const inMemory = new LanguageModel(config, base, {
      runtime: testRuntime,
      adapter: { weights: lora, config: config2 },
    });
    dir = await mkdtemp(join(tmpdir(), "prefrec-lora-"));
    await saveCheckpoint(join(dir, "model"), { config, weights: base });
    await saveLoraAdapter(join(dir, "adapter"), config2, lora);
    const loaded = await LanguageModel.load(join(dir, "model"), {
      adapter: join(dir, "adapter"),
      runtime: testRuntime,
    });
    const prompts = [[4, 5, 6], [7]];
    const completions = [[[8, 9], [10]], [[11, 12, 13]]];
    const expected = await inMemory.score(prompts, completions);
    const got = await loaded.score(prompts, completions);
    assert.deepEqual(got, expected);
  });
});

describe("prefrec model merge", () => {
  it("writes a model whose logits equal the base with the adapter applied", async () => {
    const { execFile } = await import("node:child_process");
    const { promisify } = await import("node:util");
    const run = promisify(execFile);
    const work = await mkdtemp(join(tmpdir(), "prefrec-merge-"));
    try {
      const lora = initLoraWeights(config, ["k_proj", "up_proj"], 2, 6);
      randomizeB(lora);
      const cfg = { ...adapterConfig, r: 2, targetModules: ["k_proj", "up_proj"] };
      await saveCheckpoint(join(work, "base"), { config, weights: base });
      await saveLoraAdapter(join(work, "adapter"), cfg, lora);
      const bin = join(import.meta.dirname, "..", "..", "bin", "prefrec.js");
      await run(process.execPath, [
        bin,
        "model",
        "merge",
        join(work, "base"),
        "--adapter",
        join(work, "adapter"),
        "--out",
        join(work, "merged"),
      ]);
      const merged = await LanguageModel.load(join(work, "merged"), { runtime: testRuntime });
      const adapted = new LanguageModel(config, base, {
        runtime: testRuntime,
        adapter: { weights: lora, config: cfg },
      });
      const a = (await merged.logits(ids)).data as Float32Array;
      const b = (await adapted.logits(ids)).data as Float32Array;
      for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) < 1e-5);
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  });
});
