// Every differentiable op: autodiff gradient vs central finite differences, in float64.

import { describe, it } from "node:test";
import * as G from "../../src/graph/index.js";
import { gradCheck } from "./gradcheck.js";

const i64 = (values: number[]) => new BigInt64Array(values.map(BigInt));

describe("element-wise ops", () => {
  const broadcastCases: [string, G.Dim[], number[] | undefined, G.Dim[], number[] | undefined][] = [
    ["same shape", [2, 3], undefined, [2, 3], undefined],
    ["row vector", [2, 3], undefined, [3], undefined],
    ["both broadcast", [2, 1, 3], undefined, [4, 1], undefined],
    ["symbolic", ["n", 3], [2, 3], ["n", 1], [2, 1]],
    ["scalar", [2, 3], undefined, [], undefined],
  ];
  for (const [op, fn] of [
    ["add", G.add],
    ["sub", G.sub],
    ["mul", G.mul],
    ["div", G.div],
    ["maximum", G.maximum],
    ["minimum", G.minimum],
  ] as const) {
    for (const [label, sa, fa, sb, fb] of broadcastCases) {
      it(`${op} (${label})`, async () => {
        await gradCheck(
          [
            { name: "a", shape: sa, feedShape: fa, range: [0.5, 2] },
            { name: "b", shape: sb, feedShape: fb, range: op === "div" ? [0.5, 2] : [-2, 2] },
          ],
          (a, b) => fn(a, b),
        );
      });
    }
  }
  it("number operands", async () => {
    await gradCheck([{ name: "x", shape: [3] }], (x) => G.sub(2, G.div(G.mul(x, 3), 4)));
  });

  const unary: [string, (x: G.Value) => G.Value, [number, number]][] = [
    ["neg", G.neg, [-2, 2]],
    ["exp", G.exp, [-2, 2]],
    ["log", G.log, [0.5, 3]],
    ["sqrt", G.sqrt, [0.5, 3]],
    ["reciprocal", G.reciprocal, [0.5, 3]],
    ["abs", G.abs, [0.2, 2]],
    ["abs (negative side)", G.abs, [-2, -0.2]],
    ["sin", G.sin, [-3, 3]],
    ["cos", G.cos, [-3, 3]],
    ["sigmoid", G.sigmoid, [-3, 3]],
    ["tanh", G.tanh, [-2, 2]],
    ["softplus", G.softplus, [-5, 5]],
    ["relu", G.relu, [0.1, 2]],
    ["relu (negative side)", G.relu, [-2, -0.1]],
    ["gelu", G.gelu, [-3, 3]],
    ["silu", G.silu, [-3, 3]],
    ["pow 3", (x) => G.pow(x, 3), [-2, 2]],
    ["pow 0.5", (x) => G.pow(x, 0.5), [0.5, 3]],
    ["pow -2", (x) => G.pow(x, -2), [0.5, 3]],
    ["square", G.square, [-2, 2]],
    ["identity", G.identity, [-2, 2]],
  ];
  for (const [name, fn, range] of unary) {
    it(name, async () => {
      await gradCheck([{ name: "x", shape: ["n", 4], feedShape: [3, 4], range }], fn);
    });
  }

  it("where (broadcast condition and branches)", async () => {
    await gradCheck(
      [
        { name: "c", shape: [2, 1], dtype: "bool", data: new Uint8Array([1, 0]) },
        { name: "a", shape: [2, 3] },
        { name: "b", shape: [3] },
      ],
      (c, a, b) => G.where(c, a, b),
    );
  });
  it("where with comparisons as the condition", async () => {
    await gradCheck([{ name: "x", shape: [6], range: [-2, 2] }], (x) =>
      G.where(G.greater(x, 0), G.mul(x, 2), G.exp(x)),
    );
  });
  it("cast float64 → float32 → float64", async () => {
    await gradCheck(
      [{ name: "x", shape: [4] }],
      (x) => G.cast(G.mul(G.cast(x, "float32"), 3), "float64"),
      { eps: 1e-3, atol: 1e-4, rtol: 1e-4 },
    );
  });
  it("stopGradient gives zero gradient", async () => {
    await gradCheck([{ name: "x", shape: [3] }], (x) => G.add(x, G.stopGradient(G.sub(0, x))), {
      atol: 1e-6,
    }).then(
      () => {
        throw new Error("a stopped gradient must differ from finite differences");
      },
      () => {},
    );
    await gradCheck([{ name: "x", shape: [3] }], (x) =>
      G.mul(x, G.stopGradient(G.full(x.graph, [3], 2, "float64"))),
    );
  });
});

describe("matmul", () => {
  const cases: [string, G.Dim[], number[] | undefined, G.Dim[], number[] | undefined][] = [
    ["2-D", [2, 3], undefined, [3, 4], undefined],
    ["batched × shared weight", [2, 3, 4], undefined, [4, 5], undefined],
    ["shared × batched", [3, 4], undefined, [2, 4, 5], undefined],
    ["batched × batched", [2, 3, 4], undefined, [2, 4, 2], undefined],
    ["broadcast batch", [2, 1, 3, 4], undefined, [5, 4, 2], undefined],
    ["symbolic batch", ["b", "t", 4], [2, 3, 4], [4, 3], undefined],
  ];
  for (const [label, sa, fa, sb, fb] of cases) {
    it(label, async () => {
      await gradCheck(
        [
          { name: "a", shape: sa, feedShape: fa },
          { name: "b", shape: sb, feedShape: fb },
        ],
        (a, b) => G.matmul(a, b),
      );
    });
  }
});

describe("shape ops", () => {
  it("transpose", async () => {
    await gradCheck([{ name: "x", shape: [2, 3, 4] }], (x) =>
      G.mul(G.transpose(x, [2, 0, 1]), G.transpose(x, [2, 0, 1])),
    );
  });
  it("reshape with −1 and symbolic dims", async () => {
    await gradCheck([{ name: "x", shape: ["b", 3, 4], feedShape: [2, 3, 4] }], (x) =>
      G.mul(G.reshape(x, [-1, 4]), G.reshape(G.reshape(x, ["b", 12]), ["3*b", 4])),
    );
  });
  it("squeeze and unsqueeze", async () => {
    await gradCheck([{ name: "x", shape: [2, 1, 3] }], (x) =>
      G.unsqueeze(G.exp(G.squeeze(x, [1])), [0, -1]),
    );
  });
  it("expand", async () => {
    await gradCheck([{ name: "x", shape: ["n", 1], feedShape: [3, 1] }], (x) =>
      G.expand(x, [2, "n", 4]),
    );
  });
  it("concat (static and symbolic axis)", async () => {
    await gradCheck(
      [
        { name: "a", shape: [2, "s"], feedShape: [2, 3] },
        { name: "b", shape: [2, "t"], feedShape: [2, 2] },
        { name: "c", shape: [2, 1] },
      ],
      (a, b, c) => G.mul(G.concat([a, b, c], 1), G.concat([c, b, a], 1)),
    );
  });
  it("slice (static and symbolic bounds)", async () => {
    await gradCheck([{ name: "x", shape: [3, "t"], feedShape: [3, 5] }], (x) =>
      G.add(G.slice(x, 1, 1, "t-1"), G.slice(x, -1, 0, "t-2")),
    );
  });
  it("split", async () => {
    await gradCheck([{ name: "x", shape: [2, 6] }], (x) => {
      const [a, , c] = G.split(x, 1, [1, 2, 3]);
      return G.concat([G.mul(a, 2), c], 1);
    });
    await gradCheck([{ name: "x", shape: ["t", 2], feedShape: [4, 2] }], (x) => {
      const [a, b] = G.split(x, 0, [1, "t-1"]);
      return G.add(G.reduceSum(a), G.reduceSum(G.mul(b, b), [0]));
    });
  });
});

describe("reductions and softmax", () => {
  for (const [name, fn] of [
    ["reduceSum", G.reduceSum],
    ["reduceMean", G.reduceMean],
    ["reduceMax", G.reduceMax],
    ["reduceLogSumExp", G.reduceLogSumExp],
  ] as const) {
    for (const keep of [false, true]) {
      it(`${name} axes [1] keepdims=${keep}`, async () => {
        await gradCheck([{ name: "x", shape: ["n", 3, 2], feedShape: [2, 3, 2] }], (x) =>
          fn(x, [1], keep),
        );
      });
    }
    it(`${name} over all axes`, async () => {
      await gradCheck([{ name: "x", shape: [2, 3] }], (x) => fn(x));
    });
    it(`${name} over a symbolic axis`, async () => {
      await gradCheck([{ name: "x", shape: [2, "n"], feedShape: [2, 4] }], (x) => fn(x, [-1]));
    });
  }
  it("softmax and logSoftmax", async () => {
    await gradCheck([{ name: "x", shape: [2, 4] }], (x) => G.softmax(x, -1));
    await gradCheck([{ name: "x", shape: [2, 4, 3] }], (x) => G.softmax(x, 1));
    await gradCheck([{ name: "x", shape: ["n", 5], feedShape: [3, 5] }], (x) => G.logSoftmax(x));
  });
  it("crossEntropy with an ignored position", async () => {
    await gradCheck(
      [
        { name: "logits", shape: ["b", 3, 5], feedShape: [2, 3, 5], range: [-3, 3] },
        {
          name: "t",
          shape: ["b", 3],
          feedShape: [2, 3],
          dtype: "int64",
          data: i64([0, 4, -100, 2, 2, 1]),
        },
      ],
      (logits, t) => G.crossEntropy(logits, t),
    );
  });
});

describe("indexing", () => {
  it("gather along axis 0 with repeated indices (embedding)", async () => {
    await gradCheck(
      [
        { name: "w", shape: [5, 3] },
        {
          name: "i",
          shape: ["b", 3],
          feedShape: [2, 3],
          dtype: "int64",
          data: i64([0, 2, 2, 4, 0, 0]),
        },
      ],
      (w, i) => G.gather(w, i, 0),
    );
  });
  it("gather along a middle axis", async () => {
    await gradCheck(
      [
        { name: "x", shape: [2, 4, 3] },
        { name: "i", shape: [2, 2], dtype: "int64", data: i64([3, 1, 1, 0]) },
      ],
      (x, i) => G.gather(x, i, 1),
    );
  });
  it("gatherElements", async () => {
    await gradCheck(
      [
        { name: "x", shape: [3, 4] },
        { name: "i", shape: [3, 2], dtype: "int64", data: i64([0, 3, 1, 1, 2, 0]) },
      ],
      (x, i) => G.gatherElements(x, i, 1),
    );
  });
  it("trilu (lower and upper)", async () => {
    await gradCheck([{ name: "x", shape: [2, 3, 3] }], (x) =>
      G.add(G.trilu(x), G.mul(G.trilu(x, true, 1), 3)),
    );
  });
  it("masked attention-style softmax with a causal mask", async () => {
    await gradCheck([{ name: "s", shape: ["t", "t"], feedShape: [4, 4] }], (s) => {
      const mask = G.causalMask(s.graph, "t");
      return G.softmax(G.where(mask, s, -1e9), -1);
    });
  });
});
