// Growing a model's vocabulary for added tokens (item tokens): the embedding and an untied LM
// head get new rows drawn N(0, initializer_range) from a seed, as transformers initializes new
// rows; every existing row is copied bit for bit. config.vocabSize follows.

import { createRng } from "../io/rng.js";
import type { LmConfig } from "./config.js";
import type { ItemProjection } from "./graph/params.js";
import { float32Of, type NamedTensor, type Weights } from "./weights.js";

/** Rows of tensors that hold one row per token. */
const TOKEN_ROWS = ["model.embed_tokens.weight", "lm_head.weight"];

function grow(t: NamedTensor, rows: number, std: number, rng: ReturnType<typeof createRng>) {
  const [old, d] = t.shape;
  const data = new Float32Array(rows * d);
  data.set(float32Of(t)); // a 16-bit stored tensor is decoded exactly; the grown one is float32
  for (let i = old * d; i < rows * d; i++) data[i] = rng.normal() * std;
  return { shape: [rows, d], data };
}

/**
 * The config and weights of `config`/`weights` with a vocabulary of `vocabSize` (≥ the current
 * one); the input weights are not modified (unchanged tensors are shared).
 */
export function resizeVocab(
  config: LmConfig,
  weights: Weights,
  vocabSize: number,
  seed: number,
): { config: LmConfig; weights: Weights } {
  if (!Number.isSafeInteger(vocabSize) || vocabSize < config.vocabSize)
    throw new Error(`resizeVocab: cannot shrink ${config.vocabSize} rows to ${vocabSize}`);
  const rng = createRng(seed);
  const out: Weights = new Map(weights);
  for (const name of TOKEN_ROWS) {
    const t = weights.get(name);
    if (t) out.set(name, grow(t, vocabSize, config.initializerRange, rng));
  }
  return { config: { ...config, vocabSize }, weights: out };
}

/**
 * Sets the input-embedding rows of item tokens from another model's item embeddings (a
 * [count, dSource] matrix, e.g. a trained SASRec's) through a linear projection [dSource, d]:
 * row(firstId + i) = E[i] · P. The hook for LLaRA-style initialization; `projection` is given
 * (learned, or a fixed random one from `randomProjection`).
 */
export function initItemRows(
  config: LmConfig,
  weights: Weights,
  items: { firstId: number; embeddings: Float32Array; count: number; dim: number },
  projection: Float32Array,
): void {
  const emb = weights.get("model.embed_tokens.weight");
  if (!emb) throw new Error("initItemRows: the model has no model.embed_tokens.weight");
  const d = config.hiddenSize;
  const { firstId, embeddings: E, count, dim } = items;
  if (E.length !== count * dim)
    throw new Error(`initItemRows: embeddings are not [${count}, ${dim}]`);
  if (projection.length !== dim * d)
    throw new Error(`initItemRows: projection is not [${dim}, ${d}]`);
  if (firstId + count > config.vocabSize)
    throw new Error(
      `initItemRows: items ${firstId}..${firstId + count - 1} outside the vocabulary`,
    );
  for (let i = 0; i < count; i++) {
    const row = (firstId + i) * d;
    for (let j = 0; j < d; j++) {
      let s = 0;
      for (let k = 0; k < dim; k++) s += E[i * dim + k] * projection[k * d + j];
      emb.data[row + j] = s;
    }
  }
}

/**
 * A seeded random projection [dSource, d] whose outputs have about the model's init scale:
 * entries N(0, (std / rms(E))² / dSource), so projected rows match initializer_range.
 */
export function randomProjection(
  embeddings: Float32Array,
  dim: number,
  d: number,
  std: number,
  seed: number,
): Float32Array {
  let sq = 0;
  for (const x of embeddings) sq += x * x;
  const rms = Math.sqrt(sq / Math.max(1, embeddings.length)) || 1;
  const scale = std / rms / Math.sqrt(dim);
  const rng = createRng(seed);
  return Float32Array.from({ length: dim * d }, () => rng.normal() * scale);
}

/** LLaRA's item rows source·Wᵀ + b ([n, hidden], row-major) of a projection. */
export function projectItemRows(p: ItemProjection): Float32Array {
  const [n, ds] = p.source.shape;
  const d = p.weight.shape[0];
  if (p.weight.shape[1] !== ds || p.bias.shape[0] !== d || p.indices.length !== n)
    throw new Error(
      `projectItemRows: source [${p.source.shape}], weight [${p.weight.shape}], bias [${p.bias.shape}] do not fit ${p.indices.length} rows`,
    );
  const S = p.source.data;
  const W = p.weight.data;
  const out = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) {
      let s = p.bias.data[j];
      for (let k = 0; k < ds; k++) s += S[i * ds + k] * W[j * ds + k];
      out[i * d + j] = s;
    }
  }
  return out;
}

/**
 * A fresh projection of `source` [n, dSource] onto the rows `indices` of `module`: W [hidden,
 * dSource] seeded so projected rows have about the model's init scale (randomProjection), b = 0.
 */
export function newItemProjection(
  config: LmConfig,
  indices: number[],
  source: { data: Float32Array; dim: number },
  seed: number,
  module = "model.embed_tokens",
): ItemProjection {
  const d = config.hiddenSize;
  const ds = source.dim;
  const P = randomProjection(source.data, ds, d, config.initializerRange, seed); // [ds, d]
  const W = new Float32Array(d * ds);
  for (let k = 0; k < ds; k++) for (let j = 0; j < d; j++) W[j * ds + k] = P[k * d + j];
  return {
    module,
    indices,
    source: { shape: [indices.length, ds], data: source.data },
    weight: { shape: [d, ds], data: W },
    bias: { shape: [d], data: new Float32Array(d) },
  };
}
