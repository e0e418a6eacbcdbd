// Vega-Lite specs of the report's charts: a training run's curves (only the series it logged)
// and an experiment's method comparison (bars with std whiskers, HR@k curves).

import type { TopLevelSpec } from "vega-lite";
import { type MethodRun, meanStd, type RunLog } from "./data.js";

/** A chart: a file-safe id, a title and its spec. */
export interface Chart {
  id: string;
  title: string;
  spec: TopLevelSpec;
}

const WIDTH = 480;
const HEIGHT = 220;
const SCHEMA = "https://vega.github.io/schema/vega-lite/v6.json";

export interface Point {
  step: number;
  value: number;
  series: string;
}

/** Most points one series keeps (a baseline run logs every step: tens of thousands of them). */
export const MAX_SERIES_POINTS = 500;
/** Series up to this length also draw their points (so a single step still shows). */
const MAX_MARKED_POINTS = 100;

/**
 * Each series of more than `max` points as at most `max` means of consecutive runs of points
 * (mean step, mean value), so a long run's chart stays small and its trend readable.
 */
export function thin(points: readonly Point[], max = MAX_SERIES_POINTS): Point[] {
  const out: Point[] = [];
  for (const name of new Set(points.map((p) => p.series))) {
    const own = points.filter((p) => p.series === name);
    const size = Math.ceil(own.length / max);
    for (let i = 0; i < own.length; i += size) {
      const run = own.slice(i, i + size);
      const mean = (f: (p: Point) => number) => run.reduce((a, p) => a + f(p), 0) / run.length;
      out.push({ step: mean((p) => p.step), value: mean((p) => p.value), series: name });
    }
  }
  return out;
}

/** A line chart over steps, one coloured series per name; short series also draw points. */
export function lineChart(id: string, title: string, yTitle: string, all: Point[]): Chart {
  const points = thin(all);
  const series = [...new Set(points.map((p) => p.series))];
  const longest = Math.max(...series.map((n) => points.filter((p) => p.series === n).length));
  return {
    id,
    title,
    spec: {
      $schema: SCHEMA,
      title,
      width: WIDTH,
      height: HEIGHT,
      data: { values: points },
      mark: { type: "line", point: longest <= MAX_MARKED_POINTS, strokeWidth: 1.5 },
      encoding: {
        x: { field: "step", type: "quantitative", title: "step" },
        y: { field: "value", type: "quantitative", title: yTitle, scale: { zero: false } },
        color: {
          field: "series",
          type: "nominal",
          title: null,
          sort: series,
          legend: series.length > 1 ? { orient: "bottom" } : null,
        },
      },
    } as TopLevelSpec,
  };
}

/** [field, series label] pairs taken from `lines`; absent fields are skipped. */
function collect(lines: readonly Record<string, number>[], fields: [string, string][]): Point[] {
  const out: Point[] = [];
  for (const [field, label] of fields)
    for (const l of lines)
      if (l[field] !== undefined) out.push({ step: l.step, value: l[field], series: label });
  return out;
}

/** Every chart a training run's log supports, in a fixed order; empty series are left out. */
export function runCharts(log: RunLog): Chart[] {
  const defs: [string, string, string, Point[]][] = [
    [
      "loss",
      "Loss",
      "loss",
      [...collect(log.train, [["loss", "train"]]), ...collect(log.valid, [["loss", "valid"]])],
    ],
    ["lr", "Learning rate", "learning rate", collect(log.train, [["lr", "lr"]])],
    [
      "grad-norm",
      "Gradient norm (before clipping)",
      "gradient norm",
      collect(log.train, [["grad_norm", "grad norm"]]),
    ],
    [
      "rewards",
      "Rewards β·(log π − log π_ref) and margin to the best negative",
      "reward",
      collect(log.train, [
        ["reward_chosen", "chosen"],
        ["reward_rejected", "rejected (mean)"],
        ["margin", "margin"],
      ]),
    ],
    [
      "accuracy",
      "Preference accuracy (chosen above every negative)",
      "accuracy",
      collect(log.train, [["accuracy", "accuracy"]]),
    ],
    [
      "chosen-logp",
      "Chosen answer log-prob",
      "log π(chosen | prompt)",
      collect(log.train, [["chosen_logp", "chosen log-prob"]]),
    ],
    [
      "validation",
      "Validation ranking metrics",
      "metric",
      collect(log.valid, [
        ["hr1", "HR@1"],
        ["ndcg5", "NDCG@5"],
        ["mrr", "MRR"],
      ]),
    ],
  ];
  return defs
    .filter((d) => d.at(3)!.length > 0)
    .map(([id, title, y, pts]) => lineChart(id, title, y, pts));
}

/** One stage's loss curves of several seeds in one chart (training and validation per seed);
 *  null when no seed logged a loss (Pop). */
export function seedLossChart(id: string, title: string, logs: [number, RunLog][]): Chart | null {
  const points = logs.flatMap(([seed, log]) => [
    ...collect(log.train, [["loss", `seed ${seed}`]]),
    ...collect(log.valid, [["loss", `seed ${seed} valid`]]),
  ]);
  return points.length > 0 ? lineChart(id, title, "loss", points) : null;
}

/** The metrics of the comparison bar chart, with how to read each from a run. */
const BAR_METRICS: [string, (r: NonNullable<MethodRun["ranking"]>) => number | undefined][] = [
  ["HR@1", (r) => r.hr["1"]],
  ["NDCG@5", (r) => r.ndcg["5"]],
  ["MRR", (r) => r.mrr],
];

/** Methods in first-appearance order, each with its runs (one per seed). */
export function byMethod(runs: readonly MethodRun[]): Map<string, MethodRun[]> {
  const out = new Map<string, MethodRun[]>();
  for (const r of runs) out.set(r.method, [...(out.get(r.method) ?? []), r]);
  return out;
}

/** Bars of every method's HR@1 / NDCG@5 / MRR (mean over seeds), whiskers ± 1 std with ≥ 2 seeds. */
export function comparisonChart(runs: readonly MethodRun[]): Chart | null {
  const groups = byMethod(runs.filter((r) => r.ranking));
  if (groups.size === 0) return null;
  const methods = [...groups.keys()];
  const rows: Record<string, unknown>[] = [];
  for (const [method, list] of groups)
    for (const [metric, read] of BAR_METRICS) {
      const values = list.map((r) => read(r.ranking!)).filter((v): v is number => v !== undefined);
      if (!values.length) continue;
      const s = meanStd(values);
      rows.push({ method, metric, mean: s.mean, lo: s.mean - s.std, hi: s.mean + s.std, n: s.n });
    }
  const seeds = rows.some((r) => (r.n as number) > 1);
  const x = {
    field: "metric",
    type: "nominal",
    title: "metric",
    sort: BAR_METRICS.map((m) => m[0]),
    axis: { labelAngle: 0 },
  };
  const xOffset = { field: "method", type: "nominal", sort: methods };
  const bar = {
    mark: { type: "bar" },
    encoding: {
      x,
      xOffset,
      y: {
        field: "mean",
        type: "quantitative",
        title: seeds ? "value (mean ± std over seeds)" : "value",
      },
      color: {
        field: "method",
        type: "nominal",
        title: "method",
        sort: methods,
        legend: { orient: "bottom" },
      },
    },
  };
  const whisker = {
    mark: { type: "rule", color: "black" },
    encoding: { x, xOffset, y: { field: "lo", type: "quantitative" }, y2: { field: "hi" } },
  };
  return {
    id: "methods",
    title: "Methods: HR@1, NDCG@5, MRR (ranking protocol)",
    spec: {
      $schema: SCHEMA,
      title: "Methods: HR@1, NDCG@5, MRR (ranking protocol)",
      width: Math.max(WIDTH, 60 * methods.length * BAR_METRICS.length),
      height: HEIGHT,
      data: { values: rows },
      layer: seeds ? [bar, whisker] : [bar],
    } as TopLevelSpec,
  };
}

/** HR@k against k, one line per method (mean over seeds). */
export function hrCurveChart(runs: readonly MethodRun[]): Chart | null {
  const groups = byMethod(runs.filter((r) => r.ranking));
  if (groups.size === 0) return null;
  const methods = [...groups.keys()];
  const rows: Record<string, unknown>[] = [];
  for (const [method, list] of groups) {
    const ks = Object.keys(list[0].ranking!.hr)
      .map(Number)
      .sort((a, b) => a - b);
    for (const k of ks) {
      const values = list.map((r) => r.ranking!.hr[String(k)]).filter((v) => v !== undefined);
      rows.push({ method, k, hr: meanStd(values).mean });
    }
  }
  return {
    id: "hr-at-k",
    title: "HR@k by method (ranking protocol)",
    spec: {
      $schema: SCHEMA,
      title: "HR@k by method (ranking protocol)",
      width: WIDTH,
      height: HEIGHT,
      data: { values: rows },
      mark: { type: "line", point: true },
      encoding: {
        x: {
          field: "k",
          type: "quantitative",
          title: "k",
          axis: { values: [...new Set(rows.map((r) => r.k as number))] },
        },
        y: { field: "hr", type: "quantitative", title: "HR@k", scale: { domain: [0, 1] } },
        color: {
          field: "method",
          type: "nominal",
          title: "method",
          sort: methods,
          legend: { orient: "bottom" },
        },
      },
    } as TopLevelSpec,
  };
}
