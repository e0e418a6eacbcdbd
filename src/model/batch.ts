// Packs token sequences into the padded tensors the model programs take: ids, positions (HF's
// convention: counted over real tokens only), 0/1 masks, and each prompt's last real index.

import type { Tensor } from "../graph/index.js";
import type { FloatDType } from "./graph/params.js";

export type PaddingSide = "left" | "right";

export interface PromptTensors {
  prompt_ids: Tensor;
  prompt_positions: Tensor;
  prompt_mask: Tensor;
  prompt_last: Tensor;
  /** Real length of each prompt. */
  lengths: number[];
}

export interface CompletionTensors {
  completion_ids: Tensor;
  completion_positions: Tensor;
  completion_mask: Tensor;
}

function floatArray(dtype: FloatDType, n: number): Float32Array | Float64Array {
  return dtype === "float64" ? new Float64Array(n) : new Float32Array(n);
}

/** Pads prompts to the longest one on the given side. Every prompt needs at least one token. */
export function packPrompts(
  prompts: readonly (readonly number[])[],
  side: PaddingSide,
  padId: number,
  dtype: FloatDType = "float32",
): PromptTensors {
  const B = prompts.length;
  if (B === 0) throw new Error("packPrompts: no prompts");
  const lengths = prompts.map((p, i) => {
    if (p.length === 0) throw new Error(`packPrompts: prompt ${i} is empty`);
    return p.length;
  });
  const T = Math.max(...lengths);
  const ids = new BigInt64Array(B * T).fill(BigInt(padId));
  const positions = new BigInt64Array(B * T);
  const mask = floatArray(dtype, B * T);
  const last = new BigInt64Array(B);
  prompts.forEach((p, b) => {
    const offset = side === "left" ? T - p.length : 0;
    p.forEach((token, j) => {
      ids[b * T + offset + j] = BigInt(token);
      positions[b * T + offset + j] = BigInt(j);
      mask[b * T + offset + j] = 1;
    });
    last[b] = BigInt(offset + p.length - 1);
  });
  return {
    prompt_ids: { data: ids, shape: [B, T] },
    prompt_positions: { data: positions, shape: [B, T] },
    prompt_mask: { data: mask, shape: [B, T] },
    prompt_last: { data: last, shape: [B] },
    lengths,
  };
}

/**
 * Right-pads N completions per prompt (prompts with fewer completions get empty ones, which
 * score 0 over 0 tokens). Positions continue from each prompt's length.
 */
export function packCompletions(
  completions: readonly (readonly (readonly number[])[])[],
  promptLengths: readonly number[],
  padId: number,
  dtype: FloatDType = "float32",
  /** Pad completions to at least this many tokens (chunks of one batch keep its length). */
  minLength = 1,
): CompletionTensors {
  const B = completions.length;
  const N = Math.max(1, ...completions.map((c) => c.length));
  const Tc = Math.max(minLength, ...completions.flatMap((c) => c.map((x) => x.length)));
  const ids = new BigInt64Array(B * N * Tc).fill(BigInt(padId));
  const positions = new BigInt64Array(B * N * Tc);
  const mask = floatArray(dtype, B * N * Tc);
  completions.forEach((list, b) => {
    for (let n = 0; n < N; n++) {
      const base = (b * N + n) * Tc;
      for (let j = 0; j < Tc; j++) positions[base + j] = BigInt(promptLengths[b] + j);
      (list[n] ?? []).forEach((token, j) => {
        ids[base + j] = BigInt(token);
        mask[base + j] = 1;
      });
    }
  });
  return {
    completion_ids: { data: ids, shape: [B, N, Tc] },
    completion_positions: { data: positions, shape: [B, N, Tc] },
    completion_mask: { data: mask, shape: [B, N, Tc] },
  };
}

/** ids/positions/mask [B, T] for whole sequences, padded on one side. */
export function packSequences(
  sequences: readonly (readonly number[])[],
  side: PaddingSide,
  padId: number,
  dtype: FloatDType = "float32",
): { ids: Tensor; positions: Tensor; mask: Tensor; lengths: number[]; offsets: number[] } {
  const packed = packPrompts(sequences, side, padId, dtype);
  const T = packed.prompt_ids.shape[1];
  return {
    ids: packed.prompt_ids,
    positions: packed.prompt_positions,
    mask: packed.prompt_mask,
    lengths: packed.lengths,
    offsets: packed.lengths.map((len) => (side === "left" ? T - len : 0)),
  };
}
