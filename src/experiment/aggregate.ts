// A multi-seed experiment's numbers: every method's metrics and training figures as mean, sample
// std, n and the per-seed values, plus the ranking protocol's "last prompt of each test user"
// view computed from each seed's evaluation predictions (predictions.jsonl) and data.

import { join } from "node:path";
import { loadExamples } from "../data/index.js";
import type { EvalMetrics } from "../eval/evaluate.js";
import { lastPerUserMetrics, meanStd, readRanks } from "../eval/views.js";
import type { ExperimentConfig } from "./config.js";
import { type Margin, pairedMargins } from "./margins.js";
import type { ResultRow } from "./run.js";

/** One figure over the seeds: `values[i]` is seed i's (null where that seed lacks it). */
export interface Stat {
  mean: number;
  /** Sample standard deviation (n − 1); 0 with one value. */
  std: number;
  n: number;
  values: (number | null)[];
}

/** The ranking metrics of each user's last evaluated prompt (one seed). */
export interface UserView {
  users: number;
  metrics: Record<string, number>;
}

/** One finished seed: its directory, its result rows and each row's per-user view. */
export interface SeedRun {
  seed: number;
  dir: string;
  rows: ResultRow[];
  /** Stage → view; absent where the ranking protocol did not run. */
  views: Map<string, UserView>;
}

const TRAIN_FIELDS = [
  "epochs",
  "steps",
  "examples",
  "seconds",
  "examplesPerSecond",
  "bestValidLoss",
  "bestValidHr1",
] as const;

/** One method (stage) over the seeds. */
export interface MethodSummary {
  stage: string;
  kind: ResultRow["kind"];
  objective: string;
  init: string | null;
  /** Evaluated examples, per seed. */
  examples: number[];
  /** Protocols that do not apply to this method (n/a in the tables). */
  notApplicable: string[];
  /** Dotted metric paths as in metrics.json: "ranking.sum.hr.1", "constrained.hr1", … */
  metrics: Record<string, Stat>;
  /** Ranking protocol, each test user's last prompt only (null: no ranking in any seed). */
  lastPerUser: { users: (number | null)[]; metrics: Record<string, Stat> } | null;
  train: Record<(typeof TRAIN_FIELDS)[number] | "evalSeconds", Stat | null>;
}

/** What results.json holds beside the per-seed rows. */
export interface SeedsAggregate {
  name: string;
  seeds: number[];
  methods: MethodSummary[];
  /** Paired per-seed differences between related methods (margins.ts). */
  margins: Margin[];
}

/** The per-user view of every stage of one seed's experiment directory. */
export async function userViews(
  dir: string,
  config: ExperimentConfig,
  rows: readonly ResultRow[],
): Promise<Map<string, UserView>> {
  const prepared = join(dir, "data", "prepared");
  // The examples the runner evaluated, in its order (the same split and cap).
  const examples = (await loadExamples(prepared, config.evaluation.split)).slice(
    0,
    config.evaluation.maxExamples,
  );
  const views = new Map<string, UserView>();
  for (const row of rows) {
    if (!row.metrics.ranking) continue;
    const ranks = await readRanks(join(dir, "eval", row.stage, "predictions.jsonl"), examples);
    if (!ranks) continue;
    const m = lastPerUserMetrics(examples, ranks);
    views.set(row.stage, { users: m.examples, metrics: flatten(m) });
  }
  return views;
}

/** Numeric leaves of a metrics object as dotted paths; counts ("examples") are left out. */
export function flatten(value: unknown, prefix = ""): Record<string, number> {
  const out: Record<string, number> = {};
  if (!value || typeof value !== "object" || Array.isArray(value)) return out;
  for (const [key, v] of Object.entries(value)) {
    if (key === "examples") continue;
    const path = prefix ? `${prefix}.${key}` : key;
    if (typeof v === "number") out[path] = v;
    else Object.assign(out, flatten(v, path));
  }
  return out;
}

/** Mean, sample std and n of the values that are numbers; null when none is. */
export function stat(values: readonly (number | null | undefined)[]): Stat | null {
  const present = values.filter((v): v is number => typeof v === "number");
  if (present.length === 0) return null;
  const { mean, std, n } = meanStd(present);
  return { mean, std, n, values: values.map((v) => (typeof v === "number" ? v : null)) };
}

/** Every path's Stat over per-seed flat records (in seed order). */
function stats(records: readonly (Record<string, number> | undefined)[]): Record<string, Stat> {
  const paths = [...new Set(records.flatMap((r) => Object.keys(r ?? {})))];
  return Object.fromEntries(paths.map((p) => [p, stat(records.map((r) => r?.[p])) as Stat]));
}

/** Every method of the experiment over the seeds, in stage order. */
export function aggregateSeeds(name: string, runs: readonly SeedRun[]): SeedsAggregate {
  const stages = [...new Set(runs.flatMap((r) => r.rows.map((row) => row.stage)))];
  const methods = stages.map((stage): MethodSummary => {
    const rows = runs.map((r) => r.rows.find((row) => row.stage === stage));
    const first = rows.find((r) => r !== undefined) as ResultRow;
    const views = runs.map((r) => r.views.get(stage));
    const notApplicable = new Set(rows.flatMap((r) => r?.metrics.notApplicable ?? []));
    const train = Object.fromEntries(
      TRAIN_FIELDS.map((f) => [f, stat(rows.map((r) => r?.train[f]))]),
    ) as MethodSummary["train"];
    train.evalSeconds = stat(rows.map((r) => r?.evalSeconds));
    return {
      stage,
      kind: first.kind,
      objective: first.objective,
      init: first.init,
      examples: rows.map((r) => r?.metrics.examples ?? 0),
      notApplicable: [...notApplicable],
      metrics: stats(rows.map((r) => (r ? flatten(r.metrics) : undefined))),
      lastPerUser: views.some((v) => v)
        ? {
            users: views.map((v) => v?.users ?? null),
            metrics: stats(views.map((v) => v?.metrics)),
          }
        : null,
      train,
    };
  });
  return { name, seeds: runs.map((r) => r.seed), methods, margins: pairedMargins(methods) };
}

/** The metrics of every row of every seed (for the protocol notes). */
export function allMetrics(runs: readonly SeedRun[]): EvalMetrics[] {
  return runs.flatMap((r) => r.rows.map((row) => row.metrics));
}
