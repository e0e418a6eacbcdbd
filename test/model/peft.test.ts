import assert from "node:assert/strict";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { numberToBF16Bits } from "../../src/io/float16.js";
import { SafetensorsFile, writeSafetensors } from "../../src/io/safetensors.js";
import { projectionModule } from "../../src/model/names.js";
import {
  type LoraAdapterConfig,
  type LoraWeights,
  loadLoraAdapter,
  loraScaling,
  PeftError,
  peftKeys,
  saveLoraAdapter,
  validateLoraForModel,
} from "../../src/model/peft.js";
import { tempDir } from "../io/helpers.js";
import { microConfig } from "./fixtures.js";

const CONFIG: LoraAdapterConfig = {
  r: 4,
  loraAlpha: 8,
  loraDropout: 0.05,
  targetModules: ["q_proj", "v_proj", "down_proj"],
  baseModelNameOrPath: "HuggingFaceTB/SmolLM2-135M",
  useRslora: false,
  extra: {},
};

function factors(out: number, inp: number, r: number, seed: number) {
  const A = {
    shape: [r, inp],
    data: Float32Array.from({ length: r * inp }, (_, i) => Math.sin(i + seed)),
  };
  const B = {
    shape: [out, r],
    data: Float32Array.from({ length: out * r }, (_, i) => Math.cos(i * seed)),
  };
  return { A, B };
}

function microLora(): LoraWeights {
  const w: LoraWeights = new Map();
  for (let layer = 0; layer < 2; layer++) {
    w.set(projectionModule(layer, "q_proj"), factors(16, 16, 4, layer + 1));
    w.set(projectionModule(layer, "v_proj"), factors(8, 16, 4, layer + 3));
    w.set(projectionModule(layer, "down_proj"), factors(16, 24, 4, layer + 5));
  }
  return w;
}

test("PEFT key names are exact", () => {
  assert.deepEqual(peftKeys("model.layers.0.self_attn.q_proj"), {
    A: "base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight",
    B: "base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight",
  });
  assert.equal(projectionModule(3, "gate_proj"), "model.layers.3.mlp.gate_proj");
  assert.equal(loraScaling(CONFIG), 2);
  assert.equal(loraScaling({ ...CONFIG, useRslora: true }), 4);
});

test("save → load round trip; files carry PEFT's names and config fields", async (t) => {
  const dir = join(await tempDir(t), "adapter");
  const weights = microLora();
  validateLoraForModel(weights, microConfig());
  await saveLoraAdapter(dir, CONFIG, weights);
  assert.deepEqual((await readdir(dir)).sort(), [
    "adapter_config.json",
    "adapter_model.safetensors",
  ]);
  const json = JSON.parse(await readFile(join(dir, "adapter_config.json"), "utf8"));
  assert.equal(json.peft_type, "LORA");
  assert.equal(json.task_type, "CAUSAL_LM");
  assert.equal(json.r, 4);
  assert.equal(json.lora_alpha, 8);
  assert.equal(json.lora_dropout, 0.05);
  assert.equal(json.bias, "none");
  assert.equal(json.fan_in_fan_out, false);
  assert.equal(json.base_model_name_or_path, "HuggingFaceTB/SmolLM2-135M");
  assert.deepEqual(json.target_modules, ["q_proj", "v_proj", "down_proj"]);
  const file = await SafetensorsFile.open(join(dir, "adapter_model.safetensors"));
  try {
    assert.ok(file.names().includes("base_model.model.model.layers.1.mlp.down_proj.lora_A.weight"));
    assert.deepEqual(
      file.entry("base_model.model.model.layers.1.mlp.down_proj.lora_A.weight").shape,
      [4, 24],
    );
    assert.deepEqual(
      file.entry("base_model.model.model.layers.1.mlp.down_proj.lora_B.weight").shape,
      [16, 4],
    );
    assert.equal(file.names().length, 12);
    assert.deepEqual(file.header.metadata, { format: "pt" });
  } finally {
    await file.close();
  }
  const loaded = await loadLoraAdapter(dir);
  const { extra, ...rest } = loaded.config;
  assert.deepEqual({ ...rest, extra: {} }, CONFIG);
  assert.equal(extra.inference_mode, true);
  // Writing a loaded config again gives the same file.
  const again = join(dir, "..", "again");
  await saveLoraAdapter(again, loaded.config, loaded.weights);
  assert.equal(
    await readFile(join(again, "adapter_config.json"), "utf8"),
    await readFile(join(dir, "adapter_config.json"), "utf8"),
  );
  assert.deepEqual([...loaded.weights.keys()], [...weights.keys()].sort());
  for (const [module, pair] of weights) assert.deepEqual(loaded.weights.get(module), pair, module);
});

test("loads adapters saved with the adapter name in the key and in BF16", async (t) => {
  const dir = await tempDir(t);
  await writeFile(
    join(dir, "adapter_config.json"),
    JSON.stringify({
      peft_type: "LORA",
      r: 2,
      lora_alpha: 16,
      target_modules: ["q_proj"],
      task_type: "CAUSAL_LM",
    }),
  );
  const bf16 = (values: number[]) =>
    new Uint8Array(Uint16Array.from(values, numberToBF16Bits).buffer);
  await writeSafetensors(join(dir, "adapter_model.safetensors"), [
    [
      "base_model.model.model.layers.0.self_attn.q_proj.lora_A.default.weight",
      { dtype: "BF16", shape: [2, 3], bytes: bf16([1, 2, 3, 4, 5, 6]) },
    ],
    [
      "base_model.model.model.layers.0.self_attn.q_proj.lora_B.default.weight",
      { dtype: "BF16", shape: [2, 2], bytes: bf16([0.5, 0, 0, -0.5]) },
    ],
  ]);
  const { config, weights } = await loadLoraAdapter(dir);
  assert.equal(config.loraDropout, 0);
  assert.equal(loraScaling(config), 8);
  assert.deepEqual([...weights.get("model.layers.0.self_attn.q_proj")!.A.data], [1, 2, 3, 4, 5, 6]);
  assert.deepEqual([...weights.get("model.layers.0.self_attn.q_proj")!.B.data], [0.5, 0, 0, -0.5]);
});

test("errors name the file and key", async (t) => {
  const dir = await tempDir(t);
  const st = join(dir, "adapter_model.safetensors");
  await assert.rejects(loadLoraAdapter(dir), /adapter_config\.json: does not exist/);
  await writeFile(
    join(dir, "adapter_config.json"),
    JSON.stringify({ peft_type: "LORA", r: 2, target_modules: ["q_proj"], use_dora: true }),
  );
  await assert.rejects(
    loadLoraAdapter(dir),
    /adapter_config\.json: "use_dora": DoRA adapters are not supported/,
  );
  await writeFile(
    join(dir, "adapter_config.json"),
    JSON.stringify({ peft_type: "LORA", r: 2, target_modules: ["q_proj"] }),
  );
  await writeSafetensors(st, [
    [
      "base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight",
      { shape: [2, 3], data: new Float32Array(6) },
    ],
  ]);
  await assert.rejects(
    loadLoraAdapter(dir),
    new RegExp(
      `${st}: "base_model\\.model\\.model\\.layers\\.0\\.self_attn\\.q_proj\\.lora_B\\.weight": is missing`,
    ),
  );
  await writeSafetensors(st, [
    [
      "base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight",
      { shape: [3, 3], data: new Float32Array(9) },
    ],
    [
      "base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight",
      { shape: [3, 2], data: new Float32Array(6) },
    ],
  ]);
  await assert.rejects(loadLoraAdapter(dir), /lora_A\.weight": shape \[3,3\] is not \[r=2, in\]/);
  await writeSafetensors(st, [["model.layers.0.weird", { shape: [1], data: new Float32Array(1) }]]);
  await assert.rejects(
    loadLoraAdapter(dir),
    (e: unknown) => e instanceof PeftError && e.key === "model.layers.0.weird",
  );
  const wrong: LoraWeights = new Map([["model.layers.0.self_attn.k_proj", factors(16, 16, 4, 1)]]);
  assert.throws(
    () => validateLoraForModel(wrong, microConfig()),
    /k_proj\.lora_B\.weight": shape \[16,4\], the model needs \[8, 4\]/,
  );
  const badLayer: LoraWeights = new Map([
    ["model.layers.7.self_attn.q_proj", factors(16, 16, 4, 1)],
  ]);
  assert.throws(
    () => validateLoraForModel(badLayer, microConfig()),
    /layer 7 ≥ num_hidden_layers 2/,
  );
});
