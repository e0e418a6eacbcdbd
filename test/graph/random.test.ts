// Counter-based random numbers in the graph: the hash equals an independent BigInt computation,
// dropout keeps the expected share and scale, seeds reproduce, and gradients pass the mask.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as G from "../../src/graph/index.js";
import { evaluate, gradCheck } from "./gradcheck.js";

/** The same lowbias32-style hash, written with BigInt. */
function reference(index: number, seed: number, stream: number): number {
  const M = 4294967296n;
  let h =
    (BigInt(index) * 2654435761n + BigInt(seed) + BigInt((stream * 1000003) % 2147483647)) % M;
  for (let round = 0; round < 2; round++) {
    h ^= h / 65536n;
    h = (h * 73244475n) % M;
  }
  h ^= h / 65536n;
  return Number(h) / 4294967296;
}

describe("in-graph random numbers", () => {
  it("uniformLike equals the reference hash, element by element", async () => {
    const g = new G.Graph();
    const x = g.input("x", "float64", ["n", 7]);
    const seed = g.input("seed", "int64", []);
    const out = await evaluate(
      g,
      { u: G.uniformLike(x.shape, seed, 5, "float64") },
      {
        x: { data: new Float64Array(21), shape: [3, 7] },
        seed: { data: new BigInt64Array([987654321n]), shape: [] },
      },
    );
    const u = out.u.data as Float64Array;
    for (let i = 0; i < 21; i++) assert.equal(u[i], reference(i, 987654321, 5));
  });

  it("dropout zeros about p of the elements, keeps the mean, repeats per seed", async () => {
    const g = new G.Graph();
    const x = g.input("x", "float32", [200, 100]);
    const seed = g.input("seed", "int64", []);
    const d = G.dropout(x, 0.25, seed, 2);
    const run = async (s: bigint) =>
      (
        await evaluate(
          g,
          { d },
          { x: new Float32Array(20000).fill(1), seed: { data: new BigInt64Array([s]), shape: [] } },
        )
      ).d.data as Float32Array;
    const a = await run(1n);
    const zeros = a.filter((v) => v === 0).length / a.length;
    assert.ok(Math.abs(zeros - 0.25) < 0.015, `zero share ${zeros}`);
    assert.ok(a.every((v) => v === 0 || Math.abs(v - 4 / 3) < 1e-6));
    const mean = a.reduce((s, v) => s + v, 0) / a.length;
    assert.ok(Math.abs(mean - 1) < 0.03, `mean ${mean}`);
    assert.deepEqual(await run(1n), a);
    const b = await run(2n);
    assert.ok(b.some((v, i) => v !== a[i]));
  });

  it("the gradient flows through the kept elements only", async () => {
    await gradCheck(
      [
        { name: "x", shape: [4, 6] },
        {
          name: "seed",
          shape: [],
          dtype: "int64",
          data: new BigInt64Array([42n]),
          differentiable: false,
        },
      ],
      (x, seed) => G.tanh(G.dropout(x, 0.5, seed, 0)),
    );
  });
});
