import assert from "node:assert/strict";
import { test } from "node:test";
import { initWeights } from "../../src/model/init.js";
import { parameterCount } from "../../src/model/names.js";
import { PRESET_NAMES, presetConfig } from "../../src/model/presets.js";
import { countParameters } from "../../src/model/weights.js";
import { microConfig } from "./fixtures.js";

test("preset parameter counts at vocab 8192 (documented in docs/model-io.md)", () => {
  const counts = Object.fromEntries(
    PRESET_NAMES.map((n) => [n, parameterCount(presetConfig(n, { vocabSize: 8192 }))]),
  );
  assert.deepEqual(counts, { tiny: 1_192_800, small: 9_966_848, base: 50_740_416 });
  // Non-embedding parameters do not depend on the vocabulary.
  for (const n of PRESET_NAMES) {
    const a = presetConfig(n, { vocabSize: 8192 });
    const b = presetConfig(n, { vocabSize: 1000 });
    assert.equal(parameterCount(a) - parameterCount(b), 7192 * a.hiddenSize);
  }
});

test("init is seeded: same seed same weights, other seed different; std, norms, biases, pad row", () => {
  const config = microConfig({
    model_type: "qwen2",
    vocab_size: 300,
    hidden_size: 64,
    intermediate_size: 128,
  });
  const a = initWeights(config, 5);
  const b = initWeights(config, 5);
  const c = initWeights(config, 6);
  assert.equal(countParameters(a), parameterCount(config));
  for (const [name, t] of a) assert.deepEqual(b.get(name)!.data, t.data, name);
  assert.notDeepEqual(
    c.get("model.layers.0.mlp.up_proj.weight")!.data,
    a.get("model.layers.0.mlp.up_proj.weight")!.data,
  );
  assert.ok(a.get("model.norm.weight")!.data.every((v) => v === 1));
  assert.ok(a.get("model.layers.1.input_layernorm.weight")!.data.every((v) => v === 1));
  assert.ok(a.get("model.layers.1.self_attn.q_proj.bias")!.data.every((v) => v === 0));
  const embed = a.get("model.embed_tokens.weight")!.data;
  assert.ok(embed.subarray(0, 64).every((v) => v === 0)); // pad_token_id 0
  let sq = 0;
  for (let i = 64; i < embed.length; i++) sq += embed[i] * embed[i];
  const std = Math.sqrt(sq / (embed.length - 64));
  assert.ok(Math.abs(std - 0.02) < 0.0005, `std ${std}`);
});
