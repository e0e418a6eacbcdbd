// The in-memory form of model weights shared by checkpoints, init, LoRA and the graph code.

/** A float32 tensor, row-major, HF layout (a Linear weight is [out, in]). */
export interface NamedTensor {
  shape: number[];
  data: Float32Array;
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
  for (const t of weights.values()) n += t.data.length;
  return n;
}

/** Whether two shapes are equal. */
export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
