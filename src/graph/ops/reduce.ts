// Reductions over axes and their gradients.

import { type Dim, dimProduct, isStatic } from "../dim.js";
import type { Node, Value } from "../graph.js";
import { attrInt, defineOp } from "../registry.js";
import { cast, div, equal, exp, mul, sub } from "./elementwise.js";
import { dimValue, expand, unsqueeze } from "./shape.js";
import { normalizeAxes, normalizeAxis, requireFloat } from "./util.js";

function reduce(
  op: string,
  x: Value,
  axes: readonly number[] | undefined,
  keepdims: boolean,
): Value {
  requireFloat(op, x);
  const ax = axes === undefined ? x.shape.map((_, i) => i) : normalizeAxes(op, axes, x.rank);
  const shape: Dim[] = [];
  x.shape.forEach((d, i) => {
    if (!ax.includes(i)) shape.push(d);
    else if (keepdims) shape.push(1);
  });
  return x.graph.addNode(op, [x], { axes: ax, keepdims }, [{ dtype: x.dtype, shape }]).outputs[0];
}

/** Σ over axes (all axes when omitted). */
export const reduceSum = (x: Value, axes?: readonly number[], keepdims = false): Value =>
  reduce("ReduceSum", x, axes, keepdims);
/** Mean over axes (all axes when omitted). */
export const reduceMean = (x: Value, axes?: readonly number[], keepdims = false): Value =>
  reduce("ReduceMean", x, axes, keepdims);
/** Max over axes; the gradient is shared equally among tied maxima. */
export const reduceMax = (x: Value, axes?: readonly number[], keepdims = false): Value =>
  reduce("ReduceMax", x, axes, keepdims);
/** log Σ exp over axes, computed stably. */
export const reduceLogSumExp = (x: Value, axes?: readonly number[], keepdims = false): Value =>
  reduce("ReduceLogSumExp", x, axes, keepdims);

/** Index of the maximum along an axis (first one on ties), int64. */
export function argMax(x: Value, axis: number, keepdims = false): Value {
  const a = normalizeAxis("ArgMax", axis, x.rank);
  const shape = x.shape.flatMap((d, i) => (i !== a ? [d] : keepdims ? [1] : []));
  return x.graph.addNode("ArgMax", [x], { axis: a, keepdims }, [{ dtype: "int64", shape }])
    .outputs[0];
}

// ---- lowering and gradients ----

/** A reduced value brought back to the reduced input's rank (size-1 axes), for broadcasting. */
function keepDims(node: Node, v: Value): Value {
  return node.attrs.keepdims ? v : unsqueeze(v, node.attrs.axes as number[]);
}

for (const op of ["ReduceSum", "ReduceMean", "ReduceMax", "ReduceLogSumExp"]) {
  defineOp(op, {
    lower: (n, ctx) =>
      ctx.emit(
        op,
        [ctx.name(n.inputs[0]), ctx.int64(n.attrs.axes as number[])],
        [ctx.name(n.outputs[0])],
        { keepdims: attrInt(n.attrs.keepdims ? 1 : 0) },
      ),
    vjp: (n, [g]) => {
      const x = n.inputs[0];
      const gk = keepDims(n, g!);
      switch (op) {
        case "ReduceSum":
          return [expand(gk, x.shape)];
        case "ReduceMean": {
          const count = dimProduct((n.attrs.axes as number[]).map((a) => x.shape[a]));
          const scaled = isStatic(count)
            ? mul(gk, 1 / count)
            : div(gk, dimValue(x.graph, count, x.dtype));
          return [expand(scaled, x.shape)];
        }
        case "ReduceMax": {
          const mask = cast(equal(x, keepDims(n, n.outputs[0])), x.dtype);
          const ties = reduceSum(mask, n.attrs.axes as number[], true);
          return [mul(mask, div(gk, ties))];
        }
        default:
          return [mul(gk, exp(sub(x, keepDims(n, n.outputs[0]))))];
      }
    },
  });
}

defineOp("ArgMax", {
  lower: (n, ctx) =>
    ctx.emit("ArgMax", [ctx.name(n.inputs[0])], [ctx.name(n.outputs[0])], {
      axis: attrInt(n.attrs.axis as number),
      keepdims: attrInt(n.attrs.keepdims ? 1 : 0),
    }),
});
