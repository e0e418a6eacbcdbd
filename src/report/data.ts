// Reads what a report plots: a training run's metrics.jsonl and an experiment's results.json,
// normalized to plain rows. Malformed input is a one-line UserError naming the file and line.

import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { UserError } from "../io/errors.js";

/** One logged line: numeric fields only (step, loss, lr, grad_norm, reward_chosen, hr1, …). */
export type MetricLine = Record<string, number>;

/** A training run's log split into training steps and validation passes. */
export interface RunLog {
  train: MetricLine[];
  valid: MetricLine[];
}

/** Reads `dir/metrics.jsonl` (training steps have no `split`; validations have split "valid"). */
export async function readRunLog(dir: string): Promise<RunLog> {
  const file = join(dir, "metrics.jsonl");
  const text = await readFile(file, "utf8");
  const log: RunLog = { train: [], valid: [] };
  text.split("\n").forEach((raw, i) => {
    if (!raw.trim()) return;
    let entry: unknown;
    try {
      entry = JSON.parse(raw);
    } catch {
      throw new UserError(`${file}:${i + 1}: not a JSON line`);
    }
    if (typeof entry !== "object" || entry === null || Array.isArray(entry))
      throw new UserError(`${file}:${i + 1}: expected a JSON object`);
    const e = entry as Record<string, unknown>;
    if (typeof e.step !== "number" || !Number.isFinite(e.step))
      throw new UserError(`${file}:${i + 1}: "step" must be a number`);
    const line: MetricLine = {};
    for (const [k, v] of Object.entries(e))
      if (typeof v === "number" && Number.isFinite(v)) line[k] = v;
    (e.split === "valid" ? log.valid : log.train).push(line);
  });
  return log;
}

/** Ranking metrics of one evaluated model (one seed). */
export interface RankingFigures {
  hr: Record<string, number>;
  ndcg: Record<string, number>;
  mrr: number;
}

/** One result row of an experiment, reduced to what the charts and table use. */
export interface MethodRun {
  method: string;
  seed: number | null;
  /** The stage's training-run directory name under stages/, when there is one. */
  stage: string | null;
  ranking: RankingFigures | null;
  /** Generation HR@1 (S-DPO parsing), when the generation protocol ran. */
  generationHr1: number | null;
}

/** An experiment's results. */
export interface ExperimentResults {
  name: string;
  runs: MethodRun[];
}

const isObject = (x: unknown): x is Record<string, unknown> =>
  typeof x === "object" && x !== null && !Array.isArray(x);

function rankingOf(metrics: Record<string, unknown>): RankingFigures | null {
  // The evaluator writes ranking.sum (summed log-prob); classic models may write ranking directly.
  const r = isObject(metrics.ranking) ? metrics.ranking : null;
  const figures = r && isObject(r.sum) ? r.sum : r;
  if (!figures || !isObject(figures.hr) || typeof figures.mrr !== "number") return null;
  return {
    hr: figures.hr as Record<string, number>,
    ndcg: (isObject(figures.ndcg) ? figures.ndcg : {}) as Record<string, number>,
    mrr: figures.mrr,
  };
}

/** Reads `dir/results.json` as written by the experiment runner. */
export async function readResults(dir: string): Promise<ExperimentResults> {
  const file = join(dir, "results.json");
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(file, "utf8"));
  } catch (error) {
    throw new UserError(`${file}: not valid JSON (${(error as Error).message})`);
  }
  if (!isObject(parsed) || !Array.isArray(parsed.rows))
    throw new UserError(`${file}: expected an object with a "rows" array`);
  const runs = parsed.rows.map((row, i): MethodRun => {
    if (!isObject(row) || !isObject(row.metrics))
      throw new UserError(`${file}: rows[${i}].metrics: expected an object`);
    const name = row.method ?? row.stage ?? row.name;
    if (typeof name !== "string")
      throw new UserError(`${file}: rows[${i}]: expected a "stage" or "method" name`);
    const gen = isObject(row.metrics.generation) ? row.metrics.generation : null;
    const sdpo = gen && isObject(gen.sdpo) ? gen.sdpo : null;
    return {
      method: name,
      seed: typeof row.seed === "number" ? row.seed : null,
      stage: typeof row.stage === "string" ? row.stage : null,
      ranking: rankingOf(row.metrics),
      generationHr1: sdpo && typeof sdpo.hr1 === "number" ? sdpo.hr1 : null,
    };
  });
  return { name: typeof parsed.name === "string" ? parsed.name : dir, runs };
}

/** What a directory holds: an experiment (results.json) or a training run (metrics.jsonl). */
export function reportKind(dir: string): "experiment" | "run" {
  if (existsSync(join(dir, "results.json"))) return "experiment";
  if (existsSync(join(dir, "metrics.jsonl"))) return "run";
  throw new UserError(
    `${dir}: neither an experiment (results.json) nor a training run (metrics.jsonl)`,
  );
}

/** Mean and sample standard deviation over seeds (shared with the experiment's results). */
export { meanStd } from "../eval/views.js";
