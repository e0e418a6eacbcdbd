// Build-time shape errors, missing gradient rules and feed errors carry the promised messages.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as G from "../../src/graph/index.js";

describe("build-time errors", () => {
  const g = new G.Graph();
  const a = g.input("a", "float32", [2, 3]);
  const b = g.input("b", "float32", [4, 5]);
  const n = g.input("n", "float32", ["n", 3]);
  it("matmul names the op and both shapes", () => {
    assert.throws(() => G.matmul(a, b), {
      name: "GraphError",
      message: "MatMul: inner dimensions differ: [2, 3] @ [4, 5] (3 vs 4)",
    });
  });
  it("broadcasting names the op, shapes and axis", () => {
    assert.throws(
      () => G.add(a, b),
      /^GraphError: Add: shapes \[2, 3\] and \[4, 5\] cannot be broadcast/,
    );
    assert.throws(
      () => G.mul(n, g.input("m", "float32", ["m", 3])),
      /Mul: shapes \[n, 3\] and \[m, 3\] cannot be broadcast \(axis 0: n vs m\)/,
    );
  });
  it("reshape, concat, slice, split, squeeze, axes", () => {
    assert.throws(
      () => G.reshape(a, [4, 2]),
      /Reshape: cannot reshape .*\(6 elements\) to \[4, 2\] \(8 elements\)/,
    );
    assert.throws(
      () => G.reshape(n, [-1, 4]),
      /Reshape: cannot reshape .* to \[-1, 4\] \(3\*n is not divisible by 4\)/,
    );
    assert.throws(() => G.concat([a, b], 0), /Concat: .* differ outside axis 0/);
    assert.throws(() => G.slice(a, 1, 2, 5), /Slice: \[2, 5\) is outside axis 1/);
    assert.throws(() => G.split(a, 1, [1, 1]), /Split: sizes \[1,1\] do not add up to axis 1/);
    assert.throws(() => G.squeeze(a, [0]), /Squeeze: axis 0 of .* is not of size 1/);
    assert.throws(() => G.reduceSum(a, [2]), /ReduceSum: axis 2 is out of range for rank 2/);
  });
  it("dtype mismatches", () => {
    const i = g.input("i", "int64", [2, 3]);
    assert.throws(() => G.add(a, i), /Add: dtypes differ/);
    assert.throws(() => G.exp(i), /Exp: expected a float tensor/);
    assert.throws(() => G.gather(a, a), /Gather: expected int64/);
  });
  it("values from another graph", () => {
    const other = new G.Graph().input("x", "float32", [2, 3]);
    assert.throws(() => G.add(a, other), /belongs to another graph/);
  });
  it("duplicate names", () => {
    assert.throws(() => g.input("a", "float32", [1]), /the name "a" is used twice/);
  });
});

describe("autodiff errors", () => {
  it("differentiating through an op without a gradient rule names the op", () => {
    const g = new G.Graph();
    const logits = g.input("logits", "float32", [2, 5]);
    const t = g.input("t", "int64", [2]);
    const loss = G.reduceSum(G.crossEntropy(logits, t));
    const [dLogits] = G.grad(loss, [logits]);
    // A second derivative passes through CrossEntropyGrad, which has no VJP.
    assert.throws(
      () => G.grad(G.reduceSum(G.mul(dLogits, dLogits)), [logits]),
      /grad: op CrossEntropyGrad has no gradient rule/,
    );
  });
  it("non-scalar losses need a seed, int tensors are not differentiable", () => {
    const g = new G.Graph();
    const x = g.input("x", "float32", [3]);
    assert.throws(() => G.grad(G.exp(x), [x]), /is not a scalar; pass a seed/);
    assert.throws(
      () => G.grad(G.reduceSum(x), [g.input("i", "int64", [1])]),
      /cannot differentiate/,
    );
  });
});

describe("run-time feed errors", () => {
  const g = new G.Graph();
  const x = g.input("x", "float32", ["b", 3]);
  const y = g.input("y", "float32", ["b", 1]);
  const runtime = new G.Runtime({ threads: 1 });
  const compiled = runtime.compile(g, { z: G.add(x, y) });
  const ok = { data: new Float32Array(6), shape: [2, 3] };
  it("missing feeds name the input and its type", async () => {
    await assert.rejects((await compiled).run({ x: ok }), /missing feed "y" \(float32 \[b, 1\]\)/);
  });
  it("wrong dtype, shape, size and symbolic binding", async () => {
    const c = await compiled;
    const y2 = { data: new Float32Array(2), shape: [2, 1] };
    await assert.rejects(
      c.run({ x: { data: new Float64Array(6), shape: [2, 3] }, y: y2 }),
      /feed "x": expected float32 \[b, 3\], got float64/,
    );
    await assert.rejects(
      c.run({ x: { data: new Float32Array(6), shape: [3, 2] }, y: y2 }),
      /feed "x": shape \[3, 2\] does not match float32 \[b, 3\]/,
    );
    await assert.rejects(
      c.run({ x: { data: new Float32Array(5), shape: [2, 3] }, y: y2 }),
      /5 values for shape \[2, 3\]/,
    );
    await assert.rejects(
      c.run({ x: ok, y: { data: new Float32Array(3), shape: [3, 1] } }),
      /feed "y": shape \[3, 1\] does not match float32 \[b, 1\] \("b" is 2 from an earlier feed\)/,
    );
    await assert.rejects(
      c.run({ x: new Float32Array(6), y: y2 }),
      /has symbolic dims \[b, 3\]; pass \{ data, shape \}/,
    );
    await assert.rejects(c.run({ x: ok, y: y2, w: ok }), /feed "w" is not an input of the graph/);
  });
  it("a symbolic size no input carries is an export error", () => {
    const h = new G.Graph();
    const v = h.input("v", "float32", [6]);
    assert.throws(() => G.serialize(h, { r: G.reshape(v, ["q", 6]) }), /Reshape: cannot reshape/);
    assert.throws(
      () => G.serialize(h, { r: G.full(h, ["q"], 1, "float32") }),
      /no graph input has the symbolic dimension "q"/,
    );
  });
});
