// Composite programs: a 2-layer MLP and a causal self-attention block against finite differences;
// AdamW training drives the loss of a memorizable batch down.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as G from "../../src/graph/index.js";
import { layerNorm, linear, rmsNorm } from "../../src/graph/layers.js";
import { AdamW } from "../../src/train/optim.js";
import { gradCheck, randomArray, rng } from "./gradcheck.js";

function mlp(x: G.Value, w1: G.Value, b1: G.Value, w2: G.Value, b2: G.Value): G.Value {
  return linear(G.gelu(linear(x, w1, b1)), w2, b2);
}

/** Single-head causal self-attention with a residual and pre-norm, T symbolic. */
function attentionBlock(
  x: G.Value,
  gain: G.Value,
  wq: G.Value,
  wk: G.Value,
  wv: G.Value,
  wo: G.Value,
) {
  const h = rmsNorm(x, gain);
  const q = G.matmul(h, wq);
  const k = G.matmul(h, wk);
  const v = G.matmul(h, wv);
  const d = wq.shape[1] as number;
  const scores = G.mul(G.matmul(q, G.transposeLast2(k)), 1 / Math.sqrt(d));
  const masked = G.where(G.causalMask(x.graph, x.shape[1]), scores, -1e9);
  return G.add(x, G.matmul(G.matmul(G.softmax(masked, -1), v), wo));
}

describe("composite gradients", () => {
  it("2-layer MLP", async () => {
    await gradCheck(
      [
        { name: "x", shape: ["b", 3], feedShape: [4, 3] },
        { name: "w1", shape: [3, 5] },
        { name: "b1", shape: [5] },
        { name: "w2", shape: [5, 2] },
        { name: "b2", shape: [2] },
      ],
      mlp,
    );
  });
  it("causal self-attention block with RMSNorm (symbolic batch and length)", async () => {
    await gradCheck(
      [
        { name: "x", shape: ["b", "t", 4], feedShape: [2, 3, 4] },
        { name: "g", shape: [4], range: [0.5, 1.5] },
        { name: "wq", shape: [4, 4] },
        { name: "wk", shape: [4, 4] },
        { name: "wv", shape: [4, 4] },
        { name: "wo", shape: [4, 4] },
      ],
      attentionBlock,
    );
  });
  it("layerNorm", async () => {
    await gradCheck(
      [
        { name: "x", shape: [3, 5] },
        { name: "g", shape: [5] },
        { name: "b", shape: [5] },
      ],
      (x, g, b) => layerNorm(x, g, b),
    );
  });
});

describe("training", () => {
  it("AdamW memorizes a small batch with an MLP (cross-entropy falls below 5% of its start)", async () => {
    const rand = rng(11);
    const g = new G.Graph("mlp-train");
    const shapes: [string, number[]][] = [
      ["w1", [8, 32]],
      ["b1", [32]],
      ["w2", [32, 4]],
      ["b2", [4]],
    ];
    const params = new Map<string, Float32Array>();
    const values = shapes.map(([name, shape]) => {
      const size = shape.reduce((a, b) => a * b, 1);
      params.set(name, randomArray(rand, size, "float32", -0.3, 0.3) as Float32Array);
      return g.input(name, "float32", shape);
    });
    const x = g.input("x", "float32", ["n", 8]);
    const y = g.input("y", "int64", ["n"]);
    const [w1, b1, w2, b2] = values;
    const loss = G.reduceMean(G.crossEntropy(mlp(x, w1, b1, w2, b2), y));
    const grads = G.grad(loss, values);
    const runtime = new G.Runtime({ threads: 1 });
    const step = await runtime.compile(g, {
      loss,
      ...Object.fromEntries(grads.map((v, i) => [`g_${shapes[i][0]}`, v])),
    });
    const n = 16;
    const feeds = {
      x: { data: randomArray(rand, n * 8, "float32") as Float32Array, shape: [n, 8] },
      y: {
        data: BigInt64Array.from({ length: n }, () => BigInt(Math.floor(rand() * 4))),
        shape: [n],
      },
    };
    const optimizer = new AdamW(params, { lr: 0.03, weightDecay: 0 });
    let first = Number.NaN;
    let last = Number.NaN;
    for (let i = 0; i < 150; i++) {
      const out = await step.run({ ...Object.fromEntries(params), ...feeds });
      last = out.loss.data[0] as number;
      if (i === 0) first = last;
      optimizer.update(
        Object.fromEntries(shapes.map(([name]) => [name, out[`g_${name}`].data as Float32Array])),
      );
    }
    assert.ok(first > 1, `initial loss ${first}`);
    assert.ok(last < 0.05 * first, `loss went from ${first} to ${last}`);
  });
});
