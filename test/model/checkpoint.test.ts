import assert from "node:assert/strict";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { numberToBF16Bits, numberToF16Bits } from "../../src/io/float16.js";
import { type RawTensor, type WritableTensor, writeSafetensors } from "../../src/io/safetensors.js";
import {
  CheckpointError,
  loadCheckpoint,
  saveCheckpoint,
  validateWeights,
} from "../../src/model/checkpoint.js";
import { saveLmConfig } from "../../src/model/config-json.js";
import { initWeights } from "../../src/model/init.js";
import { expectedTensorShapes } from "../../src/model/names.js";
import type { Weights } from "../../src/model/weights.js";
import { tempDir } from "../io/helpers.js";
import { microConfig } from "./fixtures.js";

function assertSameWeights(a: Weights, b: Weights): void {
  assert.deepEqual([...a.keys()], [...b.keys()]);
  for (const [name, t] of a) {
    assert.deepEqual(b.get(name)!.shape, t.shape, name);
    assert.deepEqual(b.get(name)!.data, t.data, name);
  }
}

test("expected tensor names follow HF LLaMA/Qwen2 naming", () => {
  const names = [...expectedTensorShapes(microConfig()).entries()];
  assert.deepEqual(names.slice(0, 11), [
    ["model.embed_tokens.weight", [50, 16]],
    ["model.layers.0.input_layernorm.weight", [16]],
    ["model.layers.0.self_attn.q_proj.weight", [16, 16]],
    ["model.layers.0.self_attn.k_proj.weight", [8, 16]],
    ["model.layers.0.self_attn.v_proj.weight", [8, 16]],
    ["model.layers.0.self_attn.o_proj.weight", [16, 16]],
    ["model.layers.0.post_attention_layernorm.weight", [16]],
    ["model.layers.0.mlp.gate_proj.weight", [24, 16]],
    ["model.layers.0.mlp.up_proj.weight", [24, 16]],
    ["model.layers.0.mlp.down_proj.weight", [16, 24]],
    ["model.layers.1.input_layernorm.weight", [16]],
  ]);
  assert.deepEqual(names.slice(-2), [
    ["model.norm.weight", [16]],
    ["lm_head.weight", [50, 16]],
  ]);
  const qwen = expectedTensorShapes(
    microConfig({ model_type: "qwen2", tie_word_embeddings: true }),
  );
  assert.deepEqual(qwen.get("model.layers.1.self_attn.k_proj.bias"), [8]);
  assert.ok(qwen.has("model.layers.1.self_attn.q_proj.bias"));
  assert.ok(!qwen.has("model.layers.1.self_attn.o_proj.bias"));
  assert.ok(!qwen.has("lm_head.weight"));
});

test("save → load round trip (llama untied, qwen2 tied with biases), tokenizer files copied", async (t) => {
  const root = await tempDir(t);
  const tok = join(root, "tok");
  await saveLmConfig(tok, microConfig()); // any dir; only the copied files matter
  await writeFile(join(tok, "tokenizer.json"), "{}");
  await writeFile(join(tok, "tokenizer_config.json"), "{}");
  for (const config of [
    microConfig(),
    microConfig({ model_type: "qwen2", tie_word_embeddings: true }),
  ]) {
    const dir = join(root, config.modelType);
    const weights = initWeights(config, 3);
    await saveCheckpoint(dir, { config, weights }, { tokenizerDir: tok });
    assert.deepEqual((await readdir(dir)).sort(), [
      "config.json",
      "generation_config.json",
      "model.safetensors",
      "tokenizer.json",
      "tokenizer_config.json",
    ]);
    const loaded = await loadCheckpoint(dir);
    assert.deepEqual(loaded.config, config);
    assertSameWeights(loaded.weights, weights);
  }
  const gen = JSON.parse(await readFile(join(root, "llama", "generation_config.json"), "utf8"));
  assert.deepEqual(gen, { bos_token_id: 1, eos_token_id: 2, pad_token_id: 0 });
});

test("saving refuses a non-empty directory unless overwrite, and invalid weights", async (t) => {
  const dir = await tempDir(t);
  const config = microConfig();
  const weights = initWeights(config, 1);
  await writeFile(join(dir, "keep.txt"), "x");
  await assert.rejects(saveCheckpoint(dir, { config, weights }), /already exists and is not empty/);
  assert.deepEqual(await readdir(dir), ["keep.txt"]);
  await saveCheckpoint(dir, { config, weights }, { overwrite: true });
  assert.ok((await readdir(dir)).includes("model.safetensors"));
  const broken = new Map(weights);
  broken.delete("model.norm.weight");
  assert.throws(
    () => validateWeights(config, broken),
    /tensor "model\.norm\.weight": is missing, shape \[16\]/,
  );
});

async function writeModel(dir: string, tensors: [string, WritableTensor | RawTensor][]) {
  await writeSafetensors(join(dir, "model.safetensors"), tensors);
}

test("a missing tensor or a wrong shape is an error naming the file and tensor", async (t) => {
  const dir = await tempDir(t);
  const config = microConfig();
  await saveLmConfig(dir, config);
  const weights = initWeights(config, 1);
  const entries = [...weights.entries()];
  await writeModel(
    dir,
    entries.filter(([n]) => n !== "model.layers.1.mlp.up_proj.weight"),
  );
  await assert.rejects(loadCheckpoint(dir), (e: unknown) => {
    assert.ok(e instanceof CheckpointError);
    assert.equal(e.tensor, "model.layers.1.mlp.up_proj.weight");
    assert.equal(e.file, join(dir, "model.safetensors"));
    assert.match(
      e.message,
      /model\.safetensors: tensor "model\.layers\.1\.mlp\.up_proj\.weight": is missing, shape \[24,16\]/,
    );
    return true;
  });
  await writeModel(
    dir,
    entries.map(([n, w]) =>
      n === "model.layers.0.self_attn.k_proj.weight"
        ? [n, { shape: [16, 8], data: w.data }]
        : [n, w],
    ),
  );
  await assert.rejects(
    loadCheckpoint(dir),
    /model\.safetensors: tensor "model\.layers\.0\.self_attn\.k_proj\.weight": has shape \[16,8\], the config \(llama\) needs \[8,16\]/,
  );
  await assert.rejects(loadCheckpoint(join(dir, "nothing")), /config\.json: cannot read/);
});

test("sharded checkpoints load through model.safetensors.index.json; F16/BF16 shards decode", async (t) => {
  const dir = await tempDir(t);
  const config = microConfig();
  await saveLmConfig(dir, config);
  const weights = initWeights(config, 9);
  const names = [...weights.keys()];
  const half = Math.floor(names.length / 2);
  // Shard 1 in BF16, shard 2 in F16, with values that both formats hold exactly.
  const exact = (n: string) => weights.get(n)!.data.map((v) => Math.round(v * 256) / 256);
  const encode = (
    n: string,
    enc: (v: number) => number,
    dtype: "F16" | "BF16",
  ): [string, RawTensor] => [
    n,
    {
      dtype,
      shape: weights.get(n)!.shape,
      bytes: new Uint8Array(Uint16Array.from(exact(n), enc).buffer),
    },
  ];
  await writeSafetensors(
    join(dir, "model-00001-of-00002.safetensors"),
    names.slice(0, half).map((n) => encode(n, numberToBF16Bits, "BF16")),
  );
  await writeSafetensors(
    join(dir, "model-00002-of-00002.safetensors"),
    names
      .slice(half)
      .reverse()
      .map((n) => encode(n, numberToF16Bits, "F16")),
  );
  const weightMap = Object.fromEntries(
    names.map((n, i) => [
      n,
      i < half ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors",
    ]),
  );
  await writeFile(
    join(dir, "model.safetensors.index.json"),
    JSON.stringify({ metadata: { total_size: 0 }, weight_map: weightMap }),
  );
  const loaded = await loadCheckpoint(dir);
  assert.deepEqual([...loaded.weights.keys()], names);
  for (const n of names) assert.deepEqual(loaded.weights.get(n)!.data, exact(n), n);

  // An index entry whose shard lacks the tensor is named.
  weightMap["model.norm.weight"] = "model-00001-of-00002.safetensors";
  await writeFile(
    join(dir, "model.safetensors.index.json"),
    JSON.stringify({ weight_map: weightMap }),
  );
  await assert.rejects(
    loadCheckpoint(dir),
    /model-00001-of-00002\.safetensors: tensor "model\.norm\.weight": is listed in .*index\.json but not stored in this shard/,
  );
  weightMap["model.norm.weight"] = "model-00003-of-00002.safetensors";
  await writeFile(
    join(dir, "model.safetensors.index.json"),
    JSON.stringify({ weight_map: weightMap }),
  );
  await assert.rejects(
    loadCheckpoint(dir),
    /index\.json: names shard .*model-00003-of-00002\.safetensors, which does not exist/,
  );
});

test("tied checkpoints may carry lm_head.weight; unexpected tensors are reported, not fatal", async (t) => {
  const dir = await tempDir(t);
  const config = microConfig({ tie_word_embeddings: true });
  await saveLmConfig(dir, config);
  const weights = initWeights(config, 2);
  await writeModel(dir, [
    ...weights.entries(),
    ["lm_head.weight", weights.get("model.embed_tokens.weight")!],
    ["model.layers.0.self_attn.rotary_emb.inv_freq", { shape: [2], data: new Float32Array(2) }],
    ["extra.thing", { shape: [1], data: new Float32Array(1) }],
  ]);
  const seen: string[] = [];
  const loaded = await loadCheckpoint(dir, { onUnexpected: (names) => seen.push(...names) });
  assert.deepEqual(seen, ["extra.thing"]);
  assert.ok(!loaded.weights.has("lm_head.weight"));
});

test("a directory without safetensors says so", async (t) => {
  const dir = await tempDir(t);
  await saveLmConfig(dir, microConfig());
  await writeFile(join(dir, "pytorch_model.bin"), "");
  await assert.rejects(
    loadCheckpoint(dir),
    /no model\.safetensors or model\.safetensors\.index\.json \(only pytorch_model\.bin found/,
  );
});
