// Sharded 16-bit checkpoints: loading as stored bits or float32, and the errors raised from the
// headers alone, before any tensor is read (missing shard, unsupported dtype, too large).

import assert from "node:assert/strict";
import { readdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { type RawTensor, SafetensorsFile, writeSafetensors } from "../../src/io/safetensors.js";
import { CheckpointError, loadCheckpoint, planWeights } from "../../src/model/checkpoint.js";
import { LanguageModel } from "../../src/model/lm.js";
import { InsufficientMemoryError } from "../../src/model/memory.js";
import { expectedTensorShapes, parameterCount } from "../../src/model/names.js";
import { writeRandomCheckpoint } from "../../src/model/random-checkpoint.js";
import { float32Of } from "../../src/model/weights.js";
import { tempDir } from "../io/helpers.js";
import { testRuntime, tinyConfig } from "./tiny.js";

const config = tinyConfig({ tieWordEmbeddings: false });

for (const dtype of ["BF16", "F16"] as const) {
  test(`a sharded ${dtype} checkpoint loads as stored 16-bit bits or as the same float32 values`, async (t) => {
    const dir = await tempDir(t);
    await writeRandomCheckpoint(dir, config, { dtype, shardBytes: 2048, seed: 4 });
    const shards = (await readdir(dir)).filter((f) => f.endsWith(".safetensors"));
    assert.ok(shards.length >= 3, `${shards.length} shards`);
    const plan = await planWeights(dir, config, "stored");
    assert.equal(plan.bytes, parameterCount(config) * 2);
    assert.deepEqual(Object.keys(plan.dtypes), [dtype]);
    const stored = await loadCheckpoint(dir, { weightsDtype: "stored" });
    const f32 = await loadCheckpoint(dir, { weightsDtype: "float32" });
    assert.deepEqual([...stored.weights.keys()], [...expectedTensorShapes(config).keys()]);
    for (const [name, t16] of stored.weights) {
      assert.equal(t16.stored?.dtype, dtype === "BF16" ? "bfloat16" : "float16", name);
      assert.equal(t16.data.length, 0);
      assert.deepEqual(float32Of(t16), f32.weights.get(name)!.data, name);
      assert.equal(f32.weights.get(name)!.stored, undefined);
    }
    // Stored tensors stay in the shards: ONNX Runtime maps them, and the logits are the float32
    // path's to float32 rounding.
    const q16 = stored.weights.get("model.layers.0.self_attn.q_proj.weight")!.stored!;
    assert.equal(q16.bits, undefined);
    assert.ok(shards.includes(q16.file!.file));
    const ids = [1, 7, 3, 9, 4];
    const a = await new LanguageModel(config, stored.weights, { runtime: testRuntime }).logits(ids);
    const b = await new LanguageModel(config, f32.weights, { runtime: testRuntime }).logits(ids);
    const scale = Math.max(...Array.from(b.data as Float32Array, Math.abs));
    const bData = b.data as Float32Array;
    for (const [i, v] of (a.data as Float32Array).entries())
      assert.ok(Math.abs(v - bData[i]) <= 1e-6 * scale);
    // Norm weights are exactly 1, others random and small.
    assert.ok(f32.weights.get("model.norm.weight")!.data.every((v) => v === 1));
    const q = f32.weights.get("model.layers.1.self_attn.q_proj.weight")!.data;
    assert.ok(q.some((v) => v !== 0) && q.every((v) => Math.abs(v) < 1));
  });
}

test("a shard named by the index but absent is an error naming the index and the shard", async (t) => {
  const dir = await tempDir(t);
  await writeRandomCheckpoint(dir, config, { shardBytes: 2048 });
  const shard = (await readdir(dir)).find((f) => f.includes("-00002-of-"))!;
  await rm(join(dir, shard));
  await assert.rejects(
    loadCheckpoint(dir, { weightsDtype: "stored" }),
    (e: Error) =>
      e instanceof CheckpointError &&
      e.message.includes("model.safetensors.index.json") &&
      e.message.includes(shard) &&
      e.message.includes("does not exist"),
  );
});

test("a tensor of an unsupported dtype is an error naming shard, tensor and dtype", async (t) => {
  const dir = await tempDir(t);
  await writeRandomCheckpoint(dir, config, { shardBytes: 2048 });
  const index = JSON.parse(await readFile(join(dir, "model.safetensors.index.json"), "utf8"));
  const name = "model.layers.0.mlp.up_proj.weight";
  const shard = index.weight_map[name] as string;
  // Rewrite that shard with the tensor stored as I16 (same byte size).
  const entries: [string, RawTensor][] = [];
  const file = await SafetensorsFile.open(join(dir, shard));
  for (const n of file.names()) {
    const raw = await file.readRaw(n);
    entries.push([n, n === name ? { ...raw, dtype: "I16" } : raw]);
  }
  await file.close();
  await writeSafetensors(join(dir, shard), entries);
  await assert.rejects(
    loadCheckpoint(dir, { weightsDtype: "stored" }),
    (e: Error) =>
      e instanceof CheckpointError &&
      e.message.includes(shard) &&
      e.message.includes(name) &&
      e.message.includes("has dtype I16; expected F32, F16, BF16 or F64"),
  );
});

test("a checkpoint larger than the memory available stops before loading, with the sizes", async (t) => {
  const dir = await tempDir(t);
  await writeRandomCheckpoint(dir, config);
  const bytes = parameterCount(config) * 2;
  await assert.rejects(
    loadCheckpoint(dir, { weightsDtype: "stored", availableBytes: bytes - 1 }),
    (e: Error) =>
      e instanceof InsufficientMemoryError &&
      e.exitCode === 1 &&
      /needs about 0\.00 GiB of memory, 0\.00 GiB available/.test(e.message) &&
      e.message.includes(dir),
  );
  // Float32 needs twice as much: the error suggests keeping the stored 16 bits.
  await assert.rejects(
    loadCheckpoint(dir, { weightsDtype: "float32", availableBytes: bytes + 1 }),
    (e: Error) =>
      e instanceof InsufficientMemoryError && e.message.includes("--weights-dtype stored"),
  );
  const ok = await loadCheckpoint(dir, { weightsDtype: "stored", availableBytes: bytes });
  assert.equal(ok.weights.size, expectedTensorShapes(config).size);
});
