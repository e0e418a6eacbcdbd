// The LM head of a 16-bit frozen model multiplied in vocabulary chunks (no float32 copy of the
// whole head) against the unchunked head: logits, scores and LoRA gradients, bits in memory and
// file-backed (a checkpoint's shards), tied and untied heads, with PEFT token rows.

import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { grad, reduceSum, serializeWithExternal } from "../../src/graph/index.js";
import { packCompletions, packPrompts } from "../../src/model/batch.js";
import { loadCheckpoint } from "../../src/model/checkpoint.js";
import type { LmConfig } from "../../src/model/config.js";
import type { BindOptions } from "../../src/model/graph/params.js";
import { forwardProgram, sharedPrefixProgram } from "../../src/model/graph/programs.js";
import { LanguageModel } from "../../src/model/lm.js";
import { initLoraWeights } from "../../src/model/lora.js";
import { PROJECTIONS } from "../../src/model/names.js";
import { initTokenRows } from "../../src/model/peft-tokens.js";
import { writeRandomCheckpoint } from "../../src/model/random-checkpoint.js";
import type { Weights } from "../../src/model/weights.js";
import { storedWeights, testRuntime, tinyConfig, tinyWeights } from "./tiny.js";

const prompts = [
  [1, 4, 6, 8],
  [1, 9, 3],
];
const completions = [
  [
    [5, 2],
    [7, 8, 2],
    [30, 36],
  ],
  [[10, 11, 12, 2], [4], [33, 2]],
];

/** Logits, completion log-probs and LoRA gradients with the given bind options. */
async function run(config: LmConfig, weights: Weights, bind: BindOptions) {
  const forward = forwardProgram(config, weights, bind);
  const f = await testRuntime.compile(forward.graph, forward.outputs);
  const ids = [1, 5, 9, 3, 36, 11, 2];
  const logits = await f.run({
    ids: { data: BigInt64Array.from(ids.map(BigInt)), shape: [1, ids.length] },
    positions: { data: BigInt64Array.from(ids.map((_, i) => BigInt(i))), shape: [1, ids.length] },
    mask: { data: new Float32Array(ids.length).fill(1), shape: [1, ids.length] },
  });
  const lora = initLoraWeights(config, PROJECTIONS, 2, 9);
  for (const pair of lora.values())
    for (let i = 0; i < pair.B.data.length; i++) pair.B.data[i] = 0.01 * ((i % 7) - 3);
  const program = sharedPrefixProgram(config, weights, {
    ...bind,
    trainable: "lora",
    lora: { weights: lora, scaling: 2 },
  });
  const names = [...program.model.trainable.keys()];
  const grads = grad(reduceSum(program.outputs.logp_sum), [...program.model.trainable.values()]);
  const outputs = {
    logp_sum: program.outputs.logp_sum,
    ...Object.fromEntries(names.map((_, i) => [`g${i}`, grads[i]])),
  };
  const compiled = await testRuntime.compile(program.graph, outputs);
  const { lengths, ...promptFeeds } = packPrompts(prompts, "left", 0);
  const out = await compiled.run({
    ...program.model.feeds,
    ...promptFeeds,
    ...packCompletions(completions, lengths, 0),
  });
  return {
    logits: Array.from(logits.logits.data as Float32Array),
    logp: Array.from(out.logp_sum.data as Float32Array),
    grads: names.map((_, i) => Array.from(out[`g${i}`].data as Float32Array)),
    heads: forward.graph.nodes.filter(
      (n) => n.op === "Frozen" && /rows_/.test(String(n.attrs.name)),
    ).length,
  };
}

/** Largest |a − b| relative to the largest |b|. */
function relativeError(a: readonly number[], b: readonly number[]): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < b.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return diff / scale;
}

/** Chunked (8 rows: 5 chunks of the 37-token vocabulary, the last one short) vs unchunked. */
async function compareChunked(config: LmConfig, weights: Weights) {
  const chunked = await run(config, weights, { headChunkRows: 8 });
  const whole = await run(config, weights, { headChunkRows: config.vocabSize });
  assert.equal(chunked.heads, 5);
  assert.equal(whole.heads, 0);
  assert.equal(chunked.logits.length, 7 * config.vocabSize);
  // Each logit is the same dot product over D whichever chunk its row is in.
  assert.deepEqual(chunked.logits, whole.logits);
  assert.ok(relativeError(chunked.logp, whole.logp) < 1e-6);
  chunked.grads.forEach((g, i) => {
    assert.ok(whole.grads[i].some((v) => v !== 0));
    assert.ok(relativeError(g, whole.grads[i]) < 1e-5, `gradient ${i}`);
  });
}

for (const tie of [true, false]) {
  test(`a ${tie ? "tied" : "untied"} 16-bit head in vocabulary chunks gives the whole head's logits, scores and LoRA gradients`, async () => {
    const config = tinyConfig({ tieWordEmbeddings: tie });
    await compareChunked(config, storedWeights(tinyWeights(config, 3), "bfloat16"));
  });
}

test("head chunks of a file-backed checkpoint are ranges of its shard (no copy), with the whole head's results", async () => {
  const dir = await mkdtemp(join(tmpdir(), "prefrec-head-"));
  try {
    const config = tinyConfig({ tieWordEmbeddings: false, initializerRange: 0.2 });
    await writeRandomCheckpoint(dir, config, { seed: 4, shardBytes: 4096 });
    const { weights } = await loadCheckpoint(dir, { weightsDtype: "stored" });
    const head = weights.get("lm_head.weight")!.stored!.file!;
    const program = forwardProgram(config, weights, { headChunkRows: 8 });
    const { external, folder } = serializeWithExternal(program.graph, program.outputs, {});
    assert.equal(external.length, 0);
    assert.ok(folder !== undefined);
    const chunks = program.graph.nodes
      .filter((n) => n.op === "Frozen" && /^lm_head\.weight\.rows_/.test(String(n.attrs.name)))
      .map((n) => n.attrs.data as typeof head);
    assert.deepEqual(
      chunks.map((c) => [c.file, c.offset, c.length]),
      [0, 8, 16, 24, 32].map((r) => [
        head.file,
        head.offset + r * config.hiddenSize * 2,
        (Math.min(r + 8, 37) - r) * config.hiddenSize * 2,
      ]),
    );
    await compareChunked(config, weights);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("float32 heads are not chunked (there is no 16-bit copy to spare)", () => {
  const config = tinyConfig({ tieWordEmbeddings: false });
  const program = forwardProgram(config, tinyWeights(config, 3), { headChunkRows: 8 });
  assert.equal(program.graph.nodes.filter((n) => /rows_/.test(String(n.attrs.name))).length, 0);
});

test("token rows (PEFT trainable tokens) replace their logits columns the same with a chunked head", async () => {
  for (const tie of [true, false]) {
    const config = tinyConfig({ tieWordEmbeddings: tie });
    const weights = storedWeights(tinyWeights(config, 6), "bfloat16");
    const tokens = initTokenRows(config, weights, [3, 20, 36]);
    for (const t of tokens.values())
      for (let i = 0; i < t.rows.data.length; i++) t.rows.data[i] = 0.05 * ((i % 11) - 5);
    const adapter = {
      config: {
        r: 2,
        loraAlpha: 4,
        loraDropout: 0,
        targetModules: ["q_proj", "v_proj"],
        baseModelNameOrPath: null,
        useRslora: false,
        extra: {},
      },
      weights: initLoraWeights(config, ["q_proj", "v_proj"], 2, 3),
      tokens,
    };
    const lm = (headChunkRows: number) =>
      new LanguageModel(config, weights, { runtime: testRuntime, adapter, headChunkRows });
    const ids = [1, 3, 20, 36, 5];
    const chunked = await lm(8).logits(ids);
    const whole = await lm(config.vocabSize).logits(ids);
    assert.deepEqual(chunked.data, whole.data);
    // The rows matter: without them the token columns differ.
    const plain = await new LanguageModel(config, weights, {
      runtime: testRuntime,
      adapter: { ...adapter, tokens: undefined },
      headChunkRows: 8,
    }).logits(ids);
    const V = config.vocabSize;
    assert.notEqual((plain.data as Float32Array)[V + 20], (chunked.data as Float32Array)[V + 20]);
  }
});
