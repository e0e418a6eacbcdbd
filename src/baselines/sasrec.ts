// SASRec (Kang & McAuley 2018) as a graph: item embeddings ×√D + learned positions, causal
// self-attention blocks (layer norm, point-wise feed-forward, dropout), a final layer norm.
// Follows the widely used PyTorch port: queries are layer-normed, keys/values are not.

import {
  add,
  cast,
  causalMask,
  type Dim,
  dropout,
  gather,
  layerNorm,
  linear,
  matmul,
  mul,
  not,
  relu,
  reshape,
  slice,
  softmax,
  transpose,
  type Value,
} from "../graph/index.js";
import type { EncoderContext, ParamShapes } from "./params.js";

/** Parameter shapes of SASRec over `numItems` items. */
export function sasrecShapes(
  c: { hidden: number; blocks: number },
  numItems: number,
  maxLen: number,
): ParamShapes {
  const D = c.hidden;
  const shapes: ParamShapes = { item_emb: [numItems, D], pos_emb: [maxLen, D] };
  for (let b = 0; b < c.blocks; b++) {
    const p = `block${b}`;
    for (const n of ["attn_ln", "ffn_ln"]) {
      shapes[`${p}.${n}.gain`] = [D];
      shapes[`${p}.${n}.bias`] = [D];
    }
    for (const n of ["q", "k", "v", "o", "ffn1", "ffn2"]) {
      shapes[`${p}.${n}.weight`] = [D, D];
      shapes[`${p}.${n}.bias`] = [D];
    }
  }
  shapes["final_ln.gain"] = [D];
  shapes["final_ln.bias"] = [D];
  return shapes;
}

/** Hidden states [B, T, D] of items [B, T] (int64); position t sees items 0…t only. */
export function sasrecEncode(
  ctx: EncoderContext,
  c: { hidden: number; blocks: number; heads: number; dropout: number },
  items: Value,
): Value {
  const { P, train } = ctx;
  const [B, T] = items.shape as [Dim, Dim];
  const D = c.hidden;
  const H = c.heads;
  const dh = D / H;
  const p = train ? c.dropout : 0;
  const drop = (x: Value, stream: number) => (ctx.seed ? dropout(x, p, ctx.seed, stream) : x);
  const g = items.graph;
  let x = add(mul(gather(P("item_emb"), items, 0), Math.sqrt(D)), slice(P("pos_emb"), 0, 0, T));
  x = drop(x, 1);
  // Additive bias: 0 where the key is at or before the query, a large negative after it.
  const bias = mul(cast(not(causalMask(g, T)), x.dtype), -1e9);
  const heads = (v: Value) => transpose(reshape(v, [B, T, H, dh]), [0, 2, 1, 3]);
  for (let b = 0; b < c.blocks; b++) {
    const w = (n: string) => P(`block${b}.${n}`);
    const q = layerNorm(x, w("attn_ln.gain"), w("attn_ln.bias"), 1e-8);
    const Q = heads(linear(q, w("q.weight"), w("q.bias")));
    const K = heads(linear(x, w("k.weight"), w("k.bias")));
    const V = heads(linear(x, w("v.weight"), w("v.bias")));
    const scores = add(mul(matmul(Q, transpose(K, [0, 1, 3, 2])), 1 / Math.sqrt(dh)), bias);
    const attn = drop(softmax(scores, -1), 10 + 4 * b);
    const merged = reshape(transpose(matmul(attn, V), [0, 2, 1, 3]), [B, T, D]);
    x = add(q, linear(merged, w("o.weight"), w("o.bias")));
    x = layerNorm(x, w("ffn_ln.gain"), w("ffn_ln.bias"), 1e-8);
    const inner = drop(relu(linear(x, w("ffn1.weight"), w("ffn1.bias"))), 11 + 4 * b);
    x = add(x, drop(linear(inner, w("ffn2.weight"), w("ffn2.bias")), 12 + 4 * b));
  }
  return layerNorm(x, P("final_ln.gain"), P("final_ln.bias"), 1e-8);
}
