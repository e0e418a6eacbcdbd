// The training recipe shared by every objective: setup (starting point, the examples the run
// visits, reference log-probs, programs, parameter store; session.ts) → steps (step.ts) with
// validation (validate.ts) and checkpoints (save.ts) on their schedule → a summary. Exact
// resume: the loop state, optimizer moments and trained tensors are all in the last checkpoint.

import { join } from "node:path";
import type { Runtime } from "../graph/index.js";
import { writeFileAtomic } from "../io/atomic.js";
import { startStepProgress } from "../io/progress.js";
import type { TrainConfig } from "./config.js";
import { TrainingError } from "./errors.js";
import { saveCheckpoint } from "./save.js";
import { setupSession, type TrainSession } from "./session.js";
import { previousValidation } from "./setup.js";
import { EpochOrder, trainStep } from "./step.js";
import { recordValidation, type ValidationResult, validate, writeMetric } from "./validate.js";

export { TrainingError, type ValidationResult };

export interface TrainOptions {
  /** Continue from RUN/checkpoints/last. */
  resume?: boolean;
  quiet?: boolean;
  runtime?: Runtime;
  /** Aborting stops after the current step with a checkpoint (Ctrl-C, SIGTERM); during setup,
   *  between batches of tokenization or reference scoring, leaving no run behind. */
  signal?: AbortSignal;
  /** Stop after this many optimizer steps in this call (tests of resume), keeping the schedule. */
  stopAfter?: number;
  /** Check the dataset files' sha256 against its manifest (default true; counts always are). */
  verify?: boolean;
}

export interface TrainSummary {
  runDir: string;
  objective: string;
  steps: number;
  totalSteps: number;
  examples: number;
  trainExamples: number;
  seconds: number;
  examplesPerSecond: number;
  lastLoss: number | null;
  valid: ValidationResult | null;
  bestStep: number | null;
  bestValidLoss: number | null;
  /** The best checkpoint's validation HR@1 (null: never validated). */
  bestValidHr1: number | null;
  interrupted: boolean;
  checkpoints: { last: string; best: string | null };
  /** Whether rerunning gives the same bits, and the settings that do (Runtime.reproducibility). */
  reproducibility: { bitIdentical: boolean; note: string };
}

/** Trains according to `config`, writing everything under `runDir`. */
export async function train(
  config: TrainConfig,
  runDir: string,
  options: TrainOptions = {},
): Promise<TrainSummary> {
  const session = await setupSession(config, runDir, options);
  const { state, totalSteps } = session;
  const progress = startStepProgress(
    `train ${config.objective.type}`,
    totalSteps,
    state.step,
    session.quiet,
    config.logEvery ?? undefined,
  );
  const orders = new EpochOrder(session.data.trainCount, config.seed);
  const accum = new Map<string, Float32Array>();
  for (const [name, p] of session.store.writable()) accum.set(name, new Float32Array(p.length));
  const started = performance.now();
  const elapsedBefore = state.elapsed;
  let lastLoss: number | null = null;
  let lastValid: ValidationResult | null = null;
  let interrupted = false;
  let stepsThisCall = 0;

  const finishedBefore = state.step >= totalSteps;
  while (state.step < totalSteps) {
    const { loss, entry } = await trainStep(session, orders, accum);
    stepsThisCall++;
    lastLoss = loss;
    state.elapsed = elapsedBefore + (performance.now() - started) / 1000;
    entry.elapsed_s = state.elapsed;
    await writeMetric(session, entry);
    progress.update(state.step, loss);

    const last = state.step === totalSteps;
    if (config.evalEvery > 0 && state.step % config.evalEvery === 0 && !last)
      lastValid = await validatePhase(session);
    if (config.saveEvery > 0 && state.step % config.saveEvery === 0 && !last)
      await saveCheckpoint(session, "last");
    const stop =
      options.signal?.aborted ||
      (options.stopAfter !== undefined && stepsThisCall >= options.stopAfter);
    if (stop && !last) {
      interrupted = true;
      break;
    }
  }
  progress.done();
  // A run resumed after it finished already validated at its end: no second validation line.
  if (finishedBefore) lastValid = await previousValidation<ValidationResult>(session.runDir);
  else if (!interrupted && config.evalExamples > 0) lastValid = await validatePhase(session);
  await saveCheckpoint(session, "last");
  return writeSummary(session, { lastLoss, lastValid, interrupted });
}

/** Validates and records the result (metrics line, best checkpoint). */
async function validatePhase(session: TrainSession): Promise<ValidationResult | null> {
  const v = await validate(session);
  if (v) await recordValidation(session, v);
  return v;
}

async function writeSummary(
  session: TrainSession,
  end: { lastLoss: number | null; lastValid: ValidationResult | null; interrupted: boolean },
): Promise<TrainSummary> {
  const { state, paths } = session;
  const seconds = state.elapsed;
  const summary: TrainSummary = {
    runDir: session.runDir,
    objective: session.config.objective.type,
    steps: state.step,
    totalSteps: session.totalSteps,
    examples: state.examples,
    trainExamples: session.data.trainCount,
    seconds,
    examplesPerSecond: seconds > 0 ? state.examples / seconds : 0,
    lastLoss: end.lastLoss,
    valid: end.lastValid,
    bestStep: state.bestStep,
    bestValidLoss: state.bestValidLoss,
    bestValidHr1: state.bestValidHr1 ?? null,
    interrupted: end.interrupted,
    checkpoints: { last: paths.last, best: state.bestStep === null ? null : paths.best },
    reproducibility: {
      bitIdentical: session.runtime.bitIdentical,
      note: session.runtime.reproducibility(),
    },
  };
  // The summary also records the memory estimate and the measured peak.
  const json = JSON.stringify({ ...summary, memory: session.memory.record() }, null, 2);
  await writeFileAtomic(join(session.runDir, "summary.json"), `${json}\n`);
  return summary;
}
