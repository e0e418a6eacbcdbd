// Shared by the benchmarks' `--profile` flag: the flags, a JS-side phase clock, and a step
// profile (JS phases of each run, ONNX Runtime's trace summarized per category and op type).

import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { CompiledGraph, RuntimeOptions } from "../src/graph/index.js";
import { summarizeTrace, type TraceEvent } from "../tools/profile-summary.js";

/** `--profile` (traces under .tmp/profile/<bench>/) and `--threads N` from argv; a bad flag
 *  prints one line and exits with code 2. */
export function benchFlags(bench: string): { profile: boolean; runtime: RuntimeOptions } {
  try {
    return parseFlags(bench, process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`bench/${bench}.ts: ${(error as Error).message}\n`);
    process.exit(2);
  }
}

function parseFlags(bench: string, argv: string[]): { profile: boolean; runtime: RuntimeOptions } {
  const runtime: RuntimeOptions = {};
  let profile = false;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--profile") profile = true;
    else if (argv[i] === "--threads") {
      const n = Number(argv[++i]);
      if (!Number.isInteger(n) || n < 1) throw new Error("--threads: expected a whole number ≥ 1");
      runtime.threads = n;
    } else throw new Error(`unknown option ${argv[i]} (expected --profile, --threads N)`);
  }
  if (profile) {
    const dir = join(".tmp", "profile", bench);
    mkdirSync(dir, { recursive: true });
    runtime.profilePrefix = join(dir, "trace");
  }
  return { profile, runtime };
}

/** Milliseconds summed per named phase. */
export class PhaseClock {
  readonly ms: Record<string, number> = {};
  /** Times `f` under `phase` (awaited when it returns a promise). */
  async time<T>(phase: string, f: () => T | Promise<T>): Promise<T> {
    const t0 = performance.now();
    const result = await f();
    this.ms[phase] = (this.ms[phase] ?? 0) + performance.now() - t0;
    return result;
  }
  reset(): void {
    for (const k of Object.keys(this.ms)) delete this.ms[k];
  }
}

const round = (x: number, d = 2) => Number(x.toFixed(d));

/**
 * Ends a graph's profiling and reports per run: its JS phases (feeds, session.run, outputs),
 * ONNX Runtime's own run time and kernel time, and the kernel time per category and top op types.
 */
export function graphProfile(
  compiled: CompiledGraph,
  skipRuns: number,
  vocab?: number,
): Record<string, unknown> {
  const trace = compiled.endProfiling();
  const t = compiled.timing!;
  const s = summarizeTrace(JSON.parse(readFileSync(trace, "utf8")) as TraceEvent[], {
    skipRuns,
    vocab,
  });
  const perRun = (us: number) => round(us / 1000 / s.runs);
  return {
    trace,
    runs: s.runs,
    js_check_feeds_ms: round(t.feedsMs / t.runs),
    js_session_run_ms: round(t.sessionMs / t.runs),
    js_wrap_outputs_ms: round(t.outputsMs / t.runs),
    ort_model_run_ms: perRun(s.runUs),
    ort_kernels_ms: perRun(s.kernelUs),
    categories: Object.fromEntries(
      s.categories.map((c) => [c.category, { ms: perRun(c.us), share: round(c.share, 3) }]),
    ),
    top_ops: s.ops
      .slice(0, 10)
      .map((o) => ({ op: o.op, nodes: o.nodes, ms: perRun(o.us), share: round(o.share, 3) })),
  };
}

/** Per-step averages of phase times over `steps` steps. */
export function perStep(ms: Record<string, number>, steps: number): Record<string, number> {
  return Object.fromEntries(Object.entries(ms).map(([k, v]) => [`${k}_ms`, round(v / steps)]));
}
