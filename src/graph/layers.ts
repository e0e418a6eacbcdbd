// Composite layers: LayerNorm as ONNX Runtime's fused kernel where it applies (float32, gains of
// shape [d]), else built from primitive ops (gradients from their VJPs); RMSNorm from primitives.

import type { Value } from "./graph.js";
import { add, mul, reciprocal, sqrt, sub } from "./ops/elementwise.js";
import { canFuseNorm, fusedLayerNorm } from "./ops/fused.js";
import { matmul } from "./ops/nn.js";
import { reduceMean } from "./ops/reduce.js";

/** x·W (+ b) with W stored [in, out]. */
export function linear(x: Value, weight: Value, bias?: Value): Value {
  const y = matmul(x, weight);
  return bias ? add(y, bias) : y;
}

/** LayerNorm over the last axis: (x − μ)/√(σ² + eps)·γ + β. */
export function layerNorm(x: Value, gain: Value, bias: Value, eps = 1e-5): Value {
  return canFuseNorm(x, gain, bias)
    ? fusedLayerNorm(x, gain, bias, eps)
    : layerNormUnfused(x, gain, bias, eps);
}

/** `layerNorm` from primitive ops (any float dtype, broadcastable gains; the fused path's reference). */
export function layerNormUnfused(x: Value, gain: Value, bias: Value, eps = 1e-5): Value {
  const centered = sub(x, reduceMean(x, [-1], true));
  const variance = reduceMean(mul(centered, centered), [-1], true);
  return add(mul(mul(centered, reciprocal(sqrt(add(variance, eps)))), gain), bias);
}

/**
 * RMSNorm over the last axis: x/√(mean(x²) + eps)·γ (LLaMA), from primitive ops. The fused kernel
 * (`fusedRmsNorm`, tested equal) is not the default: its float-level differences flipped a
 * single-seed learning test (test/train/items-learning.test.ts; docs/performance.md).
 */
export function rmsNorm(x: Value, gain: Value, eps = 1e-6): Value {
  const meanSquare = reduceMean(mul(x, x), [-1], true);
  return mul(mul(x, reciprocal(sqrt(add(meanSquare, eps)))), gain);
}
