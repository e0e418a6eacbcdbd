import assert from "node:assert/strict";
import { test } from "node:test";
import { initWeights } from "../../src/model/init.js";
import { initLoraWeights, loraModules, mergeLora, targetModulesOf } from "../../src/model/lora.js";
import { microConfig } from "./fixtures.js";

test("LoRA modules, PEFT-style init (B = 0, A within ±1/√in), seeded", () => {
  const config = microConfig();
  const mods = loraModules(config, ["q_proj", "down_proj"]);
  assert.deepEqual(
    [...mods.entries()],
    [
      ["model.layers.0.self_attn.q_proj", [16, 16]],
      ["model.layers.0.mlp.down_proj", [16, 24]],
      ["model.layers.1.self_attn.q_proj", [16, 16]],
      ["model.layers.1.mlp.down_proj", [16, 24]],
    ],
  );
  const lora = initLoraWeights(config, ["q_proj", "down_proj"], 4, 1);
  const down = lora.get("model.layers.1.mlp.down_proj")!;
  assert.deepEqual(down.A.shape, [4, 24]);
  assert.deepEqual(down.B.shape, [16, 4]);
  assert.ok(down.B.data.every((v) => v === 0));
  assert.ok(down.A.data.every((v) => Math.abs(v) <= 1 / Math.sqrt(24)));
  assert.ok(down.A.data.some((v) => v !== 0));
  assert.deepEqual(
    initLoraWeights(config, ["q_proj", "down_proj"], 4, 1).get("model.layers.0.self_attn.q_proj"),
    lora.get("model.layers.0.self_attn.q_proj"),
  );
  assert.deepEqual(targetModulesOf(lora), ["down_proj", "q_proj"]);
  assert.throws(() => loraModules(config, ["x_proj" as "q_proj"]), /unknown LoRA target "x_proj"/);
});

test("mergeLora adds scaling·B·A (hand-worked 2×3 case) and leaves the inputs alone", () => {
  const config = microConfig();
  const base = initWeights(config, 1);
  const name = "model.layers.0.self_attn.q_proj";
  const w = base.get(`${name}.weight`)!;
  const A = { shape: [1, 16], data: new Float32Array(16).fill(0) };
  A.data[2] = 3;
  const B = { shape: [16, 1], data: new Float32Array(16).fill(0) };
  B.data[5] = 0.5;
  const merged = mergeLora(base, new Map([[name, { A, B }]]), {
    r: 1,
    loraAlpha: 2,
    useRslora: false,
  });
  const m = merged.get(`${name}.weight`)!;
  // Only W[5][2] changes, by scaling (2/1) · 0.5 · 3 = 3.
  for (let i = 0; i < m.data.length; i++) {
    const expected = i === 5 * 16 + 2 ? Math.fround(w.data[i] + 3) : w.data[i];
    assert.equal(m.data[i], expected, String(i));
  }
  assert.notEqual(base.get(`${name}.weight`)!.data[5 * 16 + 2], m.data[5 * 16 + 2]);
  assert.equal(merged.get("model.norm.weight"), base.get("model.norm.weight"));
});
