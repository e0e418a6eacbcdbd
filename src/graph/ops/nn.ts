// Matrix products and the softmax family, with gradients written to keep memory low.

import { type Dim, dimProduct, formatShape, isStatic } from "../dim.js";
import { GraphError, type Value } from "../graph.js";
import { attrInt, defineOp, emitFilled, lowerAs } from "../registry.js";
import { exp, mul, sub } from "./elementwise.js";
import { reduceSum } from "./reduce.js";
import { reshape, sumToShape, transposeLast2 } from "./shape.js";
import { broadcastShapes, normalizeAxis, requireDtype, requireFloat } from "./util.js";

/** Batched matrix product [..., M, K] @ [..., K, N] → [..., M, N]; batch axes broadcast. */
export function matmul(a: Value, b: Value): Value {
  requireFloat("MatMul", a);
  if (a.dtype !== b.dtype) throw new GraphError(`MatMul: dtypes differ: ${a} and ${b}`);
  if (a.rank < 2 || b.rank < 2) {
    throw new GraphError(`MatMul: operands need at least 2 axes, got ${a} and ${b}`);
  }
  const [m, k] = a.shape.slice(-2);
  const [k2, n] = b.shape.slice(-2);
  if (k !== k2) {
    throw new GraphError(
      `MatMul: inner dimensions differ: ${formatShape(a.shape)} @ ${formatShape(b.shape)} (${k} vs ${k2})`,
    );
  }
  const batch = broadcastShapes("MatMul", [a.shape.slice(0, -2), b.shape.slice(0, -2)]);
  return a.graph.addNode("MatMul", [a, b], {}, [{ dtype: a.dtype, shape: [...batch, m, n] }])
    .outputs[0];
}

/** Softmax along an axis. */
export function softmax(x: Value, axis = -1): Value {
  requireFloat("Softmax", x);
  const a = normalizeAxis("Softmax", axis, x.rank);
  return x.graph.addNode("Softmax", [x], { axis: a }, [{ dtype: x.dtype, shape: x.shape }])
    .outputs[0];
}

/** log softmax along an axis, computed stably. */
export function logSoftmax(x: Value, axis = -1): Value {
  requireFloat("LogSoftmax", x);
  const a = normalizeAxis("LogSoftmax", axis, x.rank);
  return x.graph.addNode("LogSoftmax", [x], { axis: a }, [{ dtype: x.dtype, shape: x.shape }])
    .outputs[0];
}

/**
 * Per-position cross-entropy −log softmax(logits)[target] for logits [..., C] and int64 targets
 * [...]; positions whose target is `ignoreIndex` give 0 and no gradient.
 */
export function crossEntropy(logits: Value, targets: Value, ignoreIndex = -100): Value {
  requireFloat("CrossEntropy", logits);
  requireDtype("CrossEntropy", targets, "int64");
  const lead = logits.shape.slice(0, -1);
  if (lead.length !== targets.rank || lead.some((d, i) => d !== targets.shape[i])) {
    throw new GraphError(
      `CrossEntropy: targets ${targets} must have the shape of logits ${logits} without its last axis`,
    );
  }
  return logits.graph.addNode("CrossEntropy", [logits, targets], { ignoreIndex }, [
    { dtype: logits.dtype, shape: targets.shape },
  ]).outputs[0];
}

// ---- lowering and gradients ----

defineOp("MatMul", {
  lower: lowerAs("MatMul"),
  vjp: (node, [g]) => {
    const [a, b] = node.inputs;
    const k = a.shape[a.rank - 1];
    const n = b.shape[b.rank - 1];
    // A weight shared across a batch ([..., M, K] @ [K, N]): fold the batch into M so the weight
    // gradient is one matmul, instead of a per-batch product summed afterwards.
    if (b.rank === 2 && a.rank > 2) {
      const ga = matmul(g!, transposeLast2(b));
      const gb = matmul(transposeLast2(reshape(a, [-1, k])), reshape(g!, [-1, n]));
      return [ga, gb];
    }
    const ga = matmul(g!, transposeLast2(b));
    const gb = matmul(transposeLast2(a), g!);
    return [sumToShape(ga, a.shape), sumToShape(gb, b.shape)];
  },
});

defineOp("Softmax", {
  lower: lowerAs("Softmax", (n) => ({ axis: attrInt(n.attrs.axis as number) })),
  vjp: (n, [g]) => {
    const y = n.outputs[0];
    const gy = mul(g!, y);
    return [sub(gy, mul(y, reduceSum(gy, [n.attrs.axis as number], true)))];
  },
});

defineOp("LogSoftmax", {
  lower: lowerAs("LogSoftmax", (n) => ({ axis: attrInt(n.attrs.axis as number) })),
  vjp: (n, [g]) => {
    const y = n.outputs[0];
    return [sub(g!, mul(exp(y), reduceSum(g!, [n.attrs.axis as number], true)))];
  },
});

/** Logits [..., C] as [N, C] and targets as [N]: what ONNX's loss op expects. */
function flatShapes(logits: Value): { rows: Dim; classes: Dim } {
  return { rows: dimProduct(logits.shape.slice(0, -1)), classes: logits.shape[logits.rank - 1] };
}

defineOp("CrossEntropy", {
  lower: (n, ctx) => {
    const [logits, targets] = n.inputs;
    const { rows, classes } = flatShapes(logits);
    const l2 = ctx.tmp("ce_logits");
    const t1 = ctx.tmp("ce_targets");
    const loss = ctx.tmp("ce_loss");
    const target2 = isStatic(classes) ? ctx.int64([-1, classes]) : ctx.dims([rows, classes]);
    ctx.emit("Reshape", [ctx.name(logits), target2], [l2]);
    ctx.emit("Reshape", [ctx.name(targets), ctx.int64([-1])], [t1]);
    ctx.emit("SoftmaxCrossEntropyLoss", [l2, t1], [loss], {
      reduction: { kind: "string", value: "none" },
      ignore_index: attrInt(n.attrs.ignoreIndex as number),
    });
    ctx.emit("Reshape", [loss, ctx.dims(targets.shape)], [ctx.name(n.outputs[0])]);
  },
  vjp: (n, [g]) => {
    const [logits, targets] = n.inputs;
    const grad = logits.graph.addNode(
      "CrossEntropyGrad",
      [logits, targets, g!],
      { ignoreIndex: n.attrs.ignoreIndex },
      [{ dtype: logits.dtype, shape: logits.shape }],
    ).outputs[0];
    return [grad, null];
  },
});

// (softmax(logits) − onehot(target)) · g, with ignored positions zeroed: one softmax pass and an
// in-place scatter, never a dense one-hot matrix.
defineOp("CrossEntropyGrad", {
  lower: (n, ctx) => {
    const [logits, targets, g] = n.inputs;
    const { rows, classes } = flatShapes(logits);
    const dtype = logits.dtype;
    const t = (h: string): string => ctx.tmp(`ceg_${h}`);
    const [l2, p, t1, ignored, safe, ones, diff, g1, gMasked, out2] = [
      "logits",
      "p",
      "t",
      "ignored",
      "safe",
      "ones",
      "diff",
      "g",
      "gmask",
      "out",
    ].map(t);
    const target2 = isStatic(classes) ? ctx.int64([-1, classes]) : ctx.dims([rows, classes]);
    ctx.emit("Reshape", [ctx.name(logits), target2], [l2]);
    ctx.emit("Softmax", [l2], [p], { axis: attrInt(1) });
    ctx.emit("Reshape", [ctx.name(targets), ctx.int64([-1, 1])], [t1]);
    ctx.emit("Equal", [t1, ctx.scalar(n.attrs.ignoreIndex as number, "int64")], [ignored]);
    ctx.emit("Where", [ignored, ctx.scalar(0, "int64"), t1], [safe]);
    const minusOneShape = ctx.tmp("ceg_shape");
    ctx.emit("Shape", [safe], [minusOneShape]);
    emitFilled(ctx, minusOneShape, ones, dtype, -1);
    ctx.emit("ScatterElements", [p, safe, ones], [diff], {
      axis: attrInt(1),
      reduction: { kind: "string", value: "add" },
    });
    ctx.emit("Reshape", [ctx.name(g), ctx.int64([-1, 1])], [g1]);
    ctx.emit("Where", [ignored, ctx.scalar(0, dtype), g1], [gMasked]);
    ctx.emit("Mul", [diff, gMasked], [out2]);
    ctx.emit("Reshape", [out2, ctx.dims(logits.shape)], [ctx.name(n.outputs[0])]);
  },
});
