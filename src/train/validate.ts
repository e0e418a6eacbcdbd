// The validate phase: the objective's loss on the validation examples (the loss program, no
// dropout) and their ranking metrics through the one evaluator (eval/), over the policy as it
// stands; the best checkpoint follows the validation loss, as the papers do, or HR@1 (`selectBy`).

import { appendFile } from "node:fs/promises";
import { evaluate } from "../eval/evaluate.js";
import { LmRecommender } from "../model/lm-recommender.js";
import { saveCheckpoint } from "./save.js";
import type { TrainSession } from "./session.js";
import { feedsFor } from "./step.js";

export interface ValidationResult {
  step: number;
  loss: number;
  examples: number;
  hr1: number;
  hr3: number;
  hr5: number;
  ndcg5: number;
  mrr: number;
}

/** Validation loss and candidate-ranking metrics; null without validation examples. */
export async function validate(session: TrainSession): Promise<ValidationResult | null> {
  const { config, loss, data } = session;
  if (data.validSet.length === 0) return null;
  let lossSum = 0;
  for (let i = 0; i < data.validSet.length; i += config.batchSize) {
    const batch = data.validSet.slice(i, i + config.batchSize);
    const out = await loss.graph.run({
      ...loss.program.model.feeds,
      ...session.store.feeds(),
      ...feedsFor(session, batch),
    });
    lossSum += (out.loss.data[0] as number) * batch.length;
  }
  const policy = new LmRecommender(session.policy, session.tokenizer, {
    maxPromptTokens: config.maxPromptTokens,
  });
  const { metrics } = await evaluate(policy, data.validRaw, {
    protocols: ["ranking"],
    batchSize: Math.max(1, Math.floor(config.batchSize / 2)),
  });
  const m = metrics.ranking!.sum;
  return {
    step: session.state.step,
    loss: lossSum / data.validSet.length,
    examples: data.validSet.length,
    hr1: m.hr["1"],
    hr3: m.hr["3"],
    hr5: m.hr["5"],
    ndcg5: m.ndcg["5"],
    mrr: m.mrr,
  };
}

/** Appends one line to the run's metrics.jsonl. */
export async function writeMetric(
  session: TrainSession,
  entry: Record<string, unknown>,
): Promise<void> {
  await appendFile(session.paths.metrics, `${JSON.stringify(entry)}\n`);
}

/** Whether `v` beats the best validation so far under the run's `selectBy`. */
export function improves(
  v: Pick<ValidationResult, "loss" | "hr1">,
  best: { bestStep: number | null; bestValidLoss: number | null; bestValidHr1?: number | null },
  selectBy: "loss" | "hr1",
): boolean {
  if (best.bestStep === null) return true;
  return selectBy === "hr1"
    ? v.hr1 > (best.bestValidHr1 ?? Number.NEGATIVE_INFINITY)
    : best.bestValidLoss === null || v.loss < best.bestValidLoss;
}

/** Logs a validation, and keeps the best checkpoint when it improves under `selectBy`. */
export async function recordValidation(session: TrainSession, v: ValidationResult): Promise<void> {
  await writeMetric(session, { split: "valid", ...v });
  session.log(
    `step ${v.step}: valid loss ${v.loss.toFixed(4)}, HR@1 ${v.hr1.toFixed(4)} (${v.examples} examples)`,
  );
  const { state } = session;
  if (improves(v, state, session.config.selectBy)) {
    state.bestValidLoss = v.loss;
    state.bestValidHr1 = v.hr1;
    state.bestStep = v.step;
    await saveCheckpoint(session, "best");
  }
}
