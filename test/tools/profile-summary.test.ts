// The trace summary against hand-worked categories and shares on a small synthetic trace.

import assert from "node:assert/strict";
import { test } from "node:test";
import { categoryOf, summarizeTrace, type TraceEvent } from "../../tools/profile-summary.js";

const node = (op: string, ts: number, dur: number, shape: number[]): TraceEvent => ({
  cat: "Node",
  name: `${op}_${ts}_kernel_time`,
  ts,
  dur,
  args: { op_name: op, output_type_shape: [{ float: shape }] },
});
const run = (ts: number, dur: number): TraceEvent => ({
  cat: "Session",
  name: "model_run",
  ts,
  dur,
});

test("summarizeTrace: categories by op type and shape, warm-up runs skipped", () => {
  const events: TraceEvent[] = [
    run(0, 100),
    node("MatMul", 10, 1000, [2, 3]), // warm-up run: skipped
    run(200, 100),
    node("FusedMatMul", 210, 40, [2, 4, 8, 8]),
    node("Softmax", 250, 10, [2, 4, 8, 8]), // attention (rank 4)
    node("Mul", 260, 5, [2, 4, 8, 8]), // shaped like the attention softmax
    node("Softmax", 265, 8, [16, 50]), // rank 2: cross-entropy gradient
    node("Mul", 273, 7, [16, 50]), // last axis = vocab 50: loss
    node("Mul", 280, 6, [2, 8, 32]), // elementwise
    node("ReduceMean", 286, 4, [2, 8, 1]),
    node("Transpose", 290, 12, [2, 4, 8, 8]), // a move, even when attention-shaped
    node("Gather", 302, 8, [2, 8, 32]), // other
  ];
  const s = summarizeTrace(events, { skipRuns: 1, vocab: 50 });
  assert.equal(s.runs, 1);
  assert.equal(s.runUs, 100);
  assert.equal(s.kernelUs, 100);
  const us = Object.fromEntries(s.categories.map((c) => [c.category, c.us]));
  assert.deepEqual(us, {
    gemm: 40,
    "attention softmax/mask": 15,
    loss: 15,
    "transposes/reshapes/copies": 12,
    other: 8,
    elementwise: 6,
    reductions: 4,
    norms: 0,
  });
  assert.equal(s.categories[0].share, 0.4);
  const mul = s.ops.find((o) => o.op === "Mul")!;
  assert.deepEqual([mul.us, mul.nodes], [18, 3]);
  assert.equal(s.ops[0].op, "FusedMatMul");
});

test("categoryOf: without a vocabulary a vocab-wide Mul is elementwise", () => {
  assert.equal(categoryOf(node("Mul", 0, 1, [16, 50]), new Set()), "elementwise");
  assert.equal(categoryOf(node("LayerNormalization", 0, 1, [2, 8]), new Set()), "norms");
});

test("summarizeTrace: skipping every run is an error", () => {
  assert.throws(() => summarizeTrace([run(0, 1)], { skipRuns: 1 }), /has 1 runs; cannot skip 1/);
});
