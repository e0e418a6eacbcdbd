// The table of op definitions: how each op lowers to ONNX nodes and its vector-Jacobian product.

import type { Dim } from "./dim.js";
import { type DType, fromNumbers, type TensorData } from "./dtype.js";
import type { Node, Value } from "./graph.js";

/** A typed ONNX attribute. */
export type OnnxAttr =
  | { kind: "int"; value: number }
  | { kind: "float"; value: number }
  | { kind: "string"; value: string }
  | { kind: "ints"; value: number[] }
  | { kind: "tensor"; dtype: DType; shape: number[]; data: TensorData };

export const attrInt = (value: number): OnnxAttr => ({ kind: "int", value });
export const attrFloat = (value: number): OnnxAttr => ({ kind: "float", value });
export const attrString = (value: string): OnnxAttr => ({ kind: "string", value });
export const attrInts = (value: number[]): OnnxAttr => ({ kind: "ints", value });

/** What an op's lowering can do: name values, emit ONNX nodes, make constants. */
export interface LowerContext {
  /** ONNX name of a graph value. */
  name(value: Value): string;
  /** A fresh ONNX value name. */
  tmp(hint?: string): string;
  emit(
    opType: string,
    inputs: string[],
    outputs: string[],
    attrs?: Record<string, OnnxAttr>,
    domain?: string,
  ): void;
  /** A 1-D int64 constant. */
  int64(values: readonly number[]): string;
  /** A 0-D constant of a dtype. */
  scalar(value: number, dtype: DType): string;
  /** A 1-D int64 tensor holding these sizes, computed from the inputs' shapes where symbolic. */
  dims(dims: readonly Dim[]): string;
}

/** A vector-Jacobian product: gradients of the inputs given those of the outputs (null = zero). */
export type Vjp = (node: Node, gradOutputs: readonly (Value | null)[]) => (Value | null)[];

export interface OpDef {
  lower(node: Node, ctx: LowerContext): void;
  /** Absent: the op has no gradient rule and differentiating through it is an error. */
  vjp?: Vjp;
}

/** The domain of ONNX Runtime's contrib ops (FastGelu, FusedMatMul, …): CPU kernels in every
 *  onnxruntime build, imported by a model only where a node uses one. */
export const CONTRIB_DOMAIN = "com.microsoft";

const definitions = new Map<string, OpDef>();

/** Registers an op; called once per op when its module loads. */
export function defineOp(op: string, def: OpDef): void {
  if (definitions.has(op)) throw new Error(`op ${op} is defined twice`);
  definitions.set(op, def);
}

export function opDefinition(op: string): OpDef {
  const def = definitions.get(op);
  if (!def) throw new Error(`unknown op ${op}`);
  return def;
}

/** Lowering for ops that map 1:1 onto an ONNX op of the same inputs and outputs. */
export function lowerAs(
  onnxOp: string,
  attrs?: (node: Node) => Record<string, OnnxAttr>,
): (node: Node, ctx: LowerContext) => void {
  return (node, ctx) =>
    ctx.emit(
      onnxOp,
      node.inputs.map((v) => ctx.name(v)),
      node.outputs.map((v) => ctx.name(v)),
      attrs?.(node),
    );
}

/** Emits `out` = a tensor of the run-time shape `shape` (an int64 1-D tensor name) filled with `value`. */
export function emitFilled(
  ctx: LowerContext,
  shape: string,
  out: string,
  dtype: DType,
  value: number,
): string {
  ctx.emit("ConstantOfShape", [shape], [out], {
    value: { kind: "tensor", dtype, shape: [1], data: fromNumbers(dtype, [value]) },
  });
  return out;
}

// Inputs and constants become ONNX graph inputs and initializers; they emit no nodes.
defineOp("Input", { lower: () => {} });
defineOp("Constant", { lower: () => {} });
defineOp("Frozen", { lower: () => {} });
