// AdamW against a direct transcription of the algorithm, state round trip, gradient clipping.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AdamW, clipGradNorm, globalNorm } from "../../src/train/optim.js";

/** Algorithm 2 of Loshchilov & Hutter (as torch.optim.AdamW implements it), in float64. */
function referenceAdamW(
  p0: number[],
  gradients: number[][],
  o: { lr: number; b1: number; b2: number; eps: number; wd: number },
): number[] {
  const p = [...p0];
  const m = p.map(() => 0);
  const v = p.map(() => 0);
  gradients.forEach((g, k) => {
    const t = k + 1;
    for (let i = 0; i < p.length; i++) {
      p[i] -= o.lr * o.wd * p[i];
      m[i] = o.b1 * m[i] + (1 - o.b1) * g[i];
      v[i] = o.b2 * v[i] + (1 - o.b2) * g[i] ** 2;
      const mHat = m[i] / (1 - o.b1 ** t);
      const vHat = v[i] / (1 - o.b2 ** t);
      p[i] -= (o.lr * mHat) / (Math.sqrt(vHat) + o.eps);
    }
  });
  return p;
}

const hyper = { lr: 0.1, b1: 0.9, b2: 0.99, eps: 1e-8, wd: 0.05 };
const p0 = [0.5, -1.25, 2, 0];
const gradients = [
  [0.1, -0.2, 0.3, 0],
  [-0.05, 0.4, 0.1, 1],
  [0.2, 0.2, -0.3, -1],
  [0.01, -0.02, 0.03, 0.5],
];

function run(steps: number[][], optimizer?: AdamW) {
  const params = new Map([["w", Float32Array.from(p0)]]);
  const opt =
    optimizer ??
    new AdamW(params, {
      lr: hyper.lr,
      beta1: hyper.b1,
      beta2: hyper.b2,
      eps: hyper.eps,
      weightDecay: hyper.wd,
    });
  for (const g of steps) opt.update({ w: Float32Array.from(g) });
  return { params: opt.params, opt };
}

describe("AdamW", () => {
  it("matches the reference update over 4 steps", () => {
    const { params } = run(gradients);
    const ref = referenceAdamW(p0, gradients, hyper);
    const got = params.get("w")!;
    for (let i = 0; i < ref.length; i++)
      assert.ok(Math.abs(got[i] - ref[i]) < 1e-6, `${got[i]} vs ${ref[i]}`);
  });
  it("first step moves each weight by lr·sign(g) (plus decay)", () => {
    const { params } = run([gradients[0]]);
    const w = params.get("w")!;
    assert.ok(Math.abs(w[0] - (0.5 * (1 - 0.1 * 0.05) - 0.1)) < 1e-6);
    assert.ok(Math.abs(w[1] - (-1.25 * (1 - 0.1 * 0.05) + 0.1)) < 1e-6);
    assert.equal(w[3], 0); // zero gradient and zero weight stay put
  });
  it("2 steps + save/load + 2 steps equals 4 steps", () => {
    const straight = run(gradients).params.get("w")!;
    const firstHalf = run(gradients.slice(0, 2));
    const state = firstHalf.opt.state();
    const params = new Map([["w", firstHalf.params.get("w")!.slice()]]);
    const resumed = new AdamW(params, { lr: 999 }); // hyper-parameters come from the state
    // Through JSON, as a checkpoint file would carry it.
    const text = JSON.stringify({
      ...state,
      tensors: Object.fromEntries(Object.entries(state.tensors).map(([k, v]) => [k, [...v]])),
    });
    const parsed = JSON.parse(text);
    parsed.tensors = Object.fromEntries(
      Object.entries(parsed.tensors as Record<string, number[]>).map(([k, v]) => [
        k,
        Float32Array.from(v),
      ]),
    );
    resumed.load(parsed);
    for (const g of gradients.slice(2)) resumed.update({ w: Float32Array.from(g) });
    assert.deepEqual([...params.get("w")!], [...straight]);
    assert.equal(resumed.step, 4);
  });
  it("excluded parameters get no weight decay", () => {
    const params = new Map([
      ["w", Float32Array.from([1])],
      ["norm.g", Float32Array.from([1])],
    ]);
    const opt = new AdamW(params, { lr: 0.1, weightDecay: 0.5, decays: (n) => !n.endsWith(".g") });
    opt.update({ w: Float32Array.from([0]), "norm.g": Float32Array.from([0]) });
    assert.ok(Math.abs(params.get("w")![0] - 0.95) < 1e-7);
    assert.equal(params.get("norm.g")![0], 1);
  });
  it("rejects missing or mis-sized gradients", () => {
    const opt = new AdamW(new Map([["w", new Float32Array(2)]]), { lr: 0.1 });
    assert.throws(() => opt.update({}), /no gradient for parameter "w"/);
    assert.throws(() => opt.update({ w: new Float32Array(3) }), /has 3 values, parameter 2/);
    assert.throws(
      () => opt.update({ w: new Float32Array(2), q: new Float32Array(1) }),
      /unknown parameter "q"/,
    );
  });
});

describe("gradient clipping", () => {
  it("scales to the max norm and reports the norm before", () => {
    const grads = { a: Float32Array.from([3, 0]), b: Float64Array.from([4]) };
    assert.equal(globalNorm(grads), 5);
    const before = clipGradNorm(grads, 1);
    assert.equal(before, 5);
    assert.ok(Math.abs(globalNorm(grads) - 1) < 1e-5);
    assert.ok(Math.abs(grads.a[0] / grads.b[0] - 0.75) < 1e-6);
  });
  it("leaves small gradients alone", () => {
    const grads = { a: Float32Array.from([0.3, 0.4]) };
    clipGradNorm(grads, 1);
    assert.deepEqual([...grads.a], [Float32Array.from([0.3])[0], Float32Array.from([0.4])[0]]);
  });
});
