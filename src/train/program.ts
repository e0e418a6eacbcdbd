// The training-step program: shared-prefix log-probs of the 1+K answers of each example (the
// prompt run once), the objective's loss, and the gradients of the trainable tensors.

import {
  crossEntropy,
  grad,
  greater,
  neg,
  reduceSum,
  reshape,
  slice,
  type Value,
  where,
} from "../graph/index.js";
import type { LmConfig } from "../model/config.js";
import { lmHead } from "../model/graph/decoder.js";
import type { BindOptions } from "../model/graph/params.js";
import { type Program, sharedPrefixProgram } from "../model/graph/programs.js";
import type { Weights } from "../model/weights.js";
import {
  isPreference,
  needsReference,
  type ObjectiveSettings,
  objectiveInputNames,
  objectiveLoss,
  objectivePromptLoss,
} from "../objectives/index.js";

export interface StepProgram extends Program {
  /** Output names of the gradients, by trainable feed name. */
  gradientNames: Map<string, string>;
  metricNames: string[];
}

/**
 * Builds the step program. Extra inputs: `reference_logp` [B, N] (reference log-probs of the
 * answers, precomputed) and the objective's own inputs, each [B, N] in columns 1…K (RecPO's
 * `margins`), and with an objective's `promptLoss` `prompt_loss_mask` [B, Tp] (1 where a prompt
 * token is a target, see prompt-loss.ts). With `withGradients` false it only
 * computes the loss and metrics (validation).
 */
export function stepProgram(
  config: LmConfig,
  weights: Weights,
  objective: ObjectiveSettings,
  bind: BindOptions,
  withGradients = true,
): StepProgram {
  const program = sharedPrefixProgram(config, weights, bind);
  const g = program.graph;
  const logp = program.outputs.logp_sum; // [B, N]
  const count = program.outputs.token_count;
  const first = (x: Value) => reshape(slice(x, 1, 0, 1), ["B"]);
  const rest = (x: Value) => slice(x, 1, 1, "N");
  const preference = isPreference(objective);
  const reference = needsReference(objective)
    ? g.input("reference_logp", program.model.dtype, ["B", "N"])
    : undefined;
  // Extra inputs come as [B, N] (column 0, the chosen answer's, unused) so the shapes line up.
  const extra: Record<string, Value> = {};
  for (const name of objectiveInputNames(objective))
    extra[name] = rest(g.input(name, program.model.dtype, ["B", "N"]));
  let promptLogp: Value | undefined;
  let promptCount: Value | undefined;
  if (objectivePromptLoss(objective) !== "none") {
    // Prompt token t (t ≥ 1) predicted from position t−1's hidden state; unmasked targets → −100.
    const mask = g.input("prompt_loss_mask", program.model.dtype, ["B", "Tp"]);
    const ids = g.inputs.find((i) => i.name === "prompt_ids")!.value;
    const logits = lmHead(program.model, slice(program.promptHidden!, 1, 0, "Tp-1"));
    const targetMask = slice(mask, 1, 1, "Tp");
    const targets = where(
      greater(targetMask, 0.5),
      slice(ids, 1, 1, "Tp"),
      g.constant(-100, [], "int64"),
    );
    promptLogp = reduceSum(neg(crossEntropy(logits, targets, -100)), [1]);
    promptCount = reduceSum(targetMask, [1]);
  }
  const { loss, metrics } = objectiveLoss(objective, {
    promptLogp,
    promptCount,
    policyChosen: first(logp),
    chosenLength: first(count),
    policyRejected: preference ? rest(logp) : undefined,
    rejectedLength: preference ? rest(count) : undefined,
    referenceChosen: reference ? first(reference) : undefined,
    referenceRejected: reference ? rest(reference) : undefined,
    extra,
  });
  const outputs: Record<string, Value> = { loss };
  for (const [name, v] of Object.entries(metrics)) outputs[`metric:${name}`] = v;
  const gradientNames = new Map<string, string>();
  if (withGradients) {
    const names = [...program.model.trainable.keys()];
    if (names.length === 0) throw new Error("stepProgram: nothing is trainable");
    const grads = grad(loss, [...program.model.trainable.values()]);
    names.forEach((name, i) => {
      gradientNames.set(name, `grad:${name}`);
      outputs[`grad:${name}`] = grads[i];
    });
  }
  return { ...program, outputs, gradientNames, metricNames: Object.keys(metrics) };
}
