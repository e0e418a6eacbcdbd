// Summarizes an ONNX Runtime profile (the Chrome-trace JSON a `Runtime({ profilePrefix })` session
// writes): node time per category and per op type, and how much of each run the kernels fill.
// `npx tsx tools/profile-summary.ts TRACE.json [--skip-runs N] [--vocab V] [--top N] [--json]`

import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";

/** One event of ONNX Runtime's trace (the fields this summary reads). */
export interface TraceEvent {
  cat: string;
  name: string;
  ts: number;
  dur: number;
  args?: { op_name?: string; output_type_shape?: Record<string, number[]>[] };
}

export const CATEGORIES = [
  "gemm",
  "attention softmax/mask",
  "norms",
  "reductions",
  "elementwise",
  "transposes/reshapes/copies",
  "loss",
  "other",
] as const;
export type Category = (typeof CATEGORIES)[number];

const GEMM = new Set(["MatMul", "Gemm", "FusedMatMul", "FusedGemm", "MatMulNBits"]);
const NORM = new Set([
  "LayerNormalization",
  "SimplifiedLayerNormalization",
  "SkipLayerNormalization",
  "SkipSimplifiedLayerNormalization",
  "RMSNormalization",
]);
const REDUCTION = new Set([
  "ReduceMean",
  "ReduceSum",
  "ReduceMax",
  "ReduceMin",
  "ReduceLogSumExp",
  "ReduceSumSquare",
  "ArgMax",
]);
const LOSS = new Set(["SoftmaxCrossEntropyLoss", "NegativeLogLikelihoodLoss", "LogSoftmax"]);
const SOFTMAX = new Set(["Softmax", "SoftmaxGrad", "SoftmaxGrad_13"]);
const MOVE = new Set([
  "Transpose",
  "Reshape",
  "Expand",
  "Concat",
  "Split",
  "Slice",
  "Squeeze",
  "Unsqueeze",
  "Identity",
  "Flatten",
  "Tile",
  "Pad",
  "Shape",
  "ConstantOfShape",
  "Cast",
  "MemcpyFromHost",
  "MemcpyToHost",
]);
const ELEMENTWISE = new Set(
  (
    "Add Sub Mul Div Pow Sqrt Reciprocal Exp Log Neg Abs Tanh Erf Sigmoid Relu Softplus Gelu " +
    "FastGelu BiasGelu QuickGelu Where Equal Greater Less Not And Or Max Min Clip Sin Cos " +
    "BiasAdd Sum Mean"
  ).split(" "),
);

/** The output shape of a node event ([] when the trace does not record it). */
function outputShape(e: TraceEvent): number[] {
  const first = e.args?.output_type_shape?.[0];
  return first ? (Object.values(first)[0] ?? []) : [];
}

const shapeKey = (s: number[]) => s.join("x");

/**
 * The category of one node. By op type, refined by shape because the engine lowers to plain ops:
 * a rank-2 Softmax is the cross-entropy gradient's, a rank ≥ 3 one is attention; any non-GEMM
 * node shaped like an attention Softmax is attention (scale, mask, softmax backward); with `vocab`,
 * non-GEMM nodes whose last axis is the vocabulary belong to the loss.
 */
export function categoryOf(
  e: TraceEvent,
  attentionShapes: ReadonlySet<string>,
  vocab?: number,
): Category {
  const op = e.args?.op_name ?? "?";
  const shape = outputShape(e);
  if (GEMM.has(op)) return "gemm";
  if (LOSS.has(op)) return "loss";
  if (SOFTMAX.has(op)) return shape.length === 2 ? "loss" : "attention softmax/mask";
  if (vocab !== undefined && shape.length > 0 && shape[shape.length - 1] === vocab) return "loss";
  if (op === "ScatterElements") return "loss";
  if (attentionShapes.has(shapeKey(shape)) && !MOVE.has(op)) return "attention softmax/mask";
  if (NORM.has(op)) return "norms";
  if (REDUCTION.has(op)) return "reductions";
  if (ELEMENTWISE.has(op)) return "elementwise";
  if (MOVE.has(op)) return "transposes/reshapes/copies";
  return "other";
}

export interface Summary {
  /** Runs summarized (after the skipped ones) and their total time in ORT (`model_run`), µs. */
  runs: number;
  runUs: number;
  /** Node kernel time, µs, in all and per category / per op type (sorted, largest first). */
  kernelUs: number;
  categories: { category: Category; us: number; share: number }[];
  ops: { op: string; us: number; share: number; nodes: number }[];
}

/** Summarizes the node events of the runs after the first `skipRuns` (warm-up). */
export function summarizeTrace(
  events: readonly TraceEvent[],
  options: { skipRuns?: number; vocab?: number } = {},
): Summary {
  const runs = events
    .filter((e) => e.cat === "Session" && e.name === "model_run")
    .sort((a, b) => a.ts - b.ts);
  const skip = options.skipRuns ?? 0;
  if (skip >= runs.length)
    throw new Error(`the trace has ${runs.length} runs; cannot skip ${skip}`);
  const from = skip > 0 ? runs[skip - 1].ts + runs[skip - 1].dur : Number.NEGATIVE_INFINITY;
  const kept = runs.slice(skip);
  const nodes = events.filter(
    (e) => e.cat === "Node" && e.name.endsWith("_kernel_time") && e.ts >= from,
  );
  const attentionShapes = new Set(
    nodes
      .filter((e) => SOFTMAX.has(e.args?.op_name ?? "") && outputShape(e).length >= 3)
      .map((e) => shapeKey(outputShape(e))),
  );
  const byCategory = new Map<Category, number>(CATEGORIES.map((c) => [c, 0]));
  const byOp = new Map<string, { us: number; names: Set<string> }>();
  let kernelUs = 0;
  for (const e of nodes) {
    kernelUs += e.dur;
    const c = categoryOf(e, attentionShapes, options.vocab);
    byCategory.set(c, byCategory.get(c)! + e.dur);
    const op = e.args?.op_name ?? "?";
    const entry = byOp.get(op) ?? { us: 0, names: new Set<string>() };
    entry.us += e.dur;
    entry.names.add(e.name);
    byOp.set(op, entry);
  }
  const share = (us: number) => (kernelUs > 0 ? us / kernelUs : 0);
  return {
    runs: kept.length,
    runUs: kept.reduce((s, e) => s + e.dur, 0),
    kernelUs,
    categories: [...byCategory]
      .map(([category, us]) => ({ category, us, share: share(us) }))
      .sort((a, b) => b.us - a.us),
    ops: [...byOp]
      .map(([op, { us, names }]) => ({ op, us, share: share(us), nodes: names.size }))
      .sort((a, b) => b.us - a.us),
  };
}

/** The summary as text: per-run times, then categories and the top op types with shares. */
export function formatSummary(s: Summary, top = 10): string {
  const ms = (us: number) => (us / 1000 / Math.max(1, s.runs)).toFixed(2);
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  const lines = [
    `runs ${s.runs}: ${ms(s.runUs)} ms/run in ONNX Runtime, ${ms(s.kernelUs)} ms/run in kernels (${pct(s.runUs > 0 ? s.kernelUs / s.runUs : 0)})`,
    "category | ms/run | share of kernel time",
    ...s.categories.map((c) => `${c.category} | ${ms(c.us)} | ${pct(c.share)}`),
    `op type (top ${top}) | nodes | ms/run | share`,
    ...s.ops.slice(0, top).map((o) => `${o.op} | ${o.nodes} | ${ms(o.us)} | ${pct(o.share)}`),
  ];
  return lines.join("\n");
}

function main(argv: string[]): void {
  const files: string[] = [];
  const options: { skipRuns?: number; vocab?: number } = {};
  let top = 10;
  let json = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const num = () => {
      const v = Number(argv[++i]);
      if (!Number.isInteger(v) || v < 0) throw new Error(`${a}: expected a whole number`);
      return v;
    };
    if (a === "--skip-runs") options.skipRuns = num();
    else if (a === "--vocab") options.vocab = num();
    else if (a === "--top") top = num();
    else if (a === "--json") json = true;
    else files.push(a);
  }
  if (files.length === 0)
    throw new Error(
      "usage: profile-summary TRACE.json [--skip-runs N] [--vocab V] [--top N] [--json]",
    );
  for (const file of files) {
    const events = JSON.parse(readFileSync(file, "utf8")) as TraceEvent[];
    const s = summarizeTrace(events, options);
    process.stdout.write(
      json ? `${JSON.stringify({ file, ...s })}\n` : `${file}\n${formatSummary(s, top)}\n`,
    );
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    main(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`profile-summary: ${(error as Error).message}\n`);
    process.exitCode = 2;
  }
}
