// A saved .onnx file reloads in ONNX Runtime and gives identical outputs; compiled graphs are cached.

import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import * as ort from "onnxruntime-node";
import * as G from "../../src/graph/index.js";
import { randomArray, rng } from "./gradcheck.js";

describe("serialization", () => {
  let dir: string | undefined;
  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("round-trips through a .onnx file with identical outputs (forward and gradients)", async () => {
    const rand = rng(7);
    const g = new G.Graph("roundtrip");
    const x = g.input("x", "float32", ["b", 4]);
    const w = g.initializer("w", randomArray(rand, 12, "float32") as Float32Array, [4, 3]);
    const bias = g.input("bias", "float32", [3]);
    const y = G.softmax(G.add(G.matmul(G.gelu(x), w), bias));
    const loss = G.reduceSum(G.mul(y, y));
    const [gx, gb] = G.grad(loss, [x, bias]);
    const outputs = { y, loss, gx, gb };

    dir = await mkdtemp(join(tmpdir(), "prefrec-onnx-"));
    const path = join(dir, "model.onnx");
    await G.saveOnnx(g, outputs, path);

    const feeds = {
      x: { data: randomArray(rand, 8, "float32") as Float32Array, shape: [2, 4] },
      bias: randomArray(rand, 3, "float32") as Float32Array,
    };
    const runtime = new G.Runtime({ threads: 1 });
    const direct = await (await runtime.compile(g, outputs)).run(feeds);

    const session = await ort.InferenceSession.create(path);
    assert.deepEqual([...session.inputNames].sort(), ["bias", "x"]);
    const reloaded = await session.run({
      x: new ort.Tensor("float32", feeds.x.data, [2, 4]),
      bias: new ort.Tensor("float32", feeds.bias, [3]),
    });
    for (const name of Object.keys(outputs)) {
      assert.deepEqual(
        [...(reloaded[name].data as Float32Array)],
        [...(direct[name].data as Float32Array)],
        name,
      );
    }
  });

  it("declares opset ≥ 17 and only the inputs the outputs need", () => {
    const g = new G.Graph();
    const a = g.input("a", "float32", [2]);
    g.input("unused", "float32", [2]);
    const model = G.toModelProto(g, { y: G.exp(a) });
    assert.ok(Number(model.opsetImport[0].version) >= 17);
    assert.deepEqual(
      model.graph!.input!.map((i) => i.name),
      ["a"],
    );
  });

  it("compiles each distinct graph once", async () => {
    const runtime = new G.Runtime({ threads: 1 });
    const build = (scale: number) => {
      const g = new G.Graph();
      const x = g.input("x", "float32", [2]);
      return { g, y: G.mul(x, scale) };
    };
    const first = build(2);
    const second = build(2);
    const third = build(3);
    await runtime.compile(first.g, { y: first.y });
    await runtime.compile(second.g, { y: second.y });
    assert.equal(runtime.cachedGraphs, 1);
    await runtime.compile(third.g, { y: third.y });
    assert.equal(runtime.cachedGraphs, 2);
    const out = await (await runtime.compile(third.g, { y: third.y })).run({
      x: new Float32Array([1, 2]),
    });
    assert.deepEqual([...(out.y.data as Float32Array)], [3, 6]);
    await runtime.dispose();
    assert.equal(runtime.cachedGraphs, 0);
  });
});
