// The in-memory form of model weights shared by checkpoints, init, LoRA and the graph code.

import type { StoredDType } from "../graph/index.js";
import { decodeBF16, decodeF16 } from "../io/float16.js";

/** A frozen tensor kept in its checkpoint's 16-bit format: raw F16/BF16 bits. */
export interface StoredBits {
  dtype: StoredDType;
  bits: Uint16Array;
}

/**
 * A tensor, row-major, HF layout (a Linear weight is [out, in]): float32 values, or — for frozen
 * weights loaded with `weightsDtype: "stored"` — 16-bit `stored` bits with an EMPTY `data`
 * (use `float32Of` where values are needed in JavaScript).
 */
export interface NamedTensor {
  shape: number[];
  data: Float32Array;
  stored?: StoredBits;
}

/** The float32 values of a tensor, decoding 16-bit stored bits (exactly) when needed. */
export function float32Of(t: NamedTensor): Float32Array {
  if (!t.stored) return t.data;
  const out = new Float32Array(t.stored.bits.length);
  (t.stored.dtype === "bfloat16" ? decodeBF16 : decodeF16)(t.stored.bits, out);
  return out;
}

/** Bytes a tensor holds in memory. */
export function tensorBytes(t: NamedTensor): number {
  return t.stored ? t.stored.bits.byteLength : t.data.byteLength;
}

/** Weights with every 16-bit stored tensor decoded to float32 (others shared, not copied). */
export function toFloat32Weights(weights: Weights): Weights {
  return new Map(
    [...weights].map(([n, t]) => [n, t.stored ? { shape: t.shape, data: float32Of(t) } : t]),
  );
}

/** Model weights keyed by Hugging Face parameter name (e.g. `model.layers.0.self_attn.q_proj.weight`). */
export type Weights = Map<string, NamedTensor>;

/** Number of elements of a shape. */
export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** A zero-filled tensor of the given shape. */
export function zeros(shape: readonly number[]): NamedTensor {
  return { shape: [...shape], data: new Float32Array(numel(shape)) };
}

/** Total number of parameters in a weights map. */
export function countParameters(weights: Weights): number {
  let n = 0;
  for (const t of weights.values()) n += t.stored ? t.stored.bits.length : t.data.length;
  return n;
}

/** Whether two shapes are equal. */
export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
