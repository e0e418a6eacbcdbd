// What an objective is: one unit with its parameter schema, paper, reference and negative needs,
// extra per-example inputs and loss. Each objective file exports one `ObjectiveDefinition`;
// `registry.ts` collects them, and the training config, CLI and README are derived from that.

import type { z } from "zod";
import {
  cast,
  greater,
  reduceMax,
  reduceMean,
  reduceSum,
  slice,
  sub,
  type Value,
} from "../graph/index.js";

/** Per-example inputs: summed answer log-probs of policy and reference, and answer lengths. */
export interface ObjectiveInputs {
  /** log π_θ(chosen | prompt) [B] */
  policyChosen: Value;
  /** log π_θ(rejected_k | prompt) [B, K] (absent for SFT) */
  policyRejected?: Value;
  /** log π_ref(chosen | prompt) [B] */
  referenceChosen?: Value;
  /** log π_ref(rejected_k | prompt) [B, K] */
  referenceRejected?: Value;
  /** answer token counts [B] and [B, K] */
  chosenLength: Value;
  rejectedLength?: Value;
  /** Summed log-probs [B] and counts [B] of the prompt tokens `promptLoss` selects (SFT option). */
  promptLogp?: Value;
  promptCount?: Value;
  /** The objective's own per-example inputs by name, each [B, K] (e.g. RecPO's margins). */
  extra?: Readonly<Record<string, Value>>;
}

export interface ObjectiveOutput {
  /** Scalar loss (mean over the batch; SFT: mean over answer tokens). */
  loss: Value;
  /** Per-example diagnostics, each [B] (means are taken by the trainer). */
  metrics: Record<string, Value>;
}

/** What an objective may read of one example: RecPO utilities φ of the target and each negative. */
export interface ExampleSignals {
  phi: readonly number[];
}

/** What an objective may check of the training data before the first step. */
export interface DataSummary {
  /** Whether any example's target carries a rating. */
  rated: boolean;
  /** The run accepts margins computed from default signals (`--default-signals`). */
  defaultSignals: boolean;
  /** The dataset directory, for messages. */
  data: string;
}

/** One objective: everything the trainer, the CLI and the docs need to know about it. */
export interface ObjectiveDefinition<S extends z.ZodObject = z.ZodObject> {
  /** The `type` in configs and the `prefrec train <name>` subcommand. */
  name: string;
  /** One line for `prefrec train --help`. */
  summary: string;
  /** The paper (and equation) the loss follows, or null (SFT). */
  paper: string | null;
  /** The loss per example as printed in the README's table. */
  formula: string;
  /** Parameters: each field with its default and `.describe()` text (it becomes a CLI flag). */
  params: S;
  /** Whether the loss uses a frozen reference model's log-probs. */
  needsReference: boolean;
  /** Rejected answers per example the loss uses (0: no preference pairs). */
  negatives(params: z.output<S>): number;
  /**
   * Extra per-example inputs by name: N = 1 + K numbers per example, column 0 (the chosen
   * answer's) unused, so they line up with the answers; the loss receives columns 1…K.
   */
  inputs?: Record<
    string,
    (example: ExampleSignals, params: z.output<S>, answers: number) => number[]
  >;
  /** Which prompt tokens also carry next-token loss (default none: the answer only). */
  promptLoss?(params: z.output<S>): "none" | "items" | "all";
  /** A message when the data cannot serve this objective with these parameters, else null. */
  checkData?(data: DataSummary, params: z.output<S>): string | null;
  /** Builds the loss on the per-example log-probs. */
  loss(params: z.output<S>, inputs: ObjectiveInputs): ObjectiveOutput;
}

/** Declares an objective, keeping its parameter type for the loss and the `Objective` union. */
export function defineObjective<S extends z.ZodObject>(
  definition: ObjectiveDefinition<S>,
): ObjectiveDefinition<S> {
  return definition;
}

/** A required input, or an error naming the objective. */
export function need<T>(value: T | undefined, what: string, objective: string): T {
  if (value === undefined) throw new Error(`objective ${objective} needs ${what}`);
  return value;
}

/** First K columns of [B, K'] rejected values. */
export function firstK(x: Value, k: number): Value {
  return slice(x, 1, 0, k);
}

/** [B, 1] → [B] */
export function reshapeB(x: Value): Value {
  return reduceSum(x, [1]);
}

/** The policy's rejected log-probs and lengths, first K columns (preference objectives). */
export function rejected(inputs: ObjectiveInputs, K: number, objective: string) {
  return {
    policyRejected: firstK(need(inputs.policyRejected, "rejected log-probs", objective), K),
    rejectedLength: firstK(need(inputs.rejectedLength, "rejected lengths", objective), K),
  };
}

/** Log-ratios r = log π_θ − log π_ref of the chosen [B] and the first K rejected [B, K] answers. */
export function logRatios(inputs: ObjectiveInputs, K: number, objective: string) {
  const { policyRejected } = rejected(inputs, K, objective);
  const referenceChosen = need(inputs.referenceChosen, "reference log-probs", objective);
  const referenceRejected = firstK(
    need(inputs.referenceRejected, "reference log-probs", objective),
    K,
  );
  return {
    rChosen: sub(inputs.policyChosen, referenceChosen),
    rRejected: sub(policyRejected, referenceRejected),
  };
}

/** rewards/chosen, rewards/rejected (mean over negatives), margin to the best negative, accuracy. */
export function rewardMetrics(
  chosen: Value,
  rejectedValues: Value,
  policyChosen: Value,
): Record<string, Value> {
  const best = reduceMax(rejectedValues, [1]);
  const accuracy = cast(greater(chosen, best), chosen.dtype);
  return {
    reward_chosen: chosen,
    reward_rejected: reduceMean(rejectedValues, [1]),
    margin: sub(chosen, best),
    accuracy,
    chosen_logp: policyChosen,
  };
}
