// The one evaluation entry point for a directory on disk (`prefrec eval`, experiments): check the
// report folder, load what the directory holds as a Recommender, run the protocols with
// progress, write the report (with memory.json: the memory estimate made before loading and the
// measured peak). The trainer's validation calls `evaluate` on its live model.

import { join } from "node:path";
import type { Example } from "../data/index.js";
import type { Runtime } from "../graph/index.js";
import { writeFileAtomic } from "../io/atomic.js";
import { UserError } from "../io/errors.js";
import { startProgress } from "../io/progress.js";
import type { WeightsDtype } from "../model/checkpoint.js";
import { loadLmConfig } from "../model/config.js";
import { checkBatchSize } from "../model/lm-recommender.js";
import { planRunMemory, type RunMemory } from "../model/run-memory.js";
import { applies, type EvalMetrics, evaluate, type Prediction, type Protocol } from "./evaluate.js";
import { type CheckpointChoice, checkTarget, loadRecommender, resolveModel } from "./load.js";
import { checkReportDir, type EvalReport, writeEvalReport } from "./report.js";

export interface EvaluateDirOptions {
  /** The prepared dataset and split the examples come from (recorded in the report). */
  data: string;
  split: string;
  /** Report folder; refused when it holds files unless `force`. */
  out: string;
  force?: boolean;
  /** Name in the report's table (default: the directory). */
  name?: string;
  checkpoint?: CheckpointChoice;
  adapter?: string;
  runtime?: Runtime;
  /** LMs: frozen weights as stored (default) or float32. */
  weightsDtype?: WeightsDtype;
  protocols?: readonly Protocol[];
  maxNewTokens?: number;
  maxPromptTokens?: number;
  batchSize?: number;
  quiet?: boolean;
}

export interface EvaluateDirResult {
  metrics: EvalMetrics;
  predictions: Prediction[];
  report: EvalReport;
  markdown: string;
}

/** Evaluates the run or model in `dir` on `examples` and writes the report to `options.out`. */
export async function evaluateDir(
  dir: string,
  examples: readonly Example[],
  options: EvaluateDirOptions,
): Promise<EvaluateDirResult> {
  if (examples.length === 0)
    throw new UserError(`${options.data}: the ${options.split} split has no examples`);
  const batchSize = checkBatchSize(options.batchSize ?? 8, "--batch-size");
  await checkReportDir(options.out, options.force ?? false);
  const quiet = options.quiet ?? false;
  const t0 = performance.now();
  const memory = await planMemory(dir, options, batchSize); // a run that cannot fit stops here
  if (memory && !quiet) process.stderr.write(`${memory.line}\n`);
  const loaded = await loadRecommender(dir, {
    checkpoint: options.checkpoint,
    adapter: options.adapter,
    runtime: options.runtime,
    maxPromptTokens: options.maxPromptTokens,
    weightsDtype: options.weightsDtype,
  });
  const { recommender } = loaded;
  try {
    const protocols = options.protocols;
    const used = loaded.model.checkpoint;
    if (!quiet && (options.checkpoint ?? "auto") === "auto" && used?.endsWith("last"))
      process.stderr.write(`${dir}: no best checkpoint (no validation ran); evaluating ${used}\n`);
    if (!quiet && protocols?.includes("catalog") && !applies(recommender, "catalog"))
      process.stderr.write(`${dir}: cannot score the whole catalog; protocol catalog skipped\n`);
    const bars = new Map<Protocol, ReturnType<typeof startProgress>>();
    let shown = 0;
    const { metrics, predictions } = await evaluate(recommender, examples, {
      protocols,
      maxNewTokens: options.maxNewTokens ?? 20,
      batchSize,
      onProgress: (p, done, total) => {
        let bar = bars.get(p);
        if (!bar) {
          bar = startProgress(`eval ${p}`, total, quiet);
          bars.set(p, bar);
          shown = 0;
        }
        bar.tick(done - shown);
        shown = done;
        if (done === total) bar.done();
      },
    });
    const report: EvalReport = {
      name: options.name ?? dir,
      model: { dir: loaded.model.dir, adapter: loaded.model.adapter },
      data: options.data,
      split: options.split,
      maxNewTokens: options.maxNewTokens ?? 20,
      metrics,
      seconds: (performance.now() - t0) / 1000,
      recommender: recommender.describe(),
    };
    const markdown = await writeEvalReport(options.out, report, predictions);
    if (memory) {
      const record = memory.record();
      const json = `${JSON.stringify(record, null, 2)}\n`;
      await writeFileAtomic(join(options.out, "memory.json"), json);
      if (!quiet)
        process.stderr.write(`memory: measured peak ${record.measuredPeakRssGib} GiB RSS\n`);
    }
    return { metrics, predictions, report, markdown };
  } finally {
    await recommender.dispose?.();
  }
}

/** Generated tokens assumed per answer in the estimate (generation protocols). */
const PREDICTED_TOKENS = 200;

/** A language model's memory estimate from its checkpoint's headers (null for baselines). */
async function planMemory(
  dir: string,
  options: EvaluateDirOptions,
  batch: number,
): Promise<RunMemory | null> {
  if ((await checkTarget(dir)) === "baseline-run") return null;
  const { modelDir } = await resolveModel(dir, options.checkpoint ?? "auto");
  return planRunMemory(modelDir, await loadLmConfig(modelDir), options.weightsDtype ?? "stored", {
    batch,
    tokens: (options.maxPromptTokens ?? 512) + PREDICTED_TOKENS,
    predicted: PREDICTED_TOKENS,
    training: false,
  });
}
