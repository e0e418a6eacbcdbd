// Caser (Tang & Wang 2018) as a graph: horizontal convolutions (heights 1…L, max-pooled over time)
// and vertical convolutions over the embeddings of the last L items, then a dense layer.
// Convolutions are written as matmuls over stacked shifted slices, so the gradients are the
// primitives' own.

import {
  add,
  concat,
  type Dim,
  dropout,
  gather,
  linear,
  matmul,
  reduceMax,
  relu,
  reshape,
  slice,
  transpose,
  type Value,
} from "../graph/index.js";
import type { EncoderContext, ParamShapes } from "./params.js";

export interface CaserShape {
  hidden: number;
  window: number;
  hFilters: number;
  vFilters: number;
}

/** Parameter shapes of Caser; the input table has one extra row (id `numItems`) for padding. */
export function caserShapes(c: CaserShape, numItems: number): ParamShapes {
  const { hidden: D, window: L, hFilters: nh, vFilters: nv } = c;
  const shapes: ParamShapes = { item_emb: [numItems + 1, D] };
  for (let h = 1; h <= L; h++) {
    shapes[`conv_h${h}.weight`] = [h * D, nh];
    shapes[`conv_h${h}.bias`] = [nh];
  }
  shapes["conv_v.weight"] = [L, nv];
  shapes["conv_v.bias"] = [nv];
  shapes["fc.weight"] = [nh * L + D * nv, D];
  shapes["fc.bias"] = [D];
  shapes.out_emb = [numItems, D];
  shapes.out_bias = [numItems];
  return shapes;
}

/** The representation [B, D] of windows [B, L] (int64, padded on the left with `numItems`). */
export function caserEncode(
  ctx: EncoderContext,
  c: CaserShape & { dropout: number },
  window: Value,
): Value {
  const { P, train } = ctx;
  const [B, L] = window.shape as [Dim, number];
  const D = c.hidden;
  const e = gather(P("item_emb"), window, 0); // [B, L, D]
  const parts: Value[] = [];
  for (let h = 1; h <= L; h++) {
    // Row i of the stack is items i…i+h−1 side by side: one filter application per row.
    const rows = L - h + 1;
    const stacked = concat(
      Array.from({ length: h }, (_, i) => slice(e, 1, i, i + rows)),
      -1,
    ); // [B, rows, h·D]
    const conv = relu(linear(stacked, P(`conv_h${h}.weight`), P(`conv_h${h}.bias`)));
    parts.push(reduceMax(conv, [1])); // [B, nh]
  }
  // Vertical filters: weighted sums over the L positions, one per filter and embedding column.
  const vertical = add(matmul(transpose(e, [0, 2, 1]), P("conv_v.weight")), P("conv_v.bias"));
  parts.push(reshape(vertical, [B, D * c.vFilters]));
  let z = concat(parts, -1);
  if (train && c.dropout > 0 && ctx.seed) z = dropout(z, c.dropout, ctx.seed, 1);
  return relu(linear(z, P("fc.weight"), P("fc.bias")));
}
