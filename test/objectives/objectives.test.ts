// Objectives: hand-worked losses, special cases (S-DPO K=1 = DPO, RecPO λ=0 = S-DPO), gradients
// vs finite differences, and no overflow for reward gaps of ±1e4.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Graph, grad, type Value } from "../../src/graph/index.js";
import { type Objective, objectiveLoss } from "../../src/objectives/index.js";
import { evaluate, gradCheck } from "../graph/gradcheck.js";

interface Case {
  pc: number[]; // policy chosen [B]
  pr: number[][]; // policy rejected [B][K]
  rc: number[];
  rr: number[][];
  lc: number[];
  lr: number[][];
  margins?: number[][];
}

async function lossOf(
  o: Objective,
  c: Case,
): Promise<{ loss: number; metrics: Record<string, number[]> }> {
  const B = c.pc.length;
  const K = c.pr[0].length;
  const g = new Graph();
  const v = (name: string, data: number[], shape: number[]) => ({
    value: g.input(name, "float64", shape),
    data,
    shape,
  });
  const inputs = {
    pc: v("pc", c.pc, [B]),
    pr: v("pr", c.pr.flat(), [B, K]),
    rc: v("rc", c.rc, [B]),
    rr: v("rr", c.rr.flat(), [B, K]),
    lc: v("lc", c.lc, [B]),
    lr: v("lr", c.lr.flat(), [B, K]),
    m: v("m", (c.margins ?? c.pr.map((row) => row.map(() => 0))).flat(), [B, K]),
  };
  const out = objectiveLoss(o, {
    policyChosen: inputs.pc.value,
    policyRejected: inputs.pr.value,
    referenceChosen: inputs.rc.value,
    referenceRejected: inputs.rr.value,
    chosenLength: inputs.lc.value,
    rejectedLength: inputs.lr.value,
    extra: { margins: inputs.m.value },
  });
  const feeds = Object.fromEntries(
    Object.values(inputs).map((x) => [
      x.value.producer.attrs.name as string,
      { data: Float64Array.from(x.data), shape: x.shape },
    ]),
  );
  const result = await evaluate(g, { loss: out.loss, ...out.metrics }, feeds);
  const metrics: Record<string, number[]> = {};
  for (const name of Object.keys(out.metrics))
    metrics[name] = Array.from(result[name].data as Float64Array);
  return { loss: (result.loss.data as Float64Array)[0], metrics };
}

const softplus = (x: number) => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
const base: Case = {
  pc: [-3, -5],
  pr: [
    [-4, -2.5, -6],
    [-5.5, -7, -4],
  ],
  rc: [-3.5, -4.5],
  rr: [
    [-4.2, -3, -5],
    [-5, -6.5, -4.4],
  ],
  lc: [3, 4],
  lr: [
    [2, 3, 5],
    [4, 2, 3],
  ],
  margins: [
    [1.2, 0.4, 2],
    [0.3, 5.5, 1],
  ],
};
const r = (p: number, q: number) => p - q;

describe("objective values (hand-worked)", () => {
  it("sft: −Σ log p / Σ tokens", async () => {
    const { loss } = await lossOf({ type: "sft" }, base);
    assert.ok(Math.abs(loss - 8 / 7) < 1e-12);
  });
  it("dpo: softplus(β(r_n − r_p)) with the first negative, averaged", async () => {
    const beta = 0.7;
    const { loss, metrics } = await lossOf({ type: "dpo", beta }, base);
    const expected =
      (softplus(beta * (r(-4, -4.2) - r(-3, -3.5))) +
        softplus(beta * (r(-5.5, -5) - r(-5, -4.5)))) /
      2;
    assert.ok(Math.abs(loss - expected) < 1e-12);
    assert.ok(Math.abs(metrics.reward_chosen[0] - beta * 0.5) < 1e-12);
    // Example 1 ties its first negative (both log-ratios −0.5): a tie is not a win.
    assert.deepEqual(metrics.accuracy, [1, 0]);
  });
  it("sdpo: log(1 + Σ_k exp(β(r_k − r_p)))", async () => {
    const beta = 1;
    const { loss, metrics } = await lossOf({ type: "sdpo", beta, negatives: 3 }, base);
    const ex = (b: number) => {
      const rp = r(base.pc[b], base.rc[b]);
      return Math.log(
        1 + base.pr[b].reduce((s, p, j) => s + Math.exp(beta * (r(p, base.rr[b][j]) - rp)), 0),
      );
    };
    assert.ok(Math.abs(loss - (ex(0) + ex(1)) / 2) < 1e-12);
    // Chosen rewards 0.5 and −0.5; the best rejected ones 0.5 (a tie) and 0.4: no wins.
    assert.deepEqual(metrics.accuracy, [0, 0]);
    assert.ok(Math.abs(metrics.margin[1] - -0.9) < 1e-12);
  });
  it("recpo: margins inside each exponent", async () => {
    const { loss } = await lossOf({ type: "recpo", beta: 2, negatives: 2, lambda: 1 }, base);
    const ex = (b: number) => {
      const rp = r(base.pc[b], base.rc[b]);
      let s = 1;
      for (let j = 0; j < 2; j++)
        s += Math.exp(2 * (r(base.pr[b][j], base.rr[b][j]) - rp) + base.margins![b][j]);
      return Math.log(s);
    };
    assert.ok(Math.abs(loss - (ex(0) + ex(1)) / 2) < 1e-12);
  });
  it("dmpo: softplus(mean_k βr_k − βr_p)", async () => {
    const { loss } = await lossOf({ type: "dmpo", beta: 1, negatives: 3 }, base);
    const ex = (b: number) => {
      const mean = base.pr[b].reduce((s, p, j) => s + r(p, base.rr[b][j]), 0) / 3;
      return softplus(mean - r(base.pc[b], base.rc[b]));
    };
    assert.ok(Math.abs(loss - (ex(0) + ex(1)) / 2) < 1e-12);
  });
  it("simpo: softplus(−(β·lp_w/|w| − β·lp_l/|l| − γ)), no reference", async () => {
    const { loss } = await lossOf({ type: "simpo", beta: 2, gamma: 0.5 }, base);
    const ex = (b: number) =>
      softplus(-(2 * (base.pc[b] / base.lc[b]) - 2 * (base.pr[b][0] / base.lr[b][0]) - 0.5));
    assert.ok(Math.abs(loss - (ex(0) + ex(1)) / 2) < 1e-12);
  });
  it("ipo: (h − 1/(2τ))² on per-token log-ratios", async () => {
    const { loss } = await lossOf({ type: "ipo", tau: 0.25 }, base);
    const ex = (b: number) => {
      const h =
        r(base.pc[b], base.rc[b]) / base.lc[b] - r(base.pr[b][0], base.rr[b][0]) / base.lr[b][0];
      return (h - 2) ** 2;
    };
    assert.ok(Math.abs(loss - (ex(0) + ex(1)) / 2) < 1e-12);
  });
});

describe("special cases", () => {
  it("S-DPO with K = 1 equals DPO", async () => {
    for (const beta of [0.1, 1, 3]) {
      const a = await lossOf({ type: "sdpo", beta, negatives: 1 }, base);
      const b = await lossOf({ type: "dpo", beta }, base);
      assert.ok(Math.abs(a.loss - b.loss) < 1e-12);
    }
  });
  it("RecPO with λ = 0 equals S-DPO (margins present but ignored); λ > 0 changes it", async () => {
    const a = await lossOf({ type: "recpo", beta: 1, negatives: 3, lambda: 0 }, base);
    const b = await lossOf({ type: "sdpo", beta: 1, negatives: 3 }, base);
    assert.equal(a.loss, b.loss);
    const c = await lossOf({ type: "recpo", beta: 1, negatives: 3, lambda: 2 }, base);
    assert.ok(c.loss > b.loss + 0.1);
  });
  it("no overflow for reward gaps of ±1e4", async () => {
    const huge: Case = {
      ...base,
      pc: [1e4, -1e4],
      rc: [0, 0],
      pr: [
        [-1e4, 0, 0],
        [1e4, 0, 0],
      ],
      rr: [
        [0, 0, 0],
        [0, 0, 0],
      ],
    };
    for (const o of [
      { type: "dpo", beta: 1 },
      { type: "sdpo", beta: 1, negatives: 3 },
      { type: "recpo", beta: 1, negatives: 3, lambda: 2 },
      { type: "dmpo", beta: 1, negatives: 3 },
      { type: "simpo", beta: 1, gamma: 1 },
      { type: "ipo", tau: 0.1 },
    ] as Objective[]) {
      const { loss } = await lossOf(o, huge);
      assert.ok(Number.isFinite(loss), `${o.type}: ${loss}`);
    }
    // Example 0 is won by 1e4 (loss ≈ 0), example 1 lost by 2e4 (loss ≈ 2e4): mean ≈ 1e4.
    const { loss } = await lossOf({ type: "sdpo", beta: 1, negatives: 3 }, huge);
    assert.ok(Math.abs(loss - 1e4) < 1e-6, `${loss}`);
  });
});

describe("gradients vs finite differences", () => {
  const objectives: Objective[] = [
    { type: "sft" },
    { type: "dpo", beta: 0.5 },
    { type: "sdpo", beta: 1, negatives: 3 },
    { type: "recpo", beta: 1.5, negatives: 2, lambda: 1 },
    { type: "simpo", beta: 2, gamma: 0.3 },
    { type: "dmpo", beta: 1, negatives: 3 },
    { type: "ipo", tau: 0.5 },
  ];
  for (const o of objectives) {
    it(o.type, async () => {
      await gradCheck(
        [
          { name: "pc", shape: [2], range: [-6, -1] },
          { name: "pr", shape: [2, 3], range: [-6, -1] },
          { name: "rc", shape: [2], range: [-6, -1] },
          { name: "rr", shape: [2, 3], range: [-6, -1] },
          { name: "lc", shape: [2], data: Float64Array.from([3, 4]), differentiable: false },
          {
            name: "lr",
            shape: [2, 3],
            data: Float64Array.from([2, 3, 5, 4, 2, 3]),
            differentiable: false,
          },
          { name: "m", shape: [2, 3], range: [0, 3], differentiable: false },
        ],
        (pc, pr, rc, rr, lc, lr, m) =>
          objectiveLoss(o, {
            policyChosen: pc,
            policyRejected: pr,
            referenceChosen: rc,
            referenceRejected: rr,
            chosenLength: lc,
            rejectedLength: lr,
            extra: { margins: m },
          }).loss as Value,
      );
    });
  }
  it("S-DPO gradient: −βσ(s) on the chosen, softmax-weighted on the rejected (paper's form)", async () => {
    const g = new Graph();
    const pc = g.input("pc", "float64", [1]);
    const pr = g.input("pr", "float64", [1, 3]);
    const zero1 = g.input("z1", "float64", [1]);
    const zero3 = g.input("z3", "float64", [1, 3]);
    const beta = 2;
    const { loss } = objectiveLoss(
      { type: "sdpo", beta, negatives: 3 },
      {
        policyChosen: pc,
        policyRejected: pr,
        referenceChosen: zero1,
        referenceRejected: zero3,
        chosenLength: zero1,
        rejectedLength: zero3,
      },
    );
    const [gc, gr] = grad(loss, [pc, pr]);
    const rej = [0.3, -0.2, 0.9];
    const out = await evaluate(
      g,
      { gc, gr },
      {
        pc: Float64Array.from([0.5]),
        pr: { data: Float64Array.from(rej), shape: [1, 3] },
        z1: Float64Array.from([0]),
        z3: { data: new Float64Array(3), shape: [1, 3] },
      },
    );
    const s = Math.log(rej.reduce((acc, x) => acc + Math.exp(beta * (x - 0.5)), 0));
    const sigma = 1 / (1 + Math.exp(-s));
    const z = rej.reduce((acc, x) => acc + Math.exp(beta * x), 0);
    assert.ok(Math.abs((out.gc.data as Float64Array)[0] + beta * sigma) < 1e-12);
    rej.forEach((x, j) => {
      assert.ok(
        Math.abs((out.gr.data as Float64Array)[j] - (beta * sigma * Math.exp(beta * x)) / z) <
          1e-12,
      );
    });
  });
});
