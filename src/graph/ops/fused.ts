// Fused normalization ops: ONNX Runtime's one-kernel LayerNormalization and
// SimplifiedLayerNormalization (RMSNorm) forward, with VJPs written as few passes as ONNX allows
// (ONNX Runtime's inference build has no gradient kernels for them).

import { GraphError, type Value } from "../graph.js";
import { attrFloat, attrInt, defineOp } from "../registry.js";
import { mul, sub } from "./elementwise.js";
import { reduceMean } from "./reduce.js";
import { sumToShape } from "./shape.js";

/**
 * Whether `fusedLayerNorm`/`fusedRmsNorm` accept these operands: float32 (ONNX Runtime keeps the
 * statistics in float32, so float64 stays on the composite path) and gains of shape [d].
 */
export function canFuseNorm(x: Value, ...params: Value[]): boolean {
  if (x.dtype !== "float32" || x.rank < 1) return false;
  const d = x.shape[x.rank - 1];
  return params.every((p) => p.dtype === "float32" && p.rank === 1 && p.shape[0] === d);
}

/** LayerNorm over the last axis in one kernel: (x − μ)·rstd·γ + β; see `canFuseNorm`. */
export function fusedLayerNorm(x: Value, gain: Value, bias: Value, eps: number): Value {
  if (!canFuseNorm(x, gain, bias))
    throw new GraphError(`LayerNorm: cannot fuse ${x} with gain ${gain} and bias ${bias}`);
  const stat = [...x.shape.slice(0, -1), 1];
  // Outputs: y, then the mean and 1/√(σ² + eps) the gradient reuses.
  return x.graph.addNode("LayerNorm", [x, gain, bias], { eps }, [
    { dtype: x.dtype, shape: x.shape },
    { dtype: x.dtype, shape: stat },
    { dtype: x.dtype, shape: stat },
  ]).outputs[0];
}

/** RMSNorm over the last axis in one kernel: x·rstd·γ, rstd = 1/√(mean(x²) + eps). */
export function fusedRmsNorm(x: Value, gain: Value, eps: number): Value {
  if (!canFuseNorm(x, gain)) throw new GraphError(`RmsNorm: cannot fuse ${x} with gain ${gain}`);
  return x.graph.addNode("RmsNorm", [x, gain], { eps }, [
    { dtype: x.dtype, shape: x.shape },
    { dtype: x.dtype, shape: [...x.shape.slice(0, -1), 1] },
  ]).outputs[0];
}

const normAttrs = (eps: number) => ({ axis: attrInt(-1), epsilon: attrFloat(eps) });

defineOp("LayerNorm", {
  lower: (n, ctx) =>
    ctx.emit(
      "LayerNormalization",
      n.inputs.map((v) => ctx.name(v)),
      n.outputs.map((v) => ctx.name(v)),
      normAttrs(n.attrs.eps as number),
    ),
  // x̂ = (x − μ)·rstd, ĝ = g·γ: dx = rstd·(ĝ − mean(ĝ) − x̂·mean(ĝ·x̂)), dγ = Σ g·x̂, dβ = Σ g.
  vjp: (n, [g]) => {
    const [x, gain, bias] = n.inputs;
    const [, mean, rstd] = n.outputs;
    const xhat = mul(sub(x, mean), rstd);
    const gh = mul(g!, gain);
    const dx = mul(
      sub(sub(gh, reduceMean(gh, [-1], true)), mul(xhat, reduceMean(mul(gh, xhat), [-1], true))),
      rstd,
    );
    return [dx, sumToShape(mul(g!, xhat), gain.shape), sumToShape(g!, bias.shape)];
  },
});

defineOp("RmsNorm", {
  lower: (n, ctx) =>
    ctx.emit(
      "SimplifiedLayerNormalization",
      n.inputs.map((v) => ctx.name(v)),
      n.outputs.map((v) => ctx.name(v)),
      normAttrs(n.attrs.eps as number),
    ),
  // x̂ = x·rstd, ĝ = g·γ: dx = rstd·(ĝ − x̂·mean(ĝ·x̂)), dγ = Σ g·x̂.
  vjp: (n, [g]) => {
    const [x, gain] = n.inputs;
    const rstd = n.outputs[1];
    const xhat = mul(x, rstd);
    const gh = mul(g!, gain);
    const dx = mul(sub(gh, mul(xhat, reduceMean(mul(gh, xhat), [-1], true))), rstd);
    return [dx, sumToShape(mul(g!, xhat), gain.shape)];
  },
});
