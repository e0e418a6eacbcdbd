// GRU4Rec (Hidasi et al. 2016) as a graph: a GRU over item embeddings, unrolled over the (short,
// fixed-length) input window, with PyTorch's gate equations; scores by an output embedding + bias.

import {
  add,
  concat,
  type Dim,
  dropout,
  full,
  gather,
  linear,
  mul,
  reshape,
  sigmoid,
  slice,
  split,
  sub,
  tanh,
  unsqueeze,
  type Value,
} from "../graph/index.js";
import type { EncoderContext, ParamShapes } from "./params.js";

/** Parameter shapes of GRU4Rec over `numItems` items. */
export function gru4recShapes(c: { hidden: number }, numItems: number): ParamShapes {
  const D = c.hidden;
  return {
    item_emb: [numItems, D],
    "gru.wx": [D, 3 * D],
    "gru.bx": [3 * D],
    "gru.wh": [D, 3 * D],
    "gru.bh": [3 * D],
    out_emb: [numItems, D],
    out_bias: [numItems],
  };
}

/**
 * One GRU step (PyTorch's gate order r, z, n): r = σ(x_r + h_r), z = σ(x_z + h_z),
 * n = tanh(x_n + r·h_n), h' = (1 − z)·n + z·h; `xProj` = x·Wx + bx [B, 3D].
 */
export function gruCell(xProj: Value, h: Value, wh: Value, bh: Value, D: number): Value {
  const [xr, xz, xn] = split(xProj, -1, [D, D, D]);
  const [hr, hz, hn] = split(linear(h, wh, bh), -1, [D, D, D]);
  const r = sigmoid(add(xr, hr));
  const z = sigmoid(add(xz, hz));
  const n = tanh(add(xn, mul(r, hn)));
  return add(mul(sub(1, z), n), mul(z, h));
}

/** Hidden states [B, T, D] of items [B, T] (T static); position t sees items 0…t only. */
export function gru4recEncode(
  ctx: EncoderContext,
  c: { hidden: number; dropout: number },
  items: Value,
): Value {
  const { P, train } = ctx;
  const [B, T] = items.shape as [Dim, number];
  const D = c.hidden;
  const p = train ? c.dropout : 0;
  const drop = (x: Value, stream: number) => (ctx.seed ? dropout(x, p, ctx.seed, stream) : x);
  const x = drop(gather(P("item_emb"), items, 0), 1);
  const xProj = linear(x, P("gru.wx"), P("gru.bx"));
  let h = full(items.graph, [B, D], 0, x.dtype);
  const outs: Value[] = [];
  for (let t = 0; t < T; t++) {
    const xt = reshape(slice(xProj, 1, t, t + 1), [B, 3 * D]);
    h = gruCell(xt, h, P("gru.wh"), P("gru.bh"), D);
    outs.push(unsqueeze(h, [1]));
  }
  return drop(concat(outs, 1), 2);
}
