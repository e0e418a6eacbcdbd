// The in-memory form of model weights shared by checkpoints, init, LoRA and the graph code.

import { closeSync, openSync, readSync } from "node:fs";
import { join } from "node:path";
import type { FileSlice, StoredDType } from "../graph/index.js";
import { decodeBF16, decodeF16 } from "../io/float16.js";

/** A frozen tensor kept in its checkpoint's 16-bit format: raw F16/BF16 bits in memory, or the
 *  bytes of the checkpoint file that hold them (memory-mapped by ONNX Runtime, never read here). */
export interface StoredBits {
  dtype: StoredDType;
  bits?: Uint16Array;
  file?: FileSlice;
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
  const bits = storedBits(t.stored);
  const out = new Float32Array(bits.length);
  (t.stored.dtype === "bfloat16" ? decodeBF16 : decodeF16)(bits, out);
  return out;
}

/** The 16-bit bits of a stored tensor, read from its file when file-backed. */
export function storedBits(stored: StoredBits): Uint16Array {
  if (stored.bits) return stored.bits;
  const slice = stored.file!;
  const bytes = new Uint8Array(slice.length);
  const fd = openSync(join(slice.folder, slice.file), "r");
  try {
    let done = 0;
    while (done < bytes.length) {
      const n = readSync(fd, bytes, done, bytes.length - done, slice.offset + done);
      if (n === 0) throw new Error(`${join(slice.folder, slice.file)}: file ends early`);
      done += n;
    }
  } finally {
    closeSync(fd);
  }
  return new Uint16Array(bytes.buffer);
}

/** Number of elements a tensor holds. */
export function tensorLength(t: NamedTensor): number {
  if (!t.stored) return t.data.length;
  return t.stored.bits ? t.stored.bits.length : t.stored.file!.length / 2;
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
  for (const t of weights.values()) n += tensorLength(t);
  return n;
}

/** Whether two shapes are equal. */
export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
