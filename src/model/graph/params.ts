// Binds a model's weights (and LoRA factors) into a graph: frozen ones resident in the compiled
// graph (initializers, 16-bit ones cast to float32 where used) or as inputs (fed each run; the
// trainable ones get gradients).

import { add, dropout, type Graph, matmul, transpose, type Value } from "../../graph/index.js";
import type { LmConfig } from "../config.js";
import type { LoraWeights } from "../peft.js";
import { type TrainableTokens, tokenRowsFeed } from "../peft-tokens.js";
import { float32Of, type NamedTensor, type Weights } from "../weights.js";

export type FloatDType = "float32" | "float64";

/** What is trained: nothing, the LoRA factors only, or every weight. */
export type Trainable = "none" | "lora" | "full";

export interface LoraBinding {
  weights: LoraWeights;
  /** Multiplier of B·A (alpha/r, or alpha/√r with rsLoRA). */
  scaling: number;
  /** Training only: PEFT's lora_dropout on the adapter's input, masks drawn from the int64
   *  scalar input `dropout_seed` (one stream per module). */
  dropout?: number;
}

/**
 * LLaRA's item projection: the rows of `indices` in `module` computed as source·weightᵀ + bias
 * (source [n, dSource] frozen, e.g. a SASRec's item table; weight [hidden, dSource] and bias
 * [hidden] trained with the rest).
 */
export interface ItemProjection {
  module: string;
  indices: number[];
  source: NamedTensor;
  weight: NamedTensor;
  bias: NamedTensor;
}

/** Feed names of the projection's tensors. */
export const PROJECTION_FEEDS = {
  source: "item_projection.source",
  weight: "item_projection.weight",
  bias: "item_projection.bias",
} as const;

export interface BindOptions {
  /** float64 exists for gradient checks; models run in float32. */
  dtype?: FloatDType;
  trainable?: Trainable;
  /** Frozen tensors resident in the compiled graph (`constant`, the default: initializers held
   *  by the session, large ones passed as external data) or inputs fed at every run (`input`:
   *  float32 arrays a trainer may update in place). 16-bit stored tensors are always resident. */
  frozenAs?: "constant" | "input";
  /** Adapters to apply; leave out for the base model (the LoRA reference). */
  lora?: LoraBinding;
  /** Vocabulary rows per chunk of a 16-bit frozen LM head (default `headChunkRows`): each chunk
   *  is cast to float32 and multiplied on its own, so no float32 copy of the whole head exists. */
  headChunkRows?: number;
  /** Token rows replacing rows of embed_tokens / lm_head (PEFT trainable tokens; trained
   *  with the LoRA factors). */
  tokens?: TrainableTokens;
  /** Item rows computed by a projection (trained unless `trainable` is "none"); replaces
   *  `tokens` rows of the same module. */
  projection?: ItemProjection;
  /** Training only: dropout on the token embeddings and on each block's attention and MLP
   *  outputs before they join the residual stream (GPT-2's embd/resid dropout), masks drawn
   *  from the int64 scalar input `dropout_seed`. */
  hiddenDropout?: number;
  /** Recompute attention probabilities in the backward pass instead of keeping heads·T² floats
   *  per layer (default: when frozen weights stay 16-bit, the large-checkpoint path). */
  recomputeAttention?: boolean;
}

/** First mask stream of hidden dropout (LoRA dropout uses one stream per adapted module). */
const HIDDEN_DROPOUT_STREAMS = 1 << 16;

/** Default rows per LM-head chunk: 4096 rows of a 2048-wide head are 32 MiB in float32. */
export const HEAD_CHUNK_ROWS = 4096;

/** A model's tensors as graph Values, plus what must be fed to run the graph. */
export interface BoundModel {
  readonly graph: Graph;
  readonly config: LmConfig;
  readonly dtype: FloatDType;
  /** An HF-named weight, e.g. `model.layers.0.self_attn.q_proj.weight` ([out, in]). */
  weight(name: string): Value;
  has(name: string): boolean;
  /** Rows [start, end) of a 16-bit stored frozen weight as their own frozen value (the same
   *  bytes: a view or a file range, no copy); undefined when the weight is not stored 16-bit
   *  frozen. */
  storedRows(name: string, start: number, end: number): Value | undefined;
  /** Rows per chunk for the LM head (BindOptions.headChunkRows). */
  readonly headChunkRows: number;
  /** Whether training graphs recompute attention probabilities (BindOptions.recomputeAttention). */
  readonly recomputeAttention: boolean;
  /** LoRA factors of a module (`model.layers.0.self_attn.q_proj`), if adapted. */
  lora(
    module: string,
  ):
    | { A: Value; B: Value; scaling: number; dropout?: { p: number; seed: Value; stream: number } }
    | undefined;
  /** x after hidden dropout (BindOptions.hiddenDropout; x itself when off); each call draws
   *  its own mask stream. */
  dropHidden(x: Value): Value;
  /** Rows replacing the listed token ids of `${module}.weight`, if any. */
  tokenRows(module: string): { indices: readonly number[]; rows: Value } | undefined;
  /** Feed name → Value of every trainable tensor (what `grad` is taken with respect to). */
  readonly trainable: ReadonlyMap<string, Value>;
  /** Feeds for every tensor bound as an input. */
  readonly feeds: Record<string, Float32Array | Float64Array>;
}

/** Feed names of a module's LoRA factors. */
export function loraFeedNames(module: string): { A: string; B: string } {
  return { A: `${module}.lora_A`, B: `${module}.lora_B` };
}

function toDtype(data: Float32Array, dtype: FloatDType): Float32Array | Float64Array {
  return dtype === "float32" ? data : Float64Array.from(data);
}

/** Binds weights and adapters into `graph` according to the options. */
export function bindModel(
  graph: Graph,
  config: LmConfig,
  weights: Weights,
  options: BindOptions = {},
): BoundModel {
  const dtype = options.dtype ?? "float32";
  const trainable = options.trainable ?? "none";
  const frozenAs = options.frozenAs ?? "constant";
  if (trainable === "lora" && !options.lora) {
    throw new Error("bindModel: trainable 'lora' needs LoRA factors (options.lora)");
  }
  const values = new Map<string, Value>();
  const trainables = new Map<string, Value>();
  const feeds: Record<string, Float32Array | Float64Array> = {};

  const bind = (name: string, t: NamedTensor, train: boolean): Value => {
    const cached = values.get(name);
    if (cached) return cached;
    let v: Value;
    if (t.stored && train) {
      throw new Error(
        `model weight "${name}" is stored in ${t.stored.dtype} and cannot be trained: load it as float32 (--weights-dtype float32)`,
      );
    }
    if (t.stored && dtype === "float32") {
      v = graph.frozen(name, t.stored.bits ?? t.stored.file!, t.shape, t.stored.dtype);
    } else if (train || frozenAs === "input") {
      v = graph.input(name, dtype, t.shape);
      feeds[name] = toDtype(float32Of(t), dtype);
      if (train) trainables.set(name, v);
    } else {
      v = graph.frozen(name, toDtype(float32Of(t), dtype), t.shape);
    }
    values.set(name, v);
    return v;
  };

  type BoundLora = NonNullable<ReturnType<BoundModel["lora"]>>;
  const loraValues = new Map<string, BoundLora>();
  const modules = [...(options.lora?.weights.keys() ?? [])].sort();
  let dropoutSeed: Value | undefined;
  let hiddenStreams = 0;
  const rowValues = new Map<string, { indices: readonly number[]; rows: Value }>();
  const tokenRows = (module: string) => {
    const cached = rowValues.get(module);
    if (cached) return cached;
    const p = options.projection;
    const t = options.tokens?.get(module);
    let bound: { indices: readonly number[]; rows: Value } | undefined;
    if (p && p.module === module) {
      const train = trainable !== "none";
      const source = bind(PROJECTION_FEEDS.source, p.source, false);
      const w = bind(PROJECTION_FEEDS.weight, p.weight, train);
      const b = bind(PROJECTION_FEEDS.bias, p.bias, train);
      bound = { indices: p.indices, rows: add(matmul(source, transpose(w)), b) };
    } else if (t) {
      bound = {
        indices: t.indices,
        rows: bind(tokenRowsFeed(module), t.rows, trainable === "lora"),
      };
    }
    if (bound) rowValues.set(module, bound);
    return bound;
  };
  return {
    graph,
    config,
    dtype,
    weight(name) {
      const t = weights.get(name);
      if (!t) throw new Error(`model weight "${name}" is missing`);
      return bind(name, t, trainable === "full");
    },
    has: (name) => weights.has(name),
    storedRows(name, start, end) {
      const t = weights.get(name);
      if (!t?.stored || trainable === "full" || dtype !== "float32") return undefined;
      const key = `${name}.rows_${start}_${end}`;
      const cached = values.get(key);
      if (cached) return cached;
      const shape = [end - start, ...t.shape.slice(1)];
      const row = t.shape.slice(1).reduce((a, b) => a * b, 1);
      const { bits, file } = t.stored;
      const data = bits
        ? bits.subarray(start * row, end * row)
        : { ...file!, offset: file!.offset + start * row * 2, length: (end - start) * row * 2 };
      const v = graph.frozen(key, data, shape, t.stored.dtype);
      values.set(key, v);
      return v;
    },
    headChunkRows: options.headChunkRows ?? HEAD_CHUNK_ROWS,
    // Only large checkpoints need it: at 7B it is most of the step's saving (docs/results.md),
    // while a small model pays 3–5 % more CPU per step for memory it does not miss.
    recomputeAttention:
      options.recomputeAttention ?? [...weights.values()].some((t) => t.stored !== undefined),
    lora(module) {
      const pair = options.lora?.weights.get(module);
      if (!pair) return undefined;
      let bound = loraValues.get(module);
      if (!bound) {
        const names = loraFeedNames(module);
        const train = trainable === "lora";
        bound = {
          A: bind(names.A, pair.A, train),
          B: bind(names.B, pair.B, train),
          scaling: options.lora!.scaling,
        };
        const p = options.lora!.dropout ?? 0;
        if (p > 0) {
          dropoutSeed ??= graph.input("dropout_seed", "int64", []);
          bound.dropout = { p, seed: dropoutSeed, stream: modules.indexOf(module) };
        }
        loraValues.set(module, bound);
      }
      return bound;
    },
    dropHidden(x) {
      const p = options.hiddenDropout ?? 0;
      if (p <= 0) return x;
      dropoutSeed ??= graph.input("dropout_seed", "int64", []);
      // Streams above the LoRA modules' (0 … modules − 1), numbered in graph-building order.
      return dropout(x, p, dropoutSeed, HIDDEN_DROPOUT_STREAMS + hiddenStreams++);
    },
    tokenRows,
    trainable: trainables,
    feeds,
  };
}
