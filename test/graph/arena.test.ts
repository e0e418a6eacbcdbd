// Which sessions use ONNX Runtime's memory arena: training graphs (a backward pass, no 16-bit
// frozen weights) by default; the results are the same either way.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as G from "../../src/graph/index.js";

function trainingGraph(sixteenBit: boolean) {
  const g = new G.Graph("train");
  const x = g.input("x", "float32", [3, 4]);
  const w = g.input("w", "float32", [4, 2]);
  const frozen = sixteenBit
    ? g.frozen("f", new Uint16Array(8).fill(0x3f80), [4, 2], "bfloat16")
    : g.frozen("f", new Float32Array(8).fill(1), [4, 2]);
  const loss = G.reduceSum(G.mul(G.matmul(x, G.add(w, frozen)), G.matmul(x, w)));
  const [gw] = G.grad(loss, [w]);
  return { g, outputs: { loss, gw } };
}

describe("memory arena", () => {
  it("is on by default for training graphs only, and an explicit option wins", () => {
    const rt = new G.Runtime({ threads: 1 });
    const inference = new G.Graph("inference");
    G.matmul(inference.input("a", "float32", [2, 2]), inference.input("b", "float32", [2, 2]));
    assert.equal(rt.arenaFor(inference), false);
    assert.equal(rt.arenaFor(trainingGraph(false).g), true);
    assert.equal(rt.arenaFor(trainingGraph(true).g), false, "16-bit frozen weights: no arena");
    assert.equal(new G.Runtime({ memoryArena: false }).arenaFor(trainingGraph(false).g), false);
    assert.equal(new G.Runtime({ memoryArena: true }).arenaFor(inference), true);
  });

  it("gives bit-identical results with and without the arena", async () => {
    const { g, outputs } = trainingGraph(false);
    const feeds = {
      x: Float32Array.from({ length: 12 }, (_, i) => Math.sin(i)),
      w: Float32Array.from({ length: 8 }, (_, i) => Math.cos(i)),
    };
    const results = [];
    for (const memoryArena of [true, false]) {
      const rt = new G.Runtime({ threads: 1, memoryArena });
      const compiled = await rt.compile(g, outputs);
      await compiled.run(feeds);
      results.push(await compiled.run(feeds));
      await rt.dispose();
    }
    assert.deepEqual(results[0].gw.data, results[1].gw.data);
    assert.deepEqual(results[0].loss.data, results[1].loss.data);
  });
});
