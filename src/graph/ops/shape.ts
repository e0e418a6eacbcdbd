// Ops that move or reshape data without arithmetic, and broadcasting's gradient (sumToShape).

import { type Dim, dimAdd, dimDiv, dimProduct, dimSub, formatShape, isStatic } from "../dim.js";
import { type DType, ONNX_DTYPE } from "../dtype.js";
import { type Graph, GraphError, type Value } from "../graph.js";
import { attrInt, defineOp, emitFilled, type LowerContext, lowerAs } from "../registry.js";
import { reduceSum } from "./reduce.js";
import { broadcastShapes, normalizeAxes, normalizeAxis, sameShape } from "./util.js";

/** Reshape; one entry may be −1 (inferred, symbolically too). */
export function reshape(x: Value, shape: readonly Dim[]): Value {
  const total = dimProduct(x.shape);
  const unknown = shape.filter((d) => d === -1).length;
  if (unknown > 1) throw new GraphError(`Reshape: more than one −1 in ${formatShape(shape)}`);
  let target = [...shape];
  if (unknown === 1) {
    const known = dimProduct(shape.filter((d) => d !== -1));
    const inferred = dimDiv(total, known);
    if (inferred === undefined) {
      throw new GraphError(
        `Reshape: cannot reshape ${x} to ${formatShape(shape)} (${total} is not divisible by ${known})`,
      );
    }
    target = shape.map((d) => (d === -1 ? inferred : d));
  } else if (dimProduct(shape) !== total) {
    throw new GraphError(
      `Reshape: cannot reshape ${x} (${total} elements) to ${formatShape(shape)} (${dimProduct(shape)} elements)`,
    );
  }
  if (sameShape(target, x.shape)) return x;
  return x.graph.addNode("Reshape", [x], { shape: target }, [{ dtype: x.dtype, shape: target }])
    .outputs[0];
}

/** Transposes axes (default: reverses them). */
export function transpose(x: Value, perm?: readonly number[]): Value {
  const p = perm ? [...perm] : x.shape.map((_, i) => x.rank - 1 - i);
  if (p.length !== x.rank || [...p].sort((a, b) => a - b).some((a, i) => a !== i)) {
    throw new GraphError(`Transpose: [${p}] is not a permutation of the axes of ${x}`);
  }
  if (p.every((a, i) => a === i)) return x;
  // A transpose of a transpose is one transpose (or none): fewer copies, and a MatMul operand
  // stays a plain transpose that ONNX Runtime folds into the GEMM.
  if (x.producer.op === "Transpose") {
    const inner = x.producer.attrs.perm as number[];
    return transpose(
      x.producer.inputs[0],
      p.map((a) => inner[a]),
    );
  }
  return x.graph.addNode("Transpose", [x], { perm: p }, [
    { dtype: x.dtype, shape: p.map((a) => x.shape[a]) },
  ]).outputs[0];
}

/** Swaps the last two axes. */
export function transposeLast2(x: Value): Value {
  if (x.rank < 2) throw new GraphError(`Transpose: ${x} has fewer than 2 axes`);
  const perm = x.shape.map((_, i) => i);
  [perm[x.rank - 2], perm[x.rank - 1]] = [perm[x.rank - 1], perm[x.rank - 2]];
  return transpose(x, perm);
}

/** Removes axes of size 1. */
export function squeeze(x: Value, axes: readonly number[]): Value {
  const ax = normalizeAxes("Squeeze", axes, x.rank);
  for (const a of ax) {
    if (x.shape[a] !== 1) throw new GraphError(`Squeeze: axis ${a} of ${x} is not of size 1`);
  }
  return x.graph.addNode("Squeeze", [x], { axes: ax }, [
    { dtype: x.dtype, shape: x.shape.filter((_, i) => !ax.includes(i)) },
  ]).outputs[0];
}

/** Inserts axes of size 1 (axes index the output). */
export function unsqueeze(x: Value, axes: readonly number[]): Value {
  const rank = x.rank + axes.length;
  const ax = normalizeAxes("Unsqueeze", axes, rank);
  const shape: Dim[] = [];
  let j = 0;
  for (let i = 0; i < rank; i++) shape.push(ax.includes(i) ? 1 : x.shape[j++]);
  return x.graph.addNode("Unsqueeze", [x], { axes: ax }, [{ dtype: x.dtype, shape }]).outputs[0];
}

/** Broadcasts x to a shape. */
export function expand(x: Value, shape: readonly Dim[]): Value {
  const out = broadcastShapes("Expand", [x.shape, shape]);
  if (sameShape(out, x.shape)) return x;
  return x.graph.addNode("Expand", [x], { shape: out }, [{ dtype: x.dtype, shape: out }])
    .outputs[0];
}

/** Concatenates along an axis. */
export function concat(xs: readonly Value[], axis: number): Value {
  if (xs.length === 0) throw new GraphError("Concat: no inputs");
  const first = xs[0];
  const a = normalizeAxis("Concat", axis, first.rank);
  let size: Dim = 0;
  for (const x of xs) {
    const mismatch =
      x.dtype !== first.dtype ||
      x.rank !== first.rank ||
      x.shape.some((d, i) => i !== a && d !== first.shape[i]);
    if (mismatch) {
      throw new GraphError(
        `Concat: ${xs.map(String).join(", ")} differ outside axis ${a} (or in dtype)`,
      );
    }
    size = dimAdd(size, x.shape[a]);
  }
  if (xs.length === 1) return first;
  const shape = first.shape.map((d, i) => (i === a ? size : d));
  return first.graph.addNode("Concat", xs, { axis: a }, [{ dtype: first.dtype, shape }]).outputs[0];
}

/** x[..., start:end, ...] along one axis (end defaults to the axis size). */
export function slice(x: Value, axis: number, start: Dim, end?: Dim): Value {
  const a = normalizeAxis("Slice", axis, x.rank);
  const size = x.shape[a];
  const stop = end ?? size;
  if (isStatic(start) && isStatic(stop) && isStatic(size)) {
    if (start < 0 || stop > size || start > stop) {
      throw new GraphError(`Slice: [${start}, ${stop}) is outside axis ${a} of ${x}`);
    }
  }
  if (start === 0 && stop === size) return x;
  const shape = x.shape.map((d, i) => (i === a ? dimSub(stop, start) : d));
  return x.graph.addNode("Slice", [x], { axis: a, start, end: stop }, [{ dtype: x.dtype, shape }])
    .outputs[0];
}

/** Splits an axis into consecutive parts of the given sizes. */
export function split(x: Value, axis: number, sizes: readonly Dim[]): Value[] {
  const a = normalizeAxis("Split", axis, x.rank);
  let total: Dim = 0;
  for (const s of sizes) total = dimAdd(total, s);
  if (total !== x.shape[a]) {
    throw new GraphError(`Split: sizes [${sizes}] do not add up to axis ${a} of ${x}`);
  }
  return x.graph.addNode(
    "Split",
    [x],
    { axis: a, sizes: [...sizes] },
    sizes.map((s) => ({ dtype: x.dtype, shape: x.shape.map((d, i) => (i === a ? s : d)) })),
  ).outputs;
}

/** A tensor of the same shape and dtype filled with a value. */
export function fullLike(x: Value, value: number): Value {
  return x.graph.addNode("FullLike", [x], { value }, [{ dtype: x.dtype, shape: x.shape }])
    .outputs[0];
}
export const zerosLike = (x: Value): Value => fullLike(x, 0);
export const onesLike = (x: Value): Value => fullLike(x, 1);

/** A tensor of a (possibly symbolic) shape filled with a value. */
export function full(graph: Graph, shape: readonly Dim[], value: number, dtype: DType): Value {
  return graph.addNode("Full", [], { shape: [...shape], value, dtype }, [{ dtype, shape }])
    .outputs[0];
}

/** The run-time value of a (possibly symbolic) size as a scalar. */
export function dimValue(graph: Graph, dim: Dim, dtype: DType): Value {
  if (isStatic(dim)) return graph.constant(dim, [], dtype);
  return graph.addNode("DimValue", [], { dim, dtype }, [{ dtype, shape: [] }]).outputs[0];
}

/** Sums a broadcast gradient back to an operand's shape. */
export function sumToShape(g: Value, shape: readonly Dim[]): Value {
  if (sameShape(g.shape, shape)) return g;
  const lead = g.rank - shape.length;
  if (lead < 0) throw new GraphError(`sumToShape: ${g} has fewer axes than ${formatShape(shape)}`);
  const axes: number[] = [];
  for (let i = 0; i < g.rank; i++) {
    if (i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1)) axes.push(i);
  }
  const summed = axes.length > 0 ? reduceSum(g, axes, true) : g;
  return reshape(summed, shape);
}

// ---- lowering and gradients ----

/** Reshape target: 0 copies an input dim and −1 takes the rest, avoiding run-time shape math. */
function reshapeTarget(ctx: LowerContext, from: readonly Dim[], to: readonly Dim[]): string {
  const codes: (number | undefined)[] = to.map((d, i) =>
    isStatic(d) ? d : from[i] === d ? 0 : undefined,
  );
  const unresolved = codes.filter((c) => c === undefined).length;
  if (unresolved === 0 && !to.includes(0)) return ctx.int64(codes as number[]);
  if (unresolved === 1 && !to.includes(0)) return ctx.int64(codes.map((c) => c ?? -1));
  return ctx.dims(to);
}

defineOp("Reshape", {
  lower: (n, ctx) => {
    const x = n.inputs[0];
    const target = reshapeTarget(ctx, x.shape, n.attrs.shape as Dim[]);
    ctx.emit("Reshape", [ctx.name(x), target], [ctx.name(n.outputs[0])]);
  },
  vjp: (n, [g]) => [reshape(g!, n.inputs[0].shape)],
});

/** The smallest side of a matrix gradient that `Transpose`'s VJP computes as Qᵀ·Pᵀ. */
const FOLD_MIN = 64;

defineOp("Transpose", {
  lower: lowerAs("Transpose", (n) => ({ perm: { kind: "ints", value: n.attrs.perm as number[] } })),
  vjp: (n, [g]) => {
    const perm = n.attrs.perm as number[];
    // The gradient of a transposed matrix operand (x·Wᵀ) comes from a 2-D product P·Q: (P·Q)ᵀ =
    // Qᵀ·Pᵀ, one GEMM with transposed operands (folded by ONNX Runtime) instead of a GEMM and a
    // transpose of its result (e.g. the [V, d] gradient of a tied LM head).
    // Only for matrices at least FOLD_MIN on each side: a skinny product (a LoRA factor's
    // gradient, rank × d) is cheaper to transpose than to compute with its wide operand packed.
    const from = g!.producer;
    const large = g!.shape.every((d) => typeof d === "number" && d >= FOLD_MIN);
    if (
      perm.length === 2 &&
      large &&
      from.op === "MatMul" &&
      from.inputs.every((v) => v.rank === 2)
    ) {
      const [p, q] = from.inputs;
      const [qt, pt] = [transposeLast2(q), transposeLast2(p)];
      // The MatMul node directly (nn.ts imports this module, so not through matmul()).
      return [
        g!.graph.addNode("MatMul", [qt, pt], {}, [
          { dtype: g!.dtype, shape: [qt.shape[0], pt.shape[1]] },
        ]).outputs[0],
      ];
    }
    const inverse = perm.map((_, i) => perm.indexOf(i));
    return [transpose(g!, inverse)];
  },
});

defineOp("Squeeze", {
  lower: (n, ctx) =>
    ctx.emit(
      "Squeeze",
      [ctx.name(n.inputs[0]), ctx.int64(n.attrs.axes as number[])],
      [ctx.name(n.outputs[0])],
    ),
  vjp: (n, [g]) => [unsqueeze(g!, n.attrs.axes as number[])],
});

defineOp("Unsqueeze", {
  lower: (n, ctx) =>
    ctx.emit(
      "Unsqueeze",
      [ctx.name(n.inputs[0]), ctx.int64(n.attrs.axes as number[])],
      [ctx.name(n.outputs[0])],
    ),
  vjp: (n, [g]) => [squeeze(g!, n.attrs.axes as number[])],
});

defineOp("Expand", {
  lower: (n, ctx) => {
    const x = n.inputs[0];
    const out = n.attrs.shape as Dim[];
    const lead = out.length - x.rank;
    // 1 keeps the input's own size, so a symbolic dim the input already has costs nothing.
    const codes = out.map((d, i) => (isStatic(d) ? d : x.shape[i - lead] === d ? 1 : undefined));
    const target = codes.every((c) => c !== undefined) ? ctx.int64(codes) : ctx.dims(out);
    ctx.emit("Expand", [ctx.name(x), target], [ctx.name(n.outputs[0])]);
  },
  vjp: (n, [g]) => [sumToShape(g!, n.inputs[0].shape)],
});

defineOp("Concat", {
  lower: lowerAs("Concat", (n) => ({ axis: attrInt(n.attrs.axis as number) })),
  vjp: (n, [g]) => {
    const axis = n.attrs.axis as number;
    let offset: Dim = 0;
    return n.inputs.map((x) => {
      const end = dimAdd(offset, x.shape[axis]);
      const part = slice(g!, axis, offset, end);
      offset = end;
      return part;
    });
  },
});

defineOp("Slice", {
  lower: (n, ctx) => {
    const { axis, start, end } = n.attrs as { axis: number; start: Dim; end: Dim };
    ctx.emit(
      "Slice",
      [ctx.name(n.inputs[0]), ctx.dims([start]), ctx.dims([end]), ctx.int64([axis])],
      [ctx.name(n.outputs[0])],
    );
  },
  vjp: (n, [g]) => {
    const { axis, start, end } = n.attrs as { axis: number; start: Dim; end: Dim };
    const x = n.inputs[0];
    return [padAxis(g!, axis, start, dimSub(x.shape[axis], end))];
  },
});

/** Zero-pads one axis (the gradient of Slice). */
function padAxis(x: Value, axis: number, before: Dim, after: Dim): Value {
  const shape = x.shape.map((d, i) => (i === axis ? dimAdd(dimAdd(d, before), after) : d));
  return x.graph.addNode("PadAxis", [x], { axis, before, after }, [{ dtype: x.dtype, shape }])
    .outputs[0];
}

defineOp("PadAxis", {
  lower: (n, ctx) => {
    const { axis, before, after } = n.attrs as { axis: number; before: Dim; after: Dim };
    const rank = n.inputs[0].rank;
    const pads: Dim[] = new Array(2 * rank).fill(0);
    pads[axis] = before;
    pads[rank + axis] = after;
    ctx.emit("Pad", [ctx.name(n.inputs[0]), ctx.dims(pads)], [ctx.name(n.outputs[0])]);
  },
  vjp: (n, [g]) => {
    const { axis, before } = n.attrs as { axis: number; before: Dim };
    return [slice(g!, axis, before, dimAdd(before, n.inputs[0].shape[axis]))];
  },
});

defineOp("Split", {
  lower: (n, ctx) =>
    ctx.emit(
      "Split",
      [ctx.name(n.inputs[0]), ctx.dims(n.attrs.sizes as Dim[])],
      n.outputs.map((o) => ctx.name(o)),
      { axis: attrInt(n.attrs.axis as number) },
    ),
  vjp: (n, gs) => [
    concat(
      n.outputs.map((o, i) => gs[i] ?? zerosLike(o)),
      n.attrs.axis as number,
    ),
  ],
});

defineOp("FullLike", {
  lower: (n, ctx) => {
    const x = n.inputs[0];
    const shape = ctx.tmp("shape");
    ctx.emit("Shape", [ctx.name(x)], [shape]);
    emitFilled(ctx, shape, ctx.name(n.outputs[0]), x.dtype, n.attrs.value as number);
  },
  vjp: () => [null],
});

defineOp("Full", {
  lower: (n, ctx) => {
    const { shape, value, dtype } = n.attrs as { shape: Dim[]; value: number; dtype: DType };
    emitFilled(ctx, ctx.dims(shape), ctx.name(n.outputs[0]), dtype, value);
  },
  vjp: () => [],
});

defineOp("DimValue", {
  lower: (n, ctx) => {
    const { dim, dtype } = n.attrs as { dim: Dim; dtype: DType };
    const scalar = ctx.tmp("dim");
    ctx.emit("Reshape", [ctx.dims([dim]), ctx.int64([])], [scalar]);
    ctx.emit("Cast", [scalar], [ctx.name(n.outputs[0])], { to: attrInt(ONNX_DTYPE[dtype]) });
  },
  vjp: () => [],
});
