// Shape checks shared by the op modules.

import { type Dim, formatShape } from "../dim.js";
import type { DType } from "../dtype.js";
import { GraphError, type Value } from "../graph.js";

/** A Value or a plain number (turned into a scalar constant of the other operand's dtype). */
export type Operand = Value | number;

/** NumPy broadcasting of several shapes; a mismatch is an error naming the op and shapes. */
export function broadcastShapes(op: string, shapes: readonly (readonly Dim[])[]): Dim[] {
  const rank = Math.max(...shapes.map((s) => s.length));
  const out: Dim[] = [];
  for (let i = 0; i < rank; i++) {
    let dim: Dim = 1;
    for (const s of shapes) {
      const d = s[i - (rank - s.length)];
      if (d === undefined || d === 1) continue;
      if (dim === 1) dim = d;
      else if (dim !== d) {
        throw new GraphError(
          `${op}: shapes ${shapes.map((x) => formatShape(x)).join(" and ")} cannot be broadcast (axis ${i}: ${dim} vs ${d})`,
        );
      }
    }
    out.push(dim);
  }
  return out;
}

/** Resolves a possibly negative axis against a rank. */
export function normalizeAxis(op: string, axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= rank) {
    throw new GraphError(`${op}: axis ${axis} is out of range for rank ${rank}`);
  }
  return a;
}

export function normalizeAxes(op: string, axes: readonly number[], rank: number): number[] {
  const out = axes.map((a) => normalizeAxis(op, a, rank));
  if (new Set(out).size !== out.length) throw new GraphError(`${op}: repeated axis in [${axes}]`);
  return out.sort((a, b) => a - b);
}

export function sameShape(a: readonly Dim[], b: readonly Dim[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Finds the graph of the first Value among operands (at least one must be a Value). */
export function firstValue(op: string, operands: readonly Operand[]): Value {
  const v = operands.find((x): x is Value => typeof x !== "number");
  if (!v) throw new GraphError(`${op}: at least one operand must be a graph Value`);
  return v;
}

/** Turns numbers into scalar constants of `dtype`. */
export function asValue(x: Operand, like: Value, dtype: DType = like.dtype): Value {
  return typeof x === "number" ? like.graph.constant(x, [], dtype) : x;
}

export function requireFloat(op: string, x: Value): void {
  if (x.dtype !== "float32" && x.dtype !== "float64") {
    throw new GraphError(`${op}: expected a float tensor, got ${x}`);
  }
}

export function requireDtype(op: string, x: Value, dtype: DType): void {
  if (x.dtype !== dtype) throw new GraphError(`${op}: expected ${dtype}, got ${x}`);
}
