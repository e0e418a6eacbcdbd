// Test helpers: seeded random tensors and a central-finite-difference gradient check.

import assert from "node:assert/strict";
import {
  add,
  type Dim,
  type DType,
  type Feed,
  Graph,
  grad,
  mul,
  Runtime,
  reduceSum,
  type Tensor,
  type Value,
} from "../../src/graph/index.js";

/** Small deterministic PRNG (mulberry32) so every test draws the same numbers. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randomArray(
  rand: () => number,
  n: number,
  dtype: "float32" | "float64" = "float64",
  lo = -1,
  hi = 1,
): Float32Array | Float64Array {
  const out = dtype === "float64" ? new Float64Array(n) : new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = lo + (hi - lo) * rand();
  return out;
}

export interface CheckInput {
  name: string;
  /** Shape as declared in the graph (may be symbolic). */
  shape: Dim[];
  /** Concrete shape fed at run time (defaults to `shape` when static). */
  feedShape?: number[];
  dtype?: DType;
  /** Values, or a range to draw them from. */
  data?: Float64Array | Float32Array | BigInt64Array | Uint8Array;
  range?: [number, number];
  /** Checked against finite differences (default: float inputs are). */
  differentiable?: boolean;
}

export interface CheckOptions {
  seed?: number;
  eps?: number;
  atol?: number;
  rtol?: number;
}

const runtime = new Runtime({ threads: 1 });

/**
 * Builds `f(inputs)`, reduces it to loss = Σ(0.5·y² + 0.3·y) (so the seed gradient varies per
 * element), and compares `grad` with central differences of the loss for every float input.
 */
export async function gradCheck(
  inputs: CheckInput[],
  f: (...values: Value[]) => Value,
  options: CheckOptions = {},
): Promise<void> {
  const { seed = 1, eps = 1e-6, atol = 1e-6, rtol = 1e-5 } = options;
  const rand = rng(seed);
  const g = new Graph("gradcheck");
  const values = inputs.map((i) => g.input(i.name, i.dtype ?? "float64", i.shape));
  const y = f(...values);
  const loss = reduceSum(add(mul(mul(y, y), 0.5), mul(y, 0.3)));
  const diffIndex = inputs
    .map((input, i) => ({ input, i }))
    .filter(({ input }) => input.differentiable ?? (input.dtype ?? "float64").startsWith("float"));
  const grads = grad(
    loss,
    diffIndex.map(({ i }) => values[i]),
  );
  const outputs: Record<string, Value> = { loss };
  grads.forEach((gv, k) => {
    outputs[`grad_${k}`] = gv;
  });
  const withGrads = await runtime.compile(g, outputs);
  const lossOnly = await runtime.compile(g, { loss });

  const feeds: Record<string, Tensor> = {};
  for (const input of inputs) {
    const shape = input.feedShape ?? (input.shape as number[]);
    const n = shape.reduce((a, b) => a * b, 1);
    const dtype = input.dtype ?? "float64";
    const data =
      input.data ??
      randomArray(
        rand,
        n,
        dtype === "float32" ? "float32" : "float64",
        ...(input.range ?? [-1, 1]),
      );
    feeds[input.name] = { data, shape };
  }
  const result = await withGrads.run(feeds);
  for (const [k, { input }] of diffIndex.entries()) {
    const analytic = result[`grad_${k}`];
    const x = feeds[input.name].data as Float64Array;
    assert.deepEqual(analytic.shape, feeds[input.name].shape, `gradient shape of ${input.name}`);
    for (let j = 0; j < x.length; j++) {
      const saved = x[j];
      x[j] = saved + eps;
      const plus = (await lossOnly.run(feeds)).loss.data[0] as number;
      x[j] = saved - eps;
      const minus = (await lossOnly.run(feeds)).loss.data[0] as number;
      x[j] = saved;
      const numeric = (plus - minus) / (2 * eps);
      const got = analytic.data[j] as number;
      assert.ok(
        Math.abs(got - numeric) <= atol + rtol * Math.abs(numeric),
        `d loss / d ${input.name}[${j}]: autodiff ${got}, finite differences ${numeric}`,
      );
    }
  }
}

/** Runs a graph once and returns its outputs. */
export async function evaluate(
  g: Graph,
  outputs: Record<string, Value>,
  feeds: Record<string, Feed>,
): Promise<Record<string, Tensor>> {
  return (await runtime.compile(g, outputs)).run(feeds);
}

export function assertClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tol = 1e-6,
  what = "value",
): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    assert.ok(
      Math.abs(actual[i] - expected[i]) <= tol * (1 + Math.abs(expected[i])),
      `${what}[${i}]: got ${actual[i]}, expected ${expected[i]}`,
    );
  }
}
