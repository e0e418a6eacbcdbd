// Folded transposes: a transpose of a transpose is one node, and the gradient of a transposed
// matrix operand is one GEMM with transposed operands (checked against finite differences).

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as G from "../../src/graph/index.js";
import { assertClose, evaluate, gradCheck } from "./gradcheck.js";

describe("folded transposes", () => {
  it("transpose of a transpose composes the permutations (or vanishes)", async () => {
    const g = new G.Graph("tt");
    const x = g.input("x", "float64", [2, 3, 4]);
    const once = G.transpose(G.transpose(x, [1, 2, 0]), [2, 0, 1]);
    assert.equal(once, x, "inverse permutations give the input back");
    const y = G.transpose(G.transpose(x, [1, 0, 2]), [0, 2, 1]);
    assert.equal(y.producer.op, "Transpose");
    assert.equal(y.producer.inputs[0], x);
    assert.deepEqual(y.shape, [3, 4, 2]);
    const data = Float64Array.from({ length: 24 }, (_, i) => i);
    const out = await evaluate(g, { y }, { x: data });
    // y[i][j][k] = x[k][i][j]
    const expected: number[] = [];
    for (let i = 0; i < 3; i++)
      for (let j = 0; j < 4; j++)
        for (let k = 0; k < 2; k++) expected.push(data[k * 12 + i * 4 + j]);
    assertClose(out.y.data as Float64Array, expected, 0);
  });

  it("x·Wᵀ: a large W's gradient is one MatMul; a skinny one keeps its transpose", () => {
    const g = new G.Graph("xwt");
    const x = g.input("x", "float64", [2, 5, 64]);
    const w = g.input("w", "float64", [64, 64]);
    const [gw] = G.grad(G.reduceSum(G.matmul(x, G.transpose(w))), [w]);
    assert.equal(gw.producer.op, "MatMul");
    assert.deepEqual(gw.shape, [64, 64]);
    const lora = g.input("a", "float64", [8, 64]);
    const [ga] = G.grad(G.reduceSum(G.matmul(x, G.transpose(lora))), [lora]);
    assert.equal(ga.producer.op, "Transpose");
  });

  it("x·Wᵀ gradients match finite differences (folded and not, batched and 2-D x)", async () => {
    await gradCheck(
      [
        { name: "x", shape: ["b", 2, 64], feedShape: [2, 2, 64], differentiable: false },
        { name: "w", shape: [64, 64] },
      ],
      (x, w) => G.matmul(x, G.transpose(w)),
    );
    await gradCheck(
      [
        { name: "x", shape: ["b", 5, 3], feedShape: [2, 5, 3] },
        { name: "w", shape: [4, 3] },
      ],
      (x, w) => G.matmul(x, G.transpose(w)),
    );
    await gradCheck(
      [
        { name: "x", shape: [5, 3] },
        { name: "w", shape: [4, 3] },
      ],
      (x, w) => G.matmul(G.transpose(G.matmul(x, G.transpose(w))), x),
    );
  });
});
