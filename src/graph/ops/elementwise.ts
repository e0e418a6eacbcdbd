// Element-wise ops (NumPy broadcasting) and their gradients.

import { type DType, ONNX_DTYPE } from "../dtype.js";
import { GraphError, type Node, type Value } from "../graph.js";
import { attrInt, CONTRIB_DOMAIN, defineOp, type LowerContext, lowerAs } from "../registry.js";
import { sumToShape } from "./shape.js";
import { asValue, broadcastShapes, firstValue, type Operand, requireFloat } from "./util.js";

function binary(op: string, a: Operand, b: Operand, outDtype?: DType): Value {
  const like = firstValue(op, [a, b]);
  const x = asValue(a, like);
  const y = asValue(b, like);
  if (x.dtype !== y.dtype) throw new GraphError(`${op}: dtypes differ: ${x} and ${y}`);
  const shape = broadcastShapes(op, [x.shape, y.shape]);
  return x.graph.addNode(op, [x, y], {}, [{ dtype: outDtype ?? x.dtype, shape }]).outputs[0];
}

function unary(op: string, x: Value, attrs: Record<string, number> = {}): Value {
  requireFloat(op, x);
  return x.graph.addNode(op, [x], attrs, [{ dtype: x.dtype, shape: x.shape }]).outputs[0];
}

/** a + b */
export const add = (a: Operand, b: Operand): Value => binary("Add", a, b);
/** a − b */
export const sub = (a: Operand, b: Operand): Value => binary("Sub", a, b);
/** a · b */
export const mul = (a: Operand, b: Operand): Value => binary("Mul", a, b);
/** a / b */
export const div = (a: Operand, b: Operand): Value => binary("Div", a, b);
/** Element-wise maximum (the gradient goes to a on ties). */
export const maximum = (a: Operand, b: Operand): Value => binary("Max", a, b);
/** Element-wise minimum (the gradient goes to a on ties). */
export const minimum = (a: Operand, b: Operand): Value => binary("Min", a, b);

/** x ** exponent for a constant exponent. */
export function pow(x: Value, exponent: number): Value {
  requireFloat("Pow", x);
  return x.graph.addNode("Pow", [x], { exponent }, [{ dtype: x.dtype, shape: x.shape }]).outputs[0];
}

export const neg = (x: Value): Value => unary("Neg", x);
export const exp = (x: Value): Value => unary("Exp", x);
export const log = (x: Value): Value => unary("Log", x);
export const sqrt = (x: Value): Value => unary("Sqrt", x);
export const reciprocal = (x: Value): Value => unary("Reciprocal", x);
export const abs = (x: Value): Value => unary("Abs", x);
/** sign(x) ∈ {−1, 0, 1}; its gradient is zero. */
export const sign = (x: Value): Value => unary("Sign", x);
export const sin = (x: Value): Value => unary("Sin", x);
export const cos = (x: Value): Value => unary("Cos", x);
export const sigmoid = (x: Value): Value => unary("Sigmoid", x);
export const tanh = (x: Value): Value => unary("Tanh", x);
/** log(1 + eˣ), computed as max(x,0) + log(1 + e^−|x|) so that it never overflows. */
export const softplus = (x: Value): Value => unary("Softplus", x);
export const relu = (x: Value): Value => unary("Relu", x);
/** GELU, tanh approximation: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))). */
export const gelu = (x: Value): Value => unary("GeluTanh", x);
/** SiLU (swish): x·σ(x). */
export const silu = (x: Value): Value => unary("Silu", x);
export const square = (x: Value): Value => mul(x, x);

/** Identity whose gradient is zero: the value is treated as a constant by `grad`. */
export function stopGradient(x: Value): Value {
  return x.graph.addNode("StopGradient", [x], {}, [{ dtype: x.dtype, shape: x.shape }]).outputs[0];
}

export function identity(x: Value): Value {
  return x.graph.addNode("Identity", [x], {}, [{ dtype: x.dtype, shape: x.shape }]).outputs[0];
}

/** Converts to another dtype; the gradient flows only between float dtypes. */
export function cast(x: Value, dtype: DType): Value {
  if (x.dtype === dtype) return x;
  return x.graph.addNode("Cast", [x], { to: dtype }, [{ dtype, shape: x.shape }]).outputs[0];
}

/** cond ? a : b, broadcasting all three. */
export function where(cond: Value, a: Operand, b: Operand): Value {
  if (cond.dtype !== "bool") throw new GraphError(`Where: condition must be bool, got ${cond}`);
  const like = typeof a === "number" ? (typeof b === "number" ? undefined : b) : a;
  if (!like) throw new GraphError("Where: at least one branch must be a graph Value");
  const x = asValue(a, like);
  const y = asValue(b, like);
  if (x.dtype !== y.dtype) throw new GraphError(`Where: branch dtypes differ: ${x} and ${y}`);
  const shape = broadcastShapes("Where", [cond.shape, x.shape, y.shape]);
  return cond.graph.addNode("Where", [cond, x, y], {}, [{ dtype: x.dtype, shape }]).outputs[0];
}

export const equal = (a: Operand, b: Operand): Value => binary("Equal", a, b, "bool");
export const less = (a: Operand, b: Operand): Value => binary("Less", a, b, "bool");
export const greater = (a: Operand, b: Operand): Value => binary("Greater", a, b, "bool");
export const lessOrEqual = (a: Operand, b: Operand): Value => binary("LessOrEqual", a, b, "bool");
export const greaterOrEqual = (a: Operand, b: Operand): Value =>
  binary("GreaterOrEqual", a, b, "bool");
export const and = (a: Value, b: Value): Value => binary("And", a, b, "bool");

function integerBinary(op: string, a: Operand, b: Operand): Value {
  const like = firstValue(op, [a, b]);
  if (like.dtype !== "int64") throw new GraphError(`${op}: expected int64, got ${like}`);
  return binary(op, a, b);
}
/** Integer remainder with the sign of the divisor (int64; no gradient). */
export const mod = (a: Operand, b: Operand): Value => integerBinary("Mod", a, b);
/** Bitwise exclusive or (int64; no gradient). */
export const bitwiseXor = (a: Operand, b: Operand): Value => integerBinary("BitwiseXor", a, b);
export const or = (a: Value, b: Value): Value => binary("Or", a, b, "bool");
export function not(x: Value): Value {
  if (x.dtype !== "bool") throw new GraphError(`Not: expected bool, got ${x}`);
  return x.graph.addNode("Not", [x], {}, [{ dtype: "bool", shape: x.shape }]).outputs[0];
}

// ---- lowering and gradients ----

const [X, Y] = [0, 1];
const input = (node: Node, i: number): Value => node.inputs[i];
const output = (node: Node): Value => node.outputs[0];

defineOp("Add", {
  lower: lowerAs("Add"),
  vjp: (n, [g]) => [sumToShape(g!, input(n, X).shape), sumToShape(g!, input(n, Y).shape)],
});
defineOp("Sub", {
  lower: lowerAs("Sub"),
  vjp: (n, [g]) => [sumToShape(g!, input(n, X).shape), sumToShape(neg(g!), input(n, Y).shape)],
});
defineOp("Mul", {
  lower: lowerAs("Mul"),
  vjp: (n, [g]) => {
    const [a, b] = n.inputs;
    return [sumToShape(mul(g!, b), a.shape), sumToShape(mul(g!, a), b.shape)];
  },
});
defineOp("Div", {
  lower: lowerAs("Div"),
  vjp: (n, [g]) => {
    const [a, b] = n.inputs;
    const ga = div(g!, b);
    return [sumToShape(ga, a.shape), sumToShape(neg(mul(ga, output(n))), b.shape)];
  },
});
for (const op of ["Max", "Min"] as const) {
  defineOp(op, {
    lower: lowerAs(op),
    vjp: (n, [g]) => {
      const [a, b] = n.inputs;
      const toA = op === "Max" ? greaterOrEqual(a, b) : lessOrEqual(a, b);
      return [sumToShape(where(toA, g!, 0), a.shape), sumToShape(where(toA, 0, g!), b.shape)];
    },
  });
}
defineOp("Pow", {
  lower: (n, ctx) => {
    const exponent = ctx.scalar(n.attrs.exponent as number, input(n, X).dtype);
    ctx.emit("Pow", [ctx.name(input(n, X)), exponent], [ctx.name(output(n))]);
  },
  vjp: (n, [g]) => {
    const p = n.attrs.exponent as number;
    return [mul(g!, mul(pow(input(n, X), p - 1), p))];
  },
});
defineOp("Neg", { lower: lowerAs("Neg"), vjp: (_n, [g]) => [neg(g!)] });
defineOp("Exp", { lower: lowerAs("Exp"), vjp: (n, [g]) => [mul(g!, output(n))] });
defineOp("Log", { lower: lowerAs("Log"), vjp: (n, [g]) => [div(g!, input(n, X))] });
defineOp("Sqrt", { lower: lowerAs("Sqrt"), vjp: (n, [g]) => [div(mul(g!, 0.5), output(n))] });
defineOp("Reciprocal", {
  lower: lowerAs("Reciprocal"),
  vjp: (n, [g]) => [neg(mul(g!, square(output(n))))],
});
defineOp("Abs", { lower: lowerAs("Abs"), vjp: (n, [g]) => [mul(g!, sign(input(n, X)))] });
defineOp("Sign", { lower: lowerAs("Sign"), vjp: () => [null] });
defineOp("Sin", { lower: lowerAs("Sin"), vjp: (n, [g]) => [mul(g!, cos(input(n, X)))] });
defineOp("Cos", { lower: lowerAs("Cos"), vjp: (n, [g]) => [neg(mul(g!, sin(input(n, X))))] });
defineOp("Sigmoid", {
  lower: lowerAs("Sigmoid"),
  vjp: (n, [g]) => {
    const y = output(n);
    return [mul(g!, mul(y, sub(1, y)))];
  },
});
defineOp("Tanh", {
  lower: lowerAs("Tanh"),
  vjp: (n, [g]) => [mul(g!, sub(1, square(output(n))))],
});
defineOp("Softplus", {
  lower: (n, ctx) => {
    const x = ctx.name(input(n, X));
    const dtype = input(n, X).dtype;
    const [pos, absX, negAbs, e, onePlus, lg] = ["pos", "abs", "nabs", "e", "1pe", "log"].map((h) =>
      ctx.tmp(`softplus_${h}`),
    );
    ctx.emit("Relu", [x], [pos]);
    ctx.emit("Abs", [x], [absX]);
    ctx.emit("Neg", [absX], [negAbs]);
    ctx.emit("Exp", [negAbs], [e]);
    ctx.emit("Add", [e, ctx.scalar(1, dtype)], [onePlus]);
    ctx.emit("Log", [onePlus], [lg]);
    ctx.emit("Add", [pos, lg], [ctx.name(output(n))]);
  },
  vjp: (n, [g]) => [mul(g!, sigmoid(input(n, X)))],
});
defineOp("Relu", {
  lower: lowerAs("Relu"),
  vjp: (n, [g]) => [where(greater(input(n, X), 0), g!, 0)],
});

const GELU_C = Math.sqrt(2 / Math.PI);
const GELU_A = 0.044715;
defineOp("GeluTanh", {
  lower: (n, ctx) => {
    const x = input(n, X);
    // ONNX Runtime's FastGelu is this exact formula in one kernel (float32 only: its float64
    // path is not the CPU kernel).
    if (x.dtype === "float32")
      ctx.emit("FastGelu", [ctx.name(x)], [ctx.name(output(n))], {}, CONTRIB_DOMAIN);
    else lowerGeluTanh(ctx, ctx.name(x), ctx.name(output(n)), x.dtype);
  },
  vjp: (n, [g]) => {
    // With 0.5(1 + tanh(u)) = σ(2u): y = x·s, s = σ(v), v = 2c(x + a·x³), so
    // y' = s + x·s(1 − s)·v' = s + y(1 − s)·2c(1 + 3a·x²): the forward's y spares a pass.
    const x = input(n, X);
    const x2 = square(x);
    const s = sigmoid(mul(x, add(mul(x2, 2 * GELU_C * GELU_A), 2 * GELU_C)));
    const dv = add(mul(x2, 6 * GELU_C * GELU_A), 2 * GELU_C);
    return [mul(g!, add(s, mul(mul(output(n), sub(1, s)), dv)))];
  },
});

function lowerGeluTanh(ctx: LowerContext, x: string, out: string, dtype: DType): void {
  const t = (h: string): string => ctx.tmp(`gelu_${h}`);
  const [x2, x3, ax3, inner, scaled, th, onePlus, hx] = [
    "x2",
    "x3",
    "ax3",
    "inner",
    "scaled",
    "tanh",
    "1pt",
    "hx",
  ].map(t);
  ctx.emit("Mul", [x, x], [x2]);
  ctx.emit("Mul", [x2, x], [x3]);
  ctx.emit("Mul", [x3, ctx.scalar(GELU_A, dtype)], [ax3]);
  ctx.emit("Add", [x, ax3], [inner]);
  ctx.emit("Mul", [inner, ctx.scalar(GELU_C, dtype)], [scaled]);
  ctx.emit("Tanh", [scaled], [th]);
  ctx.emit("Add", [th, ctx.scalar(1, dtype)], [onePlus]);
  ctx.emit("Mul", [x, ctx.scalar(0.5, dtype)], [hx]);
  ctx.emit("Mul", [hx, onePlus], [out]);
}

defineOp("Silu", {
  lower: (n, ctx) => {
    const x = ctx.name(input(n, X));
    const dtype = input(n, X).dtype;
    if (dtype === "float32") {
      // x·σ(x): ONNX Runtime fuses this pattern into one kernel.
      const s = ctx.tmp("silu_sigmoid");
      ctx.emit("Sigmoid", [x], [s]);
      ctx.emit("Mul", [x, s], [ctx.name(output(n))]);
      return;
    }
    // ONNX Runtime's fusion of x·σ(x) has no float64 kernel, so float64 uses x / (1 + e^−x).
    const [negX, e, onePlus] = ["neg", "exp", "1pe"].map((h) => ctx.tmp(`silu_${h}`));
    ctx.emit("Neg", [x], [negX]);
    ctx.emit("Exp", [negX], [e]);
    ctx.emit("Add", [e, ctx.scalar(1, dtype)], [onePlus]);
    ctx.emit("Div", [x, onePlus], [ctx.name(output(n))]);
  },
  vjp: (n, [g]) => {
    const x = input(n, X);
    const s = sigmoid(x);
    return [mul(g!, mul(s, add(mul(x, sub(1, s)), 1)))];
  },
});
defineOp("StopGradient", { lower: lowerAs("Identity"), vjp: () => [null] });
defineOp("Identity", { lower: lowerAs("Identity"), vjp: (_n, [g]) => [g] });
defineOp("Cast", {
  lower: lowerAs("Cast", (n) => ({ to: attrInt(ONNX_DTYPE[n.attrs.to as DType]) })),
  vjp: (n, [g]) => {
    const from = input(n, X).dtype;
    return [from === "float32" || from === "float64" ? cast(g!, from) : null];
  },
});
defineOp("Where", {
  lower: lowerAs("Where"),
  vjp: (n, [g]) => {
    const [c, a, b] = n.inputs;
    return [null, sumToShape(where(c, g!, 0), a.shape), sumToShape(where(c, 0, g!), b.shape)];
  },
});
// Integer-only ops: int64 outputs carry no gradient.
defineOp("Mod", { lower: lowerAs("Mod") });
defineOp("BitwiseXor", { lower: lowerAs("BitwiseXor") });
for (const op of [
  "Equal",
  "Less",
  "Greater",
  "LessOrEqual",
  "GreaterOrEqual",
  "And",
  "Or",
  "Not",
]) {
  // Bool outputs carry no gradient, so these never need a VJP.
  defineOp(op, { lower: lowerAs(op) });
}
