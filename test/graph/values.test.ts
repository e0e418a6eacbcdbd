// Forward values against hand-worked or independently computed numbers, and the dim algebra.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as G from "../../src/graph/index.js";
import { assertClose, evaluate, randomArray, rng } from "./gradcheck.js";

async function unaryValues(f: (x: G.Value) => G.Value, xs: number[]): Promise<number[]> {
  const g = new G.Graph();
  const x = g.input("x", "float64", [xs.length]);
  const out = await evaluate(
    g,
    { y: f(x) },
    { x: { data: Float64Array.from(xs), shape: [xs.length] } },
  );
  return [...(out.y.data as Float64Array)];
}

describe("forward values", () => {
  it("softplus is exact and finite at ±1e4", async () => {
    const y = await unaryValues(G.softplus, [-1e4, -1, 0, 1, 1e4]);
    assertClose(
      y,
      [0, Math.log1p(Math.exp(-1)), Math.LN2, 1 + Math.log1p(Math.exp(-1)), 1e4],
      1e-12,
    );
  });
  it("gelu (tanh approximation) matches the formula", async () => {
    const xs = [-3, -1, -0.5, 0, 0.5, 1, 3];
    const ref = xs.map(
      (x) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3))),
    );
    assertClose(await unaryValues(G.gelu, xs), ref, 1e-12);
  });
  it("silu matches x·σ(x) in float64 and float32", async () => {
    const xs = [-4, -1, 0, 2, 5];
    const ref = xs.map((x) => x / (1 + Math.exp(-x)));
    assertClose(await unaryValues(G.silu, xs), ref, 1e-12);
    const g = new G.Graph();
    const x = g.input("x", "float32", [xs.length]);
    const out = await evaluate(g, { y: G.silu(x) }, { x: Float32Array.from(xs) });
    assertClose(out.y.data as Float32Array, ref, 1e-6);
  });
  it("crossEntropy equals logsumexp − logit[target], 0 where ignored", async () => {
    const rand = rng(3);
    const logits = randomArray(rand, 2 * 3 * 7, "float64", -4, 4);
    const targets = [1, 6, -100, 0, 3, 3];
    const g = new G.Graph();
    const l = g.input("l", "float64", [2, 3, 7]);
    const t = g.input("t", "int64", [2, 3]);
    const out = await evaluate(
      g,
      { ce: G.crossEntropy(l, t) },
      { l: logits, t: BigInt64Array.from(targets.map(BigInt)) },
    );
    const ref = targets.map((target, row) => {
      if (target === -100) return 0;
      const z = [...logits.slice(row * 7, row * 7 + 7)];
      const m = Math.max(...z);
      return m + Math.log(z.reduce((s, v) => s + Math.exp(v - m), 0)) - z[target];
    });
    assert.deepEqual(out.ce.shape, [2, 3]);
    assertClose(out.ce.data as Float64Array, ref, 1e-12);
  });
  it("reduceMax shares the gradient equally among tied maxima", async () => {
    const g = new G.Graph();
    const x = g.input("x", "float64", [2, 3]);
    const [gx] = G.grad(G.reduceSum(G.reduceMax(x, [1])), [x]);
    const out = await evaluate(g, { gx }, { x: new Float64Array([1, 3, 3, 2, 0, -1]) });
    assert.deepEqual([...(out.gx.data as Float64Array)], [0, 0.5, 0.5, 1, 0, 0]);
  });
  it("causalMask and range with a symbolic length", async () => {
    const g = new G.Graph();
    g.input("x", "float32", ["t", 2]);
    const mask = G.causalMask(g, "t");
    const out = await evaluate(g, { m: mask }, { x: { data: new Float32Array(6), shape: [3, 2] } });
    assert.deepEqual(out.m.shape, [3, 3]);
    assert.deepEqual([...(out.m.data as Uint8Array)], [1, 0, 0, 1, 1, 0, 1, 1, 1]);
  });
  it("a gradient w.r.t. a value that does not influence the loss is zero", async () => {
    const g = new G.Graph();
    const x = g.input("x", "float32", [2]);
    const unused = g.input("u", "float32", [3]);
    const [gu] = G.grad(G.reduceSum(G.exp(x)), [unused]);
    const out = await evaluate(
      g,
      { gu },
      { x: new Float32Array(2), u: new Float32Array([1, 2, 3]) },
    );
    assert.deepEqual([...(out.gu.data as Float32Array)], [0, 0, 0]);
  });
  it("only nodes between wrt and the loss get gradient nodes", () => {
    const g = new G.Graph();
    const x = g.input("x", "float32", [4]);
    const c = g.input("c", "float32", [4]);
    const constantBranch = G.exp(G.tanh(c)); // depends on c only
    const loss = G.reduceSum(G.mul(x, constantBranch));
    const before = g.nodes.length;
    G.grad(loss, [x]);
    const added = g.nodes.slice(before).map((n) => n.op);
    assert.ok(!added.includes("Tanh") && !added.includes("Exp"), `added ${added}`);
  });
});

describe("symbolic dims", () => {
  it("canonical forms compare equal", () => {
    assert.equal(G.canonicalDim("b*a"), "a*b");
    assert.equal(G.dimMul("b", "a"), "a*b");
    assert.equal(G.dimAdd("t", "s"), "s+t");
    assert.equal(G.dimSub(G.dimAdd("t", 2), 2), "t");
    assert.equal(G.dimMul(2, "b"), "2*b");
    assert.equal(G.dimDiv("6*b*t", "3*t"), "2*b");
    assert.equal(G.dimDiv("b+t", "t"), undefined);
    assert.equal(
      G.evalDim(
        "2*b*t+t-1",
        new Map([
          ["b", 3],
          ["t", 5],
        ]),
      ),
      34,
    );
  });
  it("shapes are inferred through reshape, concat, slice and matmul", () => {
    const g = new G.Graph();
    const x = g.input("x", "float32", ["b", "t", 8]);
    assert.deepEqual(G.reshape(x, [-1, 8]).shape, ["b*t", 8]);
    assert.deepEqual(G.reshape(x, ["b", "t", 2, -1]).shape, ["b", "t", 2, 4]);
    const y = g.input("y", "float32", ["b", "s", 8]);
    assert.deepEqual(G.concat([x, y], 1).shape, ["b", "s+t", 8]);
    assert.deepEqual(G.slice(G.concat([x, y], 1), 1, "t").shape, ["b", "s", 8]);
    const w = g.input("w", "float32", [8, 3]);
    assert.deepEqual(G.matmul(x, w).shape, ["b", "t", 3]);
  });
  it("a symbolic reshape runs with the sizes read from the feeds", async () => {
    const g = new G.Graph();
    const x = g.input("x", "float32", ["b", "t", 2]);
    const flat = G.reshape(x, [-1, 2]);
    const back = G.reshape(G.mul(flat, 2), ["t", "b", 2]);
    const out = await evaluate(
      g,
      { y: back },
      {
        x: { data: Float32Array.from({ length: 12 }, (_, i) => i), shape: [2, 3, 2] },
      },
    );
    assert.deepEqual(out.y.shape, [3, 2, 2]);
    assert.deepEqual(
      [...(out.y.data as Float32Array)],
      Array.from({ length: 12 }, (_, i) => 2 * i),
    );
  });
});
