// 16-bit resident frozen weights against the float32 path: logits, scores and LoRA gradients;
// frozen weights handed to ONNX Runtime as external data from memory.

import assert from "node:assert/strict";
import { test } from "node:test";
import { grad, Runtime, reduceSum, serializeWithExternal } from "../../src/graph/index.js";
import { packCompletions, packPrompts } from "../../src/model/batch.js";
import { sharedPrefixProgram } from "../../src/model/graph/programs.js";
import { LanguageModel } from "../../src/model/lm.js";
import { initLoraWeights } from "../../src/model/lora.js";
import { PROJECTIONS } from "../../src/model/names.js";
import { float32Of, type Weights } from "../../src/model/weights.js";
import { storedWeights, testRuntime, tinyConfig, tinyWeights } from "./tiny.js";

/** The weights rounded to a 16-bit format, kept as bits, and the same values as float32. */
function rounded(
  weights: Weights,
  dtype: "bfloat16" | "float16",
): { stored: Weights; f32: Weights } {
  const stored = storedWeights(weights, dtype);
  const f32: Weights = new Map();
  for (const [name, s] of stored) f32.set(name, { shape: s.shape, data: float32Of(s) });
  return { stored, f32 };
}

/** Largest |a − b| relative to the largest |b|. */
function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < b.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return diff / scale;
}

const ids = [1, 5, 9, 3, 7, 11, 2];
const prompts = [
  [1, 4, 6, 8],
  [1, 9, 3],
];
const completions = [
  [
    [5, 2],
    [7, 8, 2],
  ],
  [[10, 11, 12, 2], [4]],
];

test("attention is recomputed in training graphs by default only on 16-bit resident weights", () => {
  const config = tinyConfig();
  const { stored, f32 } = rounded(tinyWeights(config, 3), "bfloat16");
  const recomputes = (weights: Weights, recomputeAttention?: boolean) =>
    sharedPrefixProgram(config, weights, { recomputeAttention }).model.recomputeAttention;
  assert.equal(recomputes(stored), true);
  assert.equal(recomputes(f32), false);
  assert.equal(recomputes(f32, true), true);
  assert.equal(recomputes(stored, false), false);
});

for (const dtype of ["bfloat16", "float16"] as const) {
  test(`${dtype} resident weights give the float32 path's logits and scores (to float32 rounding)`, async () => {
    const config = tinyConfig({ tieWordEmbeddings: false, qkvBias: true });
    const { stored, f32 } = rounded(tinyWeights(config, 3), dtype);
    const resident = new LanguageModel(config, stored, { runtime: testRuntime });
    const reference = new LanguageModel(config, f32, { runtime: testRuntime, weightsAs: "input" });
    const a = await resident.logits(ids);
    const b = await reference.logits(ids);
    assert.ok(relativeError(a.data as Float32Array, b.data as Float32Array) < 1e-6);
    const sa = await resident.score(prompts, completions);
    const sb = await reference.score(prompts, completions);
    assert.ok(relativeError(sa.logpSum.flat(), sb.logpSum.flat()) < 1e-6);
    // A stored weight is held in 16 bits: the float32 array is empty.
    assert.equal(stored.get("model.layers.0.self_attn.q_proj.weight")!.data.length, 0);
  });
}

test("LoRA gradients through 16-bit resident weights equal the float32 path's", async () => {
  const config = tinyConfig();
  const { stored, f32 } = rounded(tinyWeights(config, 5), "bfloat16");
  const lora = initLoraWeights(config, PROJECTIONS, 2, 9);
  // B starts at zero in PEFT; random B makes every gradient non-trivial.
  let s = 17;
  for (const pair of lora.values())
    for (let i = 0; i < pair.B.data.length; i++) {
      s = (s * 1103515245 + 12345) % 2147483648;
      pair.B.data[i] = (s / 2147483648 - 0.5) * 0.2;
    }
  const gradients = async (weights: Weights, frozenAs: "constant" | "input") => {
    const program = sharedPrefixProgram(config, weights, {
      trainable: "lora",
      frozenAs,
      lora: { weights: lora, scaling: 2 },
    });
    const names = [...program.model.trainable.keys()];
    const grads = grad(reduceSum(program.outputs.logp_sum), [...program.model.trainable.values()]);
    const outputs = Object.fromEntries(names.map((n, i) => [n.replace(/\./g, "_"), grads[i]]));
    const compiled = await testRuntime.compile(program.graph, outputs);
    const { lengths, ...promptFeeds } = packPrompts(prompts, "left", 0);
    const out = await compiled.run({
      ...program.model.feeds,
      ...promptFeeds,
      ...packCompletions(completions, lengths, 0),
    });
    return names.map((n) => out[n.replace(/\./g, "_")].data as Float32Array);
  };
  const a = await gradients(stored, "constant");
  const b = await gradients(f32, "input");
  assert.equal(a.length, 2 * config.numLayers * PROJECTIONS.length);
  a.forEach((g, i) => {
    assert.ok(b[i].some((v) => v !== 0));
    assert.ok(relativeError(g, b[i]) < 1e-5, `gradient ${i}: ${relativeError(g, b[i])}`);
  });
});

test("frozen weights above the threshold reach ONNX Runtime as external data from memory", async () => {
  const config = tinyConfig();
  const { stored, f32 } = rounded(tinyWeights(config, 7), "bfloat16");
  const external = new Runtime({ threads: 1, externalMinBytes: 256 });
  for (const weights of [stored, f32]) {
    const lm = new LanguageModel(config, weights, { runtime: external });
    const inline = new LanguageModel(config, weights, {
      runtime: new Runtime({ threads: 1, externalMinBytes: Number.POSITIVE_INFINITY }),
    });
    const a = await lm.logits(ids);
    const b = await inline.logits(ids);
    assert.deepEqual(a.data, b.data);
  }
  // What was handed over: the large weights, outside the protobuf, as views of the arrays.
  const program = sharedPrefixProgram(config, stored);
  const big = serializeWithExternal(program.graph, program.outputs, { externalMinBytes: 256 });
  const small = serializeWithExternal(program.graph, program.outputs, {});
  assert.ok(big.external.length >= config.numLayers * 7);
  assert.equal(small.external.length, 0);
  const handed = big.external.reduce((n, e) => n + e.data.byteLength, 0);
  assert.ok(big.bytes.length + handed <= small.bytes.length + 1024);
  const q = stored.get("model.layers.0.self_attn.q_proj.weight")!.stored!.bits!;
  assert.ok(big.external.some((e) => e.data.buffer === q.buffer));
});
