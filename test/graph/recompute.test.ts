// Activations marked `recomputeInBackward`: the same outputs and gradients as without the mark,
// the backward pass reading its own recomputed copy (never the forward's), and misuse refused.

import assert from "node:assert/strict";
import { test } from "node:test";
import * as G from "../../src/graph/index.js";
import { randomArray, rng } from "./gradcheck.js";

const runtime = new G.Runtime({ threads: 1 });
const D = 6;

/** An MLP-like block: down(silu(x·Gᵀ)·(x·Uᵀ)); gradients with respect to x and every weight. */
function program(mark: boolean) {
  const g = new G.Graph("mlp");
  const x = g.input("x", "float32", ["b", D]);
  const wg = g.input("wg", "float32", [D, D]);
  const wu = g.input("wu", "float32", [D, D]);
  const wd = g.input("wd", "float32", [D, D]);
  const gate = G.matmul(x, G.transpose(wg));
  const up = G.matmul(x, G.transpose(wu));
  const keep = (v: G.Value) => (mark ? G.recomputeInBackward(v) : v);
  const silu = keep(G.silu(gate));
  const act = keep(G.mul(silu, up));
  const y = G.matmul(act, G.transpose(wd));
  const loss = G.reduceSum(G.mul(y, y));
  const [gx, gg, gu, gd] = G.grad(loss, [x, wg, wu, wd]);
  return { graph: g, outputs: { y, gx, gg, gu, gd }, values: [silu, act] };
}

const rand = rng(3);
const feeds = {
  x: { data: randomArray(rand, 4 * D, "float32") as Float32Array, shape: [4, D] },
  wg: randomArray(rand, D * D, "float32") as Float32Array,
  wu: randomArray(rand, D * D, "float32") as Float32Array,
  wd: randomArray(rand, D * D, "float32") as Float32Array,
};

test("recomputed activations give the same outputs and gradients", async () => {
  const run = async (mark: boolean) => {
    const p = program(mark);
    return (await runtime.compile(p.graph, p.outputs)).run(feeds);
  };
  const [plain, marked] = [await run(false), await run(true)];
  for (const k of ["y", "gx", "gg", "gu", "gd"]) {
    assert.ok((plain[k].data as Float32Array).some((v) => v !== 0));
    assert.deepEqual(marked[k].data, plain[k].data, k);
  }
});

test("backward nodes read a recomputed copy, not the forward's activation", () => {
  // Readers of each marked value's forward copy, and recomputed copies, in the lowered graph.
  const lowered = (mark: boolean) => {
    const p = program(mark);
    const { graph } = G.toModelProto(p.graph, p.outputs);
    return p.values.map((v) => ({
      readers: graph!.node!.filter((n) => n.input!.includes(`v${v.id}`)).length,
      copies: graph!.node!.filter((n) => n.output!.some((o) => o.startsWith(`v${v.id}@`))).length,
    }));
  };
  // silu(gate) is read by the product, then by the backward pass (∂/∂up); the product by the
  // forward matmul, then by wd's gradient.
  for (const v of lowered(false)) {
    assert.ok(v.readers >= 2);
    assert.equal(v.copies, 0);
  }
  for (const v of lowered(true)) {
    assert.equal(v.readers, 1, "only the forward pass reads the forward's copy");
    assert.ok(v.copies >= 1);
  }
});

test("broadcasting inputs are recomputed alike; values of other ops or ranks are refused", async () => {
  const g = new G.Graph("norm");
  const x = g.input("x", "float32", ["b", D]);
  const gain = g.input("gain", "float32", [D]);
  const build = (mark: boolean) => {
    // rmsNorm-like: x·r·gain with r [b, 1] and gain [D] broadcast.
    const r = G.reciprocal(G.sqrt(G.add(G.reduceMean(G.mul(x, x), [-1], true), 1e-6)));
    let y = G.mul(x, r);
    if (mark) y = G.recomputeInBackward(y);
    y = G.mul(y, gain);
    if (mark) y = G.recomputeInBackward(y);
    const z = G.mul(y, y);
    return { z, gx: G.grad(G.reduceSum(z), [x])[0] };
  };
  const plain = build(false);
  const marked = build(true);
  const out = await (
    await runtime.compile(g, { z0: plain.z, g0: plain.gx, z1: marked.z, g1: marked.gx })
  ).run({ x: feeds.x, gain: feeds.wd.subarray(0, D) });
  assert.deepEqual(out.z1.data, out.z0.data);
  assert.deepEqual(out.g1.data, out.g0.data);
  assert.throws(() => G.recomputeInBackward(G.add(gain, x)), /first input has the output's rank/);
  assert.throws(() => G.recomputeInBackward(G.transpose(x)), /Transpose/);
  assert.throws(() => G.recomputeInBackward(G.softmax(x, 0)), /last-axis softmax/);
  assert.throws(() => G.recomputeInBackward(G.softmax(x, -1)), /softmax's input/);
});

/** Attention as the decoder computes it: softmax(q·kᵀ·c + bias)·v, the chain marked or not. */
function attention(mark: boolean) {
  const g = new G.Graph("attention");
  const x = g.input("x", "float32", [2, 5, D]);
  const wq = g.input("wq", "float32", [D, D]);
  const wk = g.input("wk", "float32", [D, D]);
  const wv = g.input("wv", "float32", [D, D]);
  const bias = g.input("bias", "float32", [1, 5, 5]);
  const keep = (v: G.Value) => (mark ? G.recomputeInBackward(v) : v);
  const q = G.matmul(x, G.transpose(wq));
  const k = G.matmul(x, G.transpose(wk));
  const v = G.matmul(x, G.transpose(wv));
  const products = keep(G.matmul(q, G.transpose(k, [0, 2, 1])));
  const scaled = keep(G.mul(products, 0.37));
  const probs = keep(G.softmax(keep(G.add(scaled, bias)), -1));
  const y = G.matmul(probs, v);
  const loss = G.reduceSum(G.mul(y, G.sin(y)));
  const [gx, gq, gk, gv] = G.grad(loss, [x, wq, wk, wv]);
  return { graph: g, outputs: { y, gx, gq, gk, gv }, probs };
}

test("attention probabilities recomputed from q and k: identical outputs and gradients", async () => {
  const r = rng(11);
  const attentionFeeds = {
    x: { data: randomArray(r, 2 * 5 * D, "float32") as Float32Array, shape: [2, 5, D] },
    wq: randomArray(r, D * D, "float32") as Float32Array,
    wk: randomArray(r, D * D, "float32") as Float32Array,
    wv: randomArray(r, D * D, "float32") as Float32Array,
    bias: { data: randomArray(r, 25, "float32") as Float32Array, shape: [1, 5, 5] },
  };
  const run = async (mark: boolean) => {
    const p = attention(mark);
    return (await runtime.compile(p.graph, p.outputs)).run(attentionFeeds);
  };
  const [plain, marked] = [await run(false), await run(true)];
  for (const k of ["y", "gx", "gq", "gk", "gv"]) {
    assert.ok((plain[k].data as Float32Array).some((v) => v !== 0));
    assert.deepEqual(marked[k].data, plain[k].data, k);
  }
  // The forward's probabilities are read by the forward alone; the backward has its own copies.
  const readers = (mark: boolean) => {
    const p = attention(mark);
    const { graph } = G.toModelProto(p.graph, p.outputs);
    const nodes = graph!.node!;
    return {
      readers: nodes.filter((n) => n.input!.includes(`v${p.probs.id}`)).length,
      copies: nodes.filter((n) => n.output!.some((o) => o.startsWith(`v${p.probs.id}@`))).length,
    };
  };
  assert.ok(readers(false).readers >= 2);
  assert.deepEqual(readers(true).readers, 1);
  assert.ok(readers(true).copies >= 1);
});
