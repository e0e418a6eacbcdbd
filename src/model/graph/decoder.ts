// The LLaMA-family decoder as graph functions: embeddings, RoPE (HF rotate_half convention),
// grouped-query attention through a pluggable attention core, SwiGLU MLP, RMSNorm, LM head.

import {
  add,
  cast,
  concat,
  cos,
  type Dim,
  dropout,
  gather,
  isRecomputed,
  matmul,
  mul,
  neg,
  recomputeInBackward,
  reshape,
  rmsNorm,
  silu,
  sin,
  softmax,
  split,
  transpose,
  unsqueeze,
  type Value,
} from "../../graph/index.js";
import { ropeInverseFrequencies } from "../rope.js";
import type { BoundModel } from "./params.js";
import { embedWithRows, withRowColumns } from "./token-rows.js";

/** Additive attention bias for masked-out keys: large enough to vanish in softmax, yet finite. */
export const MASKED = -1e9;

/** Query/key/value of one layer: q [B, Hkv, G, S, dh], k and v [B, Hkv, 1, S, dh] (G = H/Hkv). */
export interface LayerQkv {
  layer: number;
  q: Value;
  k: Value;
  v: Value;
}

/** Computes attention output [B, Hkv, G, S, dh] for one layer from its q, k, v. */
export type AttentionCore = (qkv: LayerQkv) => Value;

/** x·Wᵀ (+ bias) (+ scaling·x·Aᵀ·Bᵀ when the module has LoRA factors). */
export function projection(m: BoundModel, x: Value, module: string): Value {
  let y = matmul(x, transpose(m.weight(`${module}.weight`)));
  if (m.has(`${module}.bias`)) y = add(y, m.weight(`${module}.bias`));
  const lora = m.lora(module);
  if (lora) {
    const input = lora.dropout
      ? dropout(x, lora.dropout.p, lora.dropout.seed, lora.dropout.stream)
      : x;
    const low = matmul(matmul(input, transpose(lora.A)), transpose(lora.B));
    y = add(y, mul(low, lora.scaling));
  }
  return y;
}

/** Token embeddings of int64 ids [...] → [..., D] (replacement token rows applied, hidden
 *  dropout when training with it). */
export function embed(m: BoundModel, ids: Value): Value {
  const rows = m.tokenRows("model.embed_tokens");
  const weight = m.weight("model.embed_tokens.weight");
  return m.dropHidden(
    rows ? embedWithRows(weight, ids, rows.indices, rows.rows) : gather(weight, ids, 0),
  );
}

/** cos and sin tables [B, S, dh] for int64 positions [B, S], as HF computes them (float32). */
export function rotaryTables(m: BoundModel, positions: Value): { cos: Value; sin: Value } {
  const inv = ropeInverseFrequencies(m.config);
  const invFreq =
    m.dtype === "float32"
      ? m.graph.constant(Float32Array.from(inv), [inv.length], "float32")
      : m.graph.constant(Float64Array.from(inv), [inv.length], "float64");
  const freqs = mul(unsqueeze(cast(positions, m.dtype), [-1]), invFreq);
  const emb = concat([freqs, freqs], -1);
  return { cos: cos(emb), sin: sin(emb) };
}

/** x·cos + rotate_half(x)·sin, rotate_half(x) = [−x₂, x₁] over the last axis. */
function applyRotary(x: Value, cosT: Value, sinT: Value): Value {
  const half = (x.shape[x.rank - 1] as number) / 2;
  const [x1, x2] = split(x, -1, [half, half]);
  const rotated = concat([neg(x2), x1], -1);
  return add(mul(x, cosT), mul(rotated, sinT));
}

/**
 * Runs the decoder layers over hidden states x [B, S, D] at positions [B, S]; `attention`
 * supplies each layer's attention pattern. Returns the last hidden states (before the final
 * norm) and each layer's rotated keys and values ([B, Hkv, 1, S, dh]).
 */
export function decoderStack(
  m: BoundModel,
  x: Value,
  positions: Value,
  attention: AttentionCore,
): { hidden: Value; keys: Value[]; values: Value[] } {
  const c = m.config;
  const [B, S] = x.shape as [Dim, Dim];
  const dh = c.headDim;
  const hkv = c.numKvHeads;
  const groups = c.numHeads / c.numKvHeads;
  const tables = rotaryTables(m, positions);
  // [B, S, dh] → [B, 1, 1, S, dh] to broadcast over heads.
  const cosT = unsqueeze(tables.cos, [1, 2]);
  const sinT = unsqueeze(tables.sin, [1, 2]);
  const keys: Value[] = [];
  const values: Value[] = [];
  for (let l = 0; l < c.numLayers; l++) {
    const prefix = `model.layers.${l}`;
    const h = normKeptLight(x, m.weight(`${prefix}.input_layernorm.weight`), c.rmsNormEps);
    // Head h uses kv head ⌊h/G⌋ (HF repeat_kv), so q splits as [Hkv, G] and k/v broadcast over G.
    const q = transpose(
      reshape(projection(m, h, `${prefix}.self_attn.q_proj`), [B, S, hkv, groups, dh]),
      [0, 2, 3, 1, 4],
    );
    const k = transpose(
      reshape(projection(m, h, `${prefix}.self_attn.k_proj`), [B, S, hkv, 1, dh]),
      [0, 2, 3, 1, 4],
    );
    const v = transpose(
      reshape(projection(m, h, `${prefix}.self_attn.v_proj`), [B, S, hkv, 1, dh]),
      [0, 2, 3, 1, 4],
    );
    const qr = applyRotary(q, cosT, sinT);
    const kr = applyRotary(k, cosT, sinT);
    keys.push(kr);
    values.push(v);
    const attended = attention({ layer: l, q: qr, k: kr, v });
    const merged = reshape(transpose(attended, [0, 3, 1, 2, 4]), [B, S, c.numHeads * dh]);
    x = add(x, m.dropHidden(projection(m, merged, `${prefix}.self_attn.o_proj`)));
    const h2 = normKeptLight(
      x,
      m.weight(`${prefix}.post_attention_layernorm.weight`),
      c.rmsNormEps,
    );
    const gate = projection(m, h2, `${prefix}.mlp.gate_proj`);
    const up = projection(m, h2, `${prefix}.mlp.up_proj`);
    // Training keeps gate and up for the backward pass anyway; silu(gate) and the product
    // (2·S·I floats per layer) are recomputed from them there rather than kept.
    const act = recomputeInBackward(mul(recomputeInBackward(silu(gate)), up));
    x = add(x, m.dropHidden(projection(m, act, `${prefix}.mlp.down_proj`)));
  }
  return { hidden: x, keys, values };
}

/**
 * RMSNorm whose [S, D] products (x·r, then ·gain) the backward pass recomputes from x and the
 * per-row scale r, which it keeps anyway: the normalized input of the projections is then not
 * kept per layer for their LoRA gradients (S·D floats each). Only when rmsNorm is built from
 * those products (an engine with a fused norm keeps its own choice).
 */
function normKeptLight(x: Value, gain: Value, eps: number): Value {
  const y = rmsNorm(x, gain, eps);
  const scaled = y.producer.inputs[0];
  if (y.producer.op === "Mul" && scaled?.producer.op === "Mul" && scaled.rank === y.rank) {
    recomputeInBackward(scaled);
    recomputeInBackward(y);
  }
  return y;
}

/**
 * Final RMSNorm and LM head (tied to the embeddings when the config says so): [..., D] → [..., V].
 * A 16-bit frozen head is multiplied in chunks of vocabulary rows, each cast to float32 just
 * before its matmul, so only one chunk's float32 copy is alive (a whole float32 copy of the
 * head is V·D·4 bytes: 0.24 GiB at TinyLlama's shape, 0.51 GiB at Qwen2.5-0.5B's).
 */
export function lmHead(m: BoundModel, hidden: Value): Value {
  const normed = rmsNorm(hidden, m.weight("model.norm.weight"), m.config.rmsNormEps);
  const head = m.config.tieWordEmbeddings ? "model.embed_tokens.weight" : "lm_head.weight";
  const V = m.config.vocabSize;
  const chunkRows = m.headChunkRows;
  let logits: Value;
  if (chunkRows < V && m.storedRows(head, 0, Math.min(chunkRows, V)) !== undefined) {
    const parts: Value[] = [];
    for (let start = 0; start < V; start += chunkRows) {
      const chunk = m.storedRows(head, start, Math.min(start + chunkRows, V))!;
      parts.push(matmul(normed, transpose(chunk)));
    }
    logits = concat(parts, -1);
  } else {
    logits = matmul(normed, transpose(m.weight(head)));
  }
  // Token rows (a tied head shares the embedding's) replace their columns of the logits.
  const rows = m.tokenRows(head.slice(0, -".weight".length));
  return rows ? withRowColumns(logits, normed, rows.indices, rows.rows) : logits;
}

/**
 * Scaled dot-product attention scores q·kᵀ/√dh. With `recompute` (BoundModel.recomputeAttention)
 * they are marked for recomputation, like `attend`'s softmax: a training graph's backward pass
 * computes the attention probabilities again from q and k, which it keeps anyway, instead of
 * keeping heads·T² floats per layer.
 */
export function scores(q: Value, k: Value, headDim: number, recompute = false): Value {
  const mark = (v: Value) => (recompute ? recomputeInBackward(v) : v);
  const products = mark(matmul(q, transpose(k, swapLast2(k.rank))));
  return mark(mul(products, 1 / Math.sqrt(headDim)));
}

/** Softmax over keys after adding a bias, then the weighted sum of values (the probabilities
 *  recomputed in the backward pass when `s` comes from `scores`). */
export function attend(s: Value, bias: Value, v: Value): Value {
  const biased = add(s, bias);
  if (!isRecomputed(s) || s.rank !== biased.rank) return matmul(softmax(biased, -1), v);
  return matmul(recomputeInBackward(softmax(recomputeInBackward(biased), -1)), v);
}

export function swapLast2(rank: number): number[] {
  const perm = Array.from({ length: rank }, (_, i) => i);
  [perm[rank - 2], perm[rank - 1]] = [perm[rank - 1], perm[rank - 2]];
  return perm;
}
