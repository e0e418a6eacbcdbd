// Gradients of the baselines' layers (SASRec blocks, the GRU cell and unrolled GRU, Caser's
// convolutions, the bce and ce losses) against central finite differences, in float64.

import { test } from "node:test";
import { caserEncode } from "../../src/baselines/caser.js";
import { parseBaselineConfig } from "../../src/baselines/config.js";
import { gru4recEncode, gruCell } from "../../src/baselines/gru4rec.js";
import { type ModelSizes, modelShapes, trainingLoss } from "../../src/baselines/programs.js";
import { sasrecEncode } from "../../src/baselines/sasrec.js";
import type { Value } from "../../src/graph/index.js";
import { type CheckInput, gradCheck } from "../graph/gradcheck.js";

/** Inputs for every parameter of `shapes`, then the int64 items; `f` gets a P accessor. */
function paramCheck(
  shapes: Record<string, number[]>,
  items: { shape: number[]; data: number[] },
  build: (P: (n: string) => Value, items: Value) => Value,
  options = { atol: 1e-6, rtol: 1e-5 },
) {
  const names = Object.keys(shapes);
  const inputs: CheckInput[] = names.map((n) => ({
    name: `p_${n}`,
    shape: shapes[n],
    range: n.endsWith(".gain") ? [0.5, 1.5] : [-0.8, 0.8],
  }));
  inputs.push({
    name: "items",
    shape: items.shape,
    dtype: "int64",
    data: BigInt64Array.from(items.data.map(BigInt)),
    differentiable: false,
  });
  return gradCheck(
    inputs,
    (...values) => {
      const P = (n: string) => values[names.indexOf(n)];
      return build(P, values[values.length - 1]);
    },
    options,
  );
}

const base = { data: "unused", hidden: 4, dropout: 0 };

test("SASRec block: gradients of every parameter match finite differences", async () => {
  const c = parseBaselineConfig({ ...base, kind: "sasrec", blocks: 1, heads: 2 });
  const sizes: ModelSizes = { numItems: 5, inputLen: 3 };
  await paramCheck(modelShapes(c, sizes), { shape: [2, 3], data: [0, 3, 4, 2, 2, 1] }, (P, items) =>
    sasrecEncode({ P, train: false }, c, items),
  );
});

test("GRU cell and the unrolled GRU4Rec encoder: gradients match finite differences", async () => {
  const D = 3;
  await gradCheck(
    [
      { name: "x", shape: [2, 3 * D] },
      { name: "h", shape: [2, D] },
      { name: "wh", shape: [D, 3 * D] },
      { name: "bh", shape: [3 * D] },
    ],
    (x, h, wh, bh) => gruCell(x, h, wh, bh, D),
  );
  const c = parseBaselineConfig({ ...base, kind: "gru4rec", hidden: D });
  const sizes: ModelSizes = { numItems: 4, inputLen: 3 };
  await paramCheck(modelShapes(c, sizes), { shape: [2, 3], data: [0, 3, 1, 2, 2, 1] }, (P, items) =>
    gru4recEncode({ P, train: false }, c, items),
  );
});

test("Caser convolutions: gradients match finite differences", async () => {
  const c = parseBaselineConfig({ ...base, kind: "caser", window: 3, hFilters: 2, vFilters: 2 });
  const sizes: ModelSizes = { numItems: 4, inputLen: 3 };
  const shapes = modelShapes(c, sizes);
  // Caser's table has a padding row (id 4).
  await paramCheck(shapes, { shape: [2, 3], data: [4, 0, 3, 1, 2, 2] }, (P, items) =>
    caserEncode(
      { P, train: false },
      { hidden: 4, window: 3, hFilters: 2, vFilters: 2, dropout: 0 },
      items,
    ),
  );
});

for (const loss of ["ce", "bce"] as const) {
  test(`SASRec training loss (${loss}) through the whole model: gradients match finite differences`, async () => {
    const c = parseBaselineConfig({ ...base, kind: "sasrec", blocks: 1, heads: 1, loss });
    const sizes: ModelSizes = { numItems: 5, inputLen: 3 };
    const shapes = modelShapes(c, sizes);
    const names = Object.keys(shapes);
    const inputs: CheckInput[] = names.map((n) => ({ name: `p_${n}`, shape: shapes[n] }));
    const ints = (data: number[]) => BigInt64Array.from(data.map(BigInt));
    inputs.push(
      {
        name: "items",
        shape: [2, 3],
        dtype: "int64",
        data: ints([0, 3, 4, 2, 1, 0]),
        differentiable: false,
      },
      {
        name: "targets",
        shape: [2, 3],
        dtype: "int64",
        data: ints(loss === "ce" ? [3, 4, -100, 1, 2, -100] : [3, 4, 0, 1, 2, 0]),
        differentiable: false,
      },
      {
        name: "negatives",
        shape: [2, 3],
        dtype: "int64",
        data: ints([1, 2, 0, 4, 3, 0]),
        differentiable: false,
      },
      {
        name: "mask",
        shape: [2, 3],
        data: Float64Array.from([1, 1, 0, 1, 1, 0]),
        differentiable: false,
      },
      { name: "count", shape: [], data: Float64Array.of(4), differentiable: false },
    );
    await gradCheck(inputs, (...v) => {
      const P = (n: string) => v[names.indexOf(n)];
      const [items, targets, negatives, mask, count] = v.slice(names.length);
      return trainingLoss(
        c,
        sizes,
        { P, train: false },
        {
          items,
          targets,
          count,
          ...(loss === "bce" ? { negatives, mask } : {}),
        },
      );
    });
  });
}
