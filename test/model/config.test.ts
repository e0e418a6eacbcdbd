import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { ConfigError, loadLmConfig, parseLmConfig } from "../../src/model/config.js";
import { lmConfigToJson, saveLmConfig } from "../../src/model/config-json.js";
import { ropeInverseFrequencies } from "../../src/model/rope.js";
import { tempDir } from "../io/helpers.js";

// Published configs (abridged only where fields do not matter).
export const SMOLLM2_135M = {
  architectures: ["LlamaForCausalLM"],
  attention_bias: false,
  attention_dropout: 0.0,
  bos_token_id: 0,
  eos_token_id: 0,
  hidden_act: "silu",
  hidden_size: 576,
  initializer_range: 0.041666666666666664,
  intermediate_size: 1536,
  is_llama_config: true,
  max_position_embeddings: 8192,
  model_type: "llama",
  num_attention_heads: 9,
  num_hidden_layers: 30,
  num_key_value_heads: 3,
  pretraining_tp: 1,
  rms_norm_eps: 1e-5,
  rope_interleaved: false,
  rope_scaling: null,
  rope_theta: 100000,
  tie_word_embeddings: true,
  torch_dtype: "bfloat16",
  transformers_version: "4.42.3",
  use_cache: true,
  vocab_size: 49152,
};

const QWEN25_05B = {
  architectures: ["Qwen2ForCausalLM"],
  attention_dropout: 0.0,
  bos_token_id: 151643,
  eos_token_id: 151643,
  hidden_act: "silu",
  hidden_size: 896,
  initializer_range: 0.02,
  intermediate_size: 4864,
  max_position_embeddings: 32768,
  max_window_layers: 24,
  model_type: "qwen2",
  num_attention_heads: 14,
  num_hidden_layers: 24,
  num_key_value_heads: 2,
  rms_norm_eps: 1e-6,
  rope_theta: 1000000.0,
  sliding_window: 32768,
  tie_word_embeddings: true,
  torch_dtype: "bfloat16",
  use_cache: true,
  use_sliding_window: false,
  vocab_size: 151936,
};

const LLAMA32_1B = {
  architectures: ["LlamaForCausalLM"],
  attention_bias: false,
  bos_token_id: 128000,
  eos_token_id: [128001, 128008, 128009],
  head_dim: 64,
  hidden_act: "silu",
  hidden_size: 2048,
  intermediate_size: 8192,
  max_position_embeddings: 131072,
  mlp_bias: false,
  model_type: "llama",
  num_attention_heads: 32,
  num_hidden_layers: 16,
  num_key_value_heads: 8,
  rms_norm_eps: 1e-5,
  rope_scaling: {
    factor: 32.0,
    high_freq_factor: 4.0,
    low_freq_factor: 1.0,
    original_max_position_embeddings: 8192,
    rope_type: "llama3",
  },
  rope_theta: 500000.0,
  tie_word_embeddings: true,
  vocab_size: 128256,
};

const MISTRAL_7B = {
  architectures: ["MistralForCausalLM"],
  bos_token_id: 1,
  eos_token_id: 2,
  hidden_act: "silu",
  hidden_size: 4096,
  intermediate_size: 14336,
  max_position_embeddings: 32768,
  model_type: "mistral",
  num_attention_heads: 32,
  num_hidden_layers: 32,
  num_key_value_heads: 8,
  rms_norm_eps: 1e-5,
  rope_theta: 10000.0,
  sliding_window: 4096,
  tie_word_embeddings: false,
  vocab_size: 32000,
};

test("parses llama (SmolLM2-135M)", () => {
  const c = parseLmConfig(SMOLLM2_135M);
  assert.equal(c.modelType, "llama");
  assert.equal(c.hiddenSize, 576);
  assert.equal(c.numLayers, 30);
  assert.equal(c.numHeads, 9);
  assert.equal(c.numKvHeads, 3);
  assert.equal(c.headDim, 64);
  assert.equal(c.intermediateSize, 1536);
  assert.equal(c.ropeTheta, 100000);
  assert.deepEqual(c.ropeScaling, { type: "default" });
  assert.equal(c.rmsNormEps, 1e-5);
  assert.equal(c.tieWordEmbeddings, true);
  assert.equal(c.qkvBias, false);
  assert.equal(c.oBias, false);
  assert.equal(c.bosTokenId, 0);
  assert.deepEqual(c.eosTokenIds, [0]);
  assert.equal(c.padTokenId, null);
  assert.equal(c.extra.is_llama_config, true);
});

test("qwen2 always has q/k/v biases and no o_proj bias; sliding window off unless use_sliding_window", () => {
  const c = parseLmConfig(QWEN25_05B);
  assert.equal(c.qkvBias, true);
  assert.equal(c.oBias, false);
  assert.equal(c.mlpBias, false);
  assert.equal(c.numKvHeads, 2);
  assert.equal(c.headDim, 64);
  assert.equal(c.slidingWindow, null);
  assert.equal(c.ropeTheta, 1e6);
});

test("llama attention_bias covers q/k/v and o; mlp_bias; kv heads default to heads", () => {
  const { num_key_value_heads: _, ...rest } = SMOLLM2_135M;
  const c = parseLmConfig({ ...rest, attention_bias: true, mlp_bias: true });
  assert.equal(c.numKvHeads, 9);
  assert.equal(c.qkvBias, true);
  assert.equal(c.oBias, true);
  assert.equal(c.mlpBias, true);
});

test("llama 3 rope scaling and eos lists; mistral sliding window", () => {
  const c = parseLmConfig(LLAMA32_1B);
  assert.deepEqual(c.eosTokenIds, [128001, 128008, 128009]);
  assert.deepEqual(c.ropeScaling, {
    type: "llama3",
    factor: 32,
    lowFreqFactor: 1,
    highFreqFactor: 4,
    originalMaxPositionEmbeddings: 8192,
  });
  const inv = ropeInverseFrequencies(c);
  assert.equal(inv.length, 32);
  assert.equal(inv[0], 1); // high frequency: unchanged
  assert.ok(Math.abs(inv[31] - 500000 ** (-62 / 64) / 32) < 1e-18); // low frequency: divided by factor
  const m = parseLmConfig(MISTRAL_7B);
  assert.equal(m.slidingWindow, 4096);
  assert.equal(m.tieWordEmbeddings, false);
  assert.equal(m.qkvBias, false);
  const plain = ropeInverseFrequencies(m);
  assert.ok(Math.abs(plain[1] - 10000 ** (-2 / 128)) < 1e-15);
});

test("transformers ≥ 4.56 rope_parameters", () => {
  const { rope_theta: _, rope_scaling: __, ...rest } = LLAMA32_1B;
  const c = parseLmConfig({
    ...rest,
    rope_parameters: { rope_type: "default", rope_theta: 12345 },
  });
  assert.equal(c.ropeTheta, 12345);
  assert.deepEqual(c.ropeScaling, { type: "default" });
});

test("bad configs give errors naming the file and field", () => {
  const bad = (patch: Record<string, unknown>, pattern: RegExp) =>
    assert.throws(
      () => parseLmConfig({ ...SMOLLM2_135M, ...patch }, "/m/config.json"),
      (e: unknown) => {
        assert.ok(e instanceof ConfigError);
        assert.match(e.message, pattern);
        return true;
      },
    );
  bad(
    { model_type: "gpt2" },
    /^\/m\/config\.json: field "model_type": unsupported model type "gpt2"/,
  );
  bad({ hidden_size: "576" }, /field "hidden_size": must be a positive integer/);
  bad({ hidden_size: undefined }, /field "hidden_size": is missing/);
  bad(
    { num_key_value_heads: 4 },
    /field "num_key_value_heads": 4 does not divide num_attention_heads 9/,
  );
  bad({ hidden_act: "gelu" }, /field "hidden_act"/);
  bad({ eos_token_id: [1, "x"] }, /field "eos_token_id"/);
  bad({ bos_token_id: 49152 }, /field "bos_token_id": token id 49152 is outside vocab_size 49152/);
  bad(
    { rope_scaling: { rope_type: "yarn", factor: 4 } },
    /field "rope_scaling.rope_type": unsupported RoPE scaling "yarn"/,
  );
  bad({ tie_word_embeddings: "yes" }, /field "tie_word_embeddings"/);
});

test("config.json round trip: parse → write → load gives the same config", async (t) => {
  const dir = await tempDir(t);
  for (const source of [SMOLLM2_135M, QWEN25_05B, LLAMA32_1B, MISTRAL_7B]) {
    const c = parseLmConfig(source);
    await saveLmConfig(dir, c);
    const again = await loadLmConfig(dir);
    assert.deepEqual(again, c);
    const json = JSON.parse(await readFile(join(dir, "config.json"), "utf8"));
    assert.equal(json.model_type, source.model_type);
    assert.deepEqual(json.architectures, source.architectures);
    assert.deepEqual(json.eos_token_id, source.eos_token_id);
  }
  assert.equal(lmConfigToJson(parseLmConfig(LLAMA32_1B)).head_dim, 64);
});

test("loadLmConfig: missing file and invalid JSON are named", async (t) => {
  const dir = await tempDir(t);
  await assert.rejects(
    loadLmConfig(dir),
    new RegExp(`${dir}/config\\.json: cannot read \\(ENOENT\\)`),
  );
  await writeFile(join(dir, "config.json"), "{");
  await assert.rejects(loadLmConfig(dir), /config\.json: is not valid JSON/);
});
