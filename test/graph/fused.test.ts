// Fused kernels (LayerNormalization, SimplifiedLayerNormalization, FastGelu) against the unfused
// primitive-op path in float64 (values and gradients) and against finite differences in float32.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as G from "../../src/graph/index.js";
import { assertClose, evaluate, gradCheck, randomArray, rng } from "./gradcheck.js";

type Build = (x: G.Value, ...params: G.Value[]) => G.Value;

/** GELU (tanh) from primitives, so its gradient comes from their VJPs, not GeluTanh's. */
function geluPrimitive(x: G.Value): G.Value {
  const inner = G.mul(G.add(x, G.mul(G.mul(G.mul(x, x), x), 0.044715)), Math.sqrt(2 / Math.PI));
  return G.mul(G.mul(x, 0.5), G.add(G.tanh(inner), 1));
}

interface Case {
  name: string;
  /** The ONNX op the fused float32 graph must contain. */
  onnxOp: string;
  fused: Build;
  reference: Build;
  /** Parameter shapes after x [.., d]; values drawn near 1 (gains) or 0 (biases). */
  params: { shape: number[]; range: [number, number] }[];
}

const D = 8;
const cases: Case[] = [
  {
    name: "layerNorm",
    onnxOp: "LayerNormalization",
    fused: (x, g, b) => G.layerNorm(x, g, b, 1e-5),
    reference: (x, g, b) => G.layerNormUnfused(x, g, b, 1e-5),
    params: [
      { shape: [D], range: [0.5, 1.5] },
      { shape: [D], range: [-0.5, 0.5] },
    ],
  },
  {
    name: "rmsNorm",
    onnxOp: "SimplifiedLayerNormalization",
    fused: (x, g) => G.fusedRmsNorm(x, g, 1e-6),
    reference: (x, g) => G.rmsNorm(x, g, 1e-6),
    params: [{ shape: [D], range: [0.5, 1.5] }],
  },
  { name: "gelu", onnxOp: "FastGelu", fused: G.gelu, reference: geluPrimitive, params: [] },
];

/** Value and gradients (of Σ y·w for a fixed random w) of `build` over the given arrays. */
async function valueAndGrads(
  build: Build,
  dtype: "float32" | "float64",
  shapes: number[][],
  arrays: Float64Array[],
  weights: Float64Array,
): Promise<{ y: Float64Array; grads: Float64Array[]; ops: string[] }> {
  const g = new G.Graph("fused");
  const inputs = shapes.map((s, i) => g.input(`in${i}`, dtype, s));
  const y = build(inputs[0], ...inputs.slice(1));
  const w = g.input("w", dtype, shapes[0]);
  const grads = G.grad(G.reduceSum(G.mul(y, w)), inputs);
  const outputs: Record<string, G.Value> = { y };
  grads.forEach((gv, i) => {
    outputs[`g${i}`] = gv;
  });
  const cast = (a: Float64Array) => (dtype === "float32" ? Float32Array.from(a) : a);
  const feeds: Record<string, G.Feed> = { w: cast(weights) };
  arrays.forEach((a, i) => {
    feeds[`in${i}`] = cast(a);
  });
  const out = await evaluate(g, outputs, feeds);
  const ops = G.toModelProto(g, outputs).graph!.node!.map((n) => n.opType!);
  return {
    y: Float64Array.from(out.y.data as Float32Array),
    grads: shapes.map((_, i) => Float64Array.from(out[`g${i}`].data as Float32Array)),
    ops,
  };
}

describe("fused kernels", () => {
  for (const c of cases) {
    it(`${c.name}: float32 fused kernel equals the float64 unfused path (values, gradients)`, async () => {
      const rand = rng(11);
      const xShape = [2, 3, D];
      const shapes = [xShape, ...c.params.map((p) => p.shape)];
      const arrays = [
        randomArray(rand, 2 * 3 * D, "float64", -2, 2) as Float64Array,
        ...c.params.map(
          (p) => randomArray(rand, p.shape[0], "float64", ...p.range) as Float64Array,
        ),
      ];
      const weights = randomArray(rand, 2 * 3 * D, "float64") as Float64Array;
      const fused = await valueAndGrads(c.fused, "float32", shapes, arrays, weights);
      const reference = await valueAndGrads(c.reference, "float64", shapes, arrays, weights);
      assert.ok(fused.ops.includes(c.onnxOp), `the float32 graph uses ${c.onnxOp}`);
      assert.ok(!reference.ops.includes(c.onnxOp), `the float64 reference does not`);
      assertClose(fused.y, reference.y, 1e-5, `${c.name} value`);
      fused.grads.forEach((gr, i) => {
        assertClose(gr, reference.grads[i], 1e-4, `${c.name} gradient of input ${i}`);
      });
    });

    it(`${c.name}: fused float32 gradients match finite differences (symbolic batch)`, async () => {
      await gradCheck(
        [
          { name: "x", shape: ["b", 3, D], feedShape: [2, 3, D], dtype: "float32", range: [-2, 2] },
          ...c.params.map((p, i) => ({
            name: `p${i}`,
            shape: p.shape,
            dtype: "float32" as const,
            range: p.range,
          })),
        ],
        (x, ...ps) => c.fused(x, ...ps),
        { eps: 1e-2, atol: 2e-3, rtol: 1e-2 },
      );
    });
  }

  it("norms with gains that are not [d] fall back to primitive ops", async () => {
    const g = new G.Graph("fallback");
    const x = g.input("x", "float32", [2, D]);
    const gain = g.input("g", "float32", [1, D]);
    const y = G.layerNorm(x, gain, gain);
    const ops = G.toModelProto(g, { y }).graph!.node!.map((n) => n.opType!);
    assert.ok(!ops.includes("LayerNormalization"));
    assert.ok(ops.includes("ReduceMean"));
    assert.equal(G.canFuseNorm(x, gain), false);
    assert.throws(() => G.fusedRmsNorm(x, gain, 1e-6), /cannot fuse/);
  });
});
