// One baseline stage of an experiment (Pop, SASRec, GRU4Rec, Caser): trained with trainBaseline on
// the experiment's prepared data, reused when its content hash is unchanged, continued when an
// interrupted run has the same config, and summarised in the runner's training-row shape.

import { existsSync } from "node:fs";
import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { readRunFile } from "../baselines/checkpoint.js";
import { type BaselineConfig, parseBaselineConfig } from "../baselines/config.js";
import type { Runtime } from "../graph/index.js";
import {
  type BaselineData,
  type BaselineSummary,
  loadBaselineData,
  trainBaseline,
} from "../train/baselines.js";
import { parseBaselineStage, type StageConfig } from "./config.js";

/** What the runner shares with a baseline stage. */
export interface BaselineStageContext {
  prepared: string;
  seed: number;
  runtime: Runtime;
  quiet: boolean;
  signal?: AbortSignal;
  /** Content hash of the prepared data (part of the stage's key). */
  dataKey: string;
  hash: (value: unknown) => string;
  doneKey: (dir: string) => Promise<string | null>;
  markDone: (dir: string, key: string) => Promise<void>;
  say: (line: string) => void;
  /** The train/valid splits, loaded once for every baseline stage. */
  data: () => Promise<BaselineData>;
}

/** A finished baseline stage: its run directory, key and what the training table shows. */
export interface BaselineStageResult {
  runDir: string;
  key: string;
  config: BaselineConfig;
  summary: BaselineSummary;
  /** Mean training loss per epoch (Pop: none). */
  curve: { step: number; loss: number }[];
}

/** Loads the data a baseline stage trains on, once per experiment run. */
export function lazyBaselineData(prepared: string): () => Promise<BaselineData> {
  let data: Promise<BaselineData> | null = null;
  return () => {
    data ??= loadBaselineData(prepared);
    return data;
  };
}

/** Trains (or reuses, or continues) one baseline stage under `runDir`. */
export async function runBaselineStage(
  stage: StageConfig,
  runDir: string,
  ctx: BaselineStageContext,
): Promise<BaselineStageResult> {
  const options = parseBaselineStage(stage, `stage "${stage.name}"`);
  const config = parseBaselineConfig(
    { seed: ctx.seed, ...options, kind: stage.baseline, data: ctx.prepared },
    `stage "${stage.name}"`,
  );
  const { data: _d, threads: _t, ...keyed } = config;
  const key = ctx.hash({ baseline: keyed, dataKey: ctx.dataKey });
  let summary: BaselineSummary;
  if ((await ctx.doneKey(runDir)) === key) {
    ctx.say("  unchanged, reused");
    summary = JSON.parse(await readFile(join(runDir, "summary.json"), "utf8")) as BaselineSummary;
  } else {
    const started = existsSync(join(runDir, "config.json"));
    const same =
      started &&
      (await readRunFile(runDir).then(
        (run) => JSON.stringify(run.config) === JSON.stringify(config),
        () => false, // not a baseline run of this config (e.g. the stage was an LM stage)
      ));
    if (started && !same) await rm(runDir, { recursive: true, force: true });
    if (started && same) ctx.say("  continuing the interrupted run");
    summary = await trainBaseline(config, {
      out: runDir,
      data: await ctx.data(),
      resume: started && same,
      quiet: ctx.quiet,
      runtime: ctx.runtime,
      signal: ctx.signal,
    });
    if (summary.interrupted)
      throw new Error(`stage ${stage.name} was interrupted; run the experiment again to continue`);
    await ctx.markDone(runDir, key);
  }
  return { runDir, key, config, summary, curve: await epochCurve(join(runDir, "metrics.jsonl")) };
}

/** The mean training loss of each epoch, from the run's validation lines. */
async function epochCurve(file: string): Promise<{ step: number; loss: number }[]> {
  if (!existsSync(file)) return [];
  return (await readFile(file, "utf8"))
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l))
    .filter((m) => m.split === "valid" && typeof m.trainLoss === "number")
    .map((m) => ({ step: m.step, loss: Number(m.trainLoss.toFixed(5)) }));
}
