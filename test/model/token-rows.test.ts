// Trainable token rows (PEFT trainable_token_indices) and LLaRA's projected item rows: in-graph
// rows equal rows written into the weights, their gradients match finite differences, and the
// adapter files round-trip in the format PEFT reads (Python/PEFT is not installed here, so the
// files are checked against PEFT's code: src/peft/tuners/trainable_tokens/layer.py and
// TrainableTokensWrapper.adapter_state_dict in src/peft/utils/other.py).

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { promisify } from "node:util";
import { grad, mul, reduceSum, type Tensor, type Value } from "../../src/graph/index.js";
import { withSafetensors } from "../../src/io/safetensors.js";
import { packCompletions, packPrompts } from "../../src/model/batch.js";
import { saveCheckpoint } from "../../src/model/checkpoint.js";
import type { LmConfig } from "../../src/model/config.js";
import type { BindOptions, ItemProjection } from "../../src/model/graph/params.js";
import { sharedPrefixProgram } from "../../src/model/graph/programs.js";
import { LanguageModel } from "../../src/model/lm.js";
import { initLoraWeights } from "../../src/model/lora.js";
import { type LoraAdapterConfig, loadLoraAdapter, saveLoraAdapter } from "../../src/model/peft.js";
import {
  growForTokens,
  initTokenRows,
  mergeTokenRows,
  parseTokenIndices,
  type TrainableTokens,
} from "../../src/model/peft-tokens.js";
import { projectItemRows } from "../../src/model/resize.js";
import type { Weights } from "../../src/model/weights.js";
import { tempDir } from "../io/helpers.js";
import { testRuntime, tinyConfig, tinyWeights } from "./tiny.js";

function lcg(seed: number) {
  let s = seed;
  return () => {
    s = (s * 48271) % 2147483647;
    return s / 2147483647 - 0.5;
  };
}

/** Token rows for `indices`, filled with seeded values far from the base rows. */
function randomTokens(config: LmConfig, weights: Weights, indices: number[], seed: number) {
  const tokens = initTokenRows(config, weights, indices);
  const next = lcg(seed);
  for (const t of tokens.values())
    for (let i = 0; i < t.rows.data.length; i++) t.rows.data[i] = next();
  return tokens;
}

const LORA_CONFIG: LoraAdapterConfig = {
  r: 2,
  loraAlpha: 4,
  loraDropout: 0,
  targetModules: ["q_proj", "v_proj"],
  baseModelNameOrPath: null,
  useRslora: false,
  extra: {},
};

async function logitsOf(model: LanguageModel, ids: number[]): Promise<Float32Array> {
  return (await model.logits(ids)).data as Float32Array;
}

describe("token rows in the graph", () => {
  for (const tied of [true, false]) {
    it(`equal the rows written into the weights (${tied ? "tied" : "untied"} head)`, async () => {
      const config = tinyConfig({ tieWordEmbeddings: tied });
      const weights = tinyWeights(config, 2);
      const tokens = randomTokens(config, weights, [30, 3, 36], 5);
      assert.deepEqual(
        [...tokens.keys()],
        tied ? ["model.embed_tokens"] : ["model.embed_tokens", "lm_head"],
      );
      const lora = initLoraWeights(config, ["q_proj", "v_proj"], 2, 1);
      const adapted = new LanguageModel(config, weights, {
        runtime: testRuntime,
        adapter: { config: LORA_CONFIG, weights: lora, tokens },
      });
      // Independent path: the rows copied into plain weights, no token rows in the graph.
      const merged = new LanguageModel(config, mergeTokenRows(weights, tokens, config), {
        runtime: testRuntime,
        adapter: { config: LORA_CONFIG, weights: lora },
      });
      const ids = [1, 30, 5, 3, 36, 36, 7];
      const a = await logitsOf(adapted, ids);
      const b = await logitsOf(merged, ids);
      for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) < 1e-5, `logit ${i}`);
      // And the rows matter: without them the logits differ.
      const plain = await logitsOf(
        new LanguageModel(config, weights, { runtime: testRuntime }),
        ids,
      );
      assert.ok(a.some((x, i) => Math.abs(x - plain[i]) > 1e-3));
    });
  }

  it("projected item rows equal source·Wᵀ + b written into the embedding", async () => {
    const config = tinyConfig({ tieWordEmbeddings: true });
    const weights = tinyWeights(config, 4);
    const projection = seededProjection(config, [33, 34, 35, 36], 3, 9);
    const rows = projectItemRows(projection);
    const tokens: TrainableTokens = new Map([
      ["model.embed_tokens", { indices: projection.indices, rows: { shape: [4, 16], data: rows } }],
    ]);
    const projected = new LanguageModel(config, weights, { runtime: testRuntime, projection });
    const merged = new LanguageModel(config, mergeTokenRows(weights, tokens, config), {
      runtime: testRuntime,
    });
    const ids = [1, 33, 4, 36, 35];
    const a = await logitsOf(projected, ids);
    const b = await logitsOf(merged, ids);
    for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) < 1e-5, `logit ${i}`);
  });
});

function seededProjection(
  config: LmConfig,
  indices: number[],
  dSource: number,
  seed: number,
): ItemProjection {
  const next = lcg(seed);
  const d = config.hiddenSize;
  const fill = (n: number) => Float32Array.from({ length: n }, () => next());
  return {
    module: "model.embed_tokens",
    indices,
    source: { shape: [indices.length, dSource], data: fill(indices.length * dSource) },
    weight: { shape: [d, dSource], data: fill(d * dSource) },
    bias: { shape: [d], data: fill(d) },
  };
}

/** Central finite differences of a weighted sum of completion log-probs, in float64. */
async function checkGradients(config: LmConfig, weights: Weights, options: BindOptions) {
  const program = sharedPrefixProgram(config, weights, { ...options, dtype: "float64" });
  const g = program.graph;
  const coefficients = g.input("coefficients", "float64", ["B", "N"]);
  const loss = reduceSum(mul(program.outputs.logp_sum, coefficients));
  const names = [...program.model.trainable.keys()];
  const grads = grad(loss, [...program.model.trainable.values()]);
  const outputs: Record<string, Value> = { loss };
  names.forEach((n, i) => {
    outputs[`grad:${n}`] = grads[i];
  });
  const withGrads = await testRuntime.compile(g, outputs);
  const lossOnly = await testRuntime.compile(g, { loss });
  // Prompts and answers use the replaced ids (30, 33…36) in both the input and the answers.
  const prompts = [
    [5, 33, 7, 30],
    [34, 10],
  ];
  const completions = [
    [[35, 2], [36], [30, 16]],
    [[33], [18, 34], [36]],
  ];
  const p = packPrompts(prompts, "left", 0, "float64");
  const { lengths: _, ...promptFeeds } = p;
  const feeds = {
    ...program.model.feeds,
    ...promptFeeds,
    ...packCompletions(completions, p.lengths, 0, "float64"),
    coefficients: { data: new Float64Array([1, -0.5, 0.25, 2, -1, 0.75]), shape: [2, 3] },
  } as Record<string, Tensor | Float64Array>;
  const result = await withGrads.run(feeds);
  const checked: string[] = [];
  for (const name of names) {
    if (!name.includes("trainable_tokens") && !name.startsWith("item_projection")) continue;
    const x = program.model.feeds[name] as Float64Array;
    const analytic = result[`grad:${name}`].data as Float64Array;
    for (let s = 0; s < 6; s++) {
      const j = Math.floor(((s + 0.5) / 6) * x.length);
      const saved = x[j];
      const eps = 1e-6;
      x[j] = saved + eps;
      const plus = (await lossOnly.run(feeds)).loss.data[0] as number;
      x[j] = saved - eps;
      const minus = (await lossOnly.run(feeds)).loss.data[0] as number;
      x[j] = saved;
      const numeric = (plus - minus) / (2 * eps);
      assert.ok(
        Math.abs(analytic[j] - numeric) <= 1e-6 + 1e-5 * Math.abs(numeric),
        `d loss / d ${name}[${j}]: autodiff ${analytic[j]}, finite differences ${numeric}`,
      );
    }
    assert.ok(
      analytic.some((v) => v !== 0),
      `${name}: the gradient is not all zero`,
    );
    checked.push(name);
  }
  return checked.sort();
}

describe("gradients of token rows and of the item projection", () => {
  for (const tied of [true, false]) {
    it(`token rows beside LoRA (${tied ? "tied" : "untied"} head) match finite differences`, async () => {
      const config = tinyConfig({ tieWordEmbeddings: tied });
      const weights = tinyWeights(config, 3);
      const tokens = randomTokens(config, weights, [30, 33, 34, 35, 36], 7);
      const lora = initLoraWeights(config, ["q_proj"], 2, 4);
      const checked = await checkGradients(config, weights, {
        trainable: "lora",
        lora: { weights: lora, scaling: 2 },
        tokens,
      });
      assert.deepEqual(
        checked,
        tied
          ? ["model.embed_tokens.trainable_tokens_delta"]
          : ["lm_head.trainable_tokens_delta", "model.embed_tokens.trainable_tokens_delta"],
      );
    });
  }
  it("the projection's W and b match finite differences (full fine-tuning, tied head)", async () => {
    const config = tinyConfig({ tieWordEmbeddings: true });
    const weights = tinyWeights(config, 5);
    const projection = seededProjection(config, [33, 34, 35, 36], 3, 11);
    const checked = await checkGradients(config, weights, { trainable: "full", projection });
    assert.deepEqual(checked, ["item_projection.bias", "item_projection.weight"]);
  });
  it("the projection replaces LoRA token rows of the embedding (untied head keeps its rows)", async () => {
    const config = tinyConfig({ tieWordEmbeddings: false });
    const weights = tinyWeights(config, 6);
    const tokens = randomTokens(config, weights, [33, 34, 35, 36], 8);
    const projection = seededProjection(config, [33, 34, 35, 36], 3, 12);
    const lora = initLoraWeights(config, ["v_proj"], 2, 4);
    const checked = await checkGradients(config, weights, {
      trainable: "lora",
      lora: { weights: lora, scaling: 2 },
      tokens,
      projection,
    });
    assert.deepEqual(checked, [
      "item_projection.bias",
      "item_projection.weight",
      "lm_head.trainable_tokens_delta",
    ]);
  });
});

describe("adapters with token rows in PEFT's format", () => {
  for (const tied of [true, false]) {
    it(`save → load gives the same logits, keys and config as PEFT writes (${tied ? "tied" : "untied"})`, async (t) => {
      const dir = await tempDir(t);
      // The base has 33 tokens; the run grew it to 37 (ids 33…36 new), as item tokens do.
      const base = tinyConfig({ tieWordEmbeddings: tied, vocabSize: 33 });
      const baseWeights = tinyWeights(base, 3);
      await saveCheckpoint(join(dir, "base"), { config: base, weights: baseWeights });
      const { config, weights } = growForTokens(
        base,
        baseWeights,
        new Map([
          [
            "model.embed_tokens",
            { indices: [36], rows: { shape: [1, 16], data: new Float32Array(16) } },
          ],
        ]),
      );
      const tokens = randomTokens(config, weights, [33, 34, 35, 36], 9);
      const lora = initLoraWeights(config, ["q_proj", "v_proj"], 2, 1);
      for (const pair of lora.values()) pair.B.data.fill(0.05);
      const tokenizer = join(dir, "tok");
      await mkdir(tokenizer);
      await writeFile(join(tokenizer, "tokenizer.json"), '{"model":{}}\n');
      await saveLoraAdapter(join(dir, "adapter"), LORA_CONFIG, lora, {
        tokens,
        tokenizerDir: tokenizer,
      });

      const json = JSON.parse(await readFile(join(dir, "adapter", "adapter_config.json"), "utf8"));
      assert.deepEqual(
        json.trainable_token_indices,
        tied
          ? { embed_tokens: [33, 34, 35, 36] }
          : { embed_tokens: [33, 34, 35, 36], lm_head: [33, 34, 35, 36] },
      );
      // PEFT's keys: base_model.model.<module>.token_adapter.trainable_tokens_delta, [n, hidden];
      // a tied head has none (PEFT's tied adapter saves nothing).
      const shapes = await withSafetensors(
        join(dir, "adapter", "adapter_model.safetensors"),
        async (st) =>
          Object.fromEntries(st.names().map((n) => [n, st.header.tensors.get(n)!.shape])),
      );
      assert.deepEqual(
        shapes["base_model.model.model.embed_tokens.token_adapter.trainable_tokens_delta"],
        [4, 16],
      );
      assert.deepEqual(
        shapes["base_model.model.lm_head.token_adapter.trainable_tokens_delta"],
        tied ? undefined : [4, 16],
      );
      assert.equal(
        await readFile(join(dir, "adapter", "tokenizer.json"), "utf8"),
        '{"model":{}}\n',
      );

      const loaded = await loadLoraAdapter(join(dir, "adapter"));
      assert.deepEqual([...loaded.tokens!.keys()], [...tokens.keys()]);
      const fromDisk = await LanguageModel.load(join(dir, "base"), {
        adapter: join(dir, "adapter"),
        runtime: testRuntime,
        weightsDtype: "float32",
      });
      assert.equal(fromDisk.config.vocabSize, 37);
      const inMemory = new LanguageModel(config, weights, {
        runtime: testRuntime,
        adapter: { config: LORA_CONFIG, weights: lora, tokens },
      });
      const ids = [1, 33, 5, 36, 34];
      assert.deepEqual(await logitsOf(fromDisk, ids), await logitsOf(inMemory, ids));
      if (tied) return;
      // `prefrec model merge` grows the base, writes the rows and factors in, keeps the tokenizer.
      const bin = join(import.meta.dirname, "..", "..", "bin", "prefrec.js");
      const out = join(dir, "merged");
      await promisify(execFile)(process.execPath, [
        bin,
        "model",
        "merge",
        join(dir, "base"),
        "--adapter",
        join(dir, "adapter"),
        "--out",
        out,
      ]);
      const merged = await LanguageModel.load(out, { runtime: testRuntime });
      assert.equal(merged.config.vocabSize, 37);
      const a = await logitsOf(merged, ids);
      const b = await logitsOf(inMemory, ids);
      for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) < 1e-5, `logit ${i}`);
      assert.equal(await readFile(join(out, "tokenizer.json"), "utf8"), '{"model":{}}\n');
    });
  }

  it("reads PEFT's list form and names a bad trainable_token_indices", async (t) => {
    assert.deepEqual(parseTokenIndices([4, 5]), new Map([["model.embed_tokens", [4, 5]]]));
    assert.deepEqual(
      parseTokenIndices({ "model.embed_tokens": [4], lm_head: [4] }),
      new Map([
        ["model.embed_tokens", [4]],
        ["lm_head", [4]],
      ]),
    );
    assert.throws(() => parseTokenIndices({ q_proj: [1] }), /q_proj/);
    assert.throws(() => parseTokenIndices([1, 1]), /twice/);
    const dir = await tempDir(t);
    const config = tinyConfig();
    await saveLoraAdapter(dir, LORA_CONFIG, initLoraWeights(config, ["q_proj"], 2, 1), {
      overwrite: true,
    });
    const file = join(dir, "adapter_config.json");
    const json = JSON.parse(await readFile(file, "utf8"));
    await writeFile(file, JSON.stringify({ ...json, trainable_token_indices: [-1] }));
    await assert.rejects(loadLoraAdapter(dir), /"trainable_token_indices": the list must be/);
    await writeFile(file, JSON.stringify({ ...json, trainable_token_indices: [3] }));
    await assert.rejects(loadLoraAdapter(dir), /trainable_tokens_delta.*is missing/);
  });
});
