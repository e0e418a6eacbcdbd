// The training-step program: shared-prefix log-probs of the 1+K answers of each example (the
// prompt run once), the objective's loss, and the gradients of the trainable tensors.

import {
  crossEntropy,
  gather,
  grad,
  mul,
  neg,
  reduceSum,
  reshape,
  slice,
  type Value,
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
 * `margins`), and with an objective's `promptLoss` the flagged prompt targets
 * (`prompt_loss_index`/`_target` [M], `_owner` [B, M]: see prompt-loss.ts). With `withGradients` false it only
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
    // Only the M flagged prompt targets get LM-head logits (gathered from the prompt's hidden
    // states, not all B·Tp positions: the head over a 5k-token vocabulary dominates otherwise);
    // `prompt_loss_owner` [B, M] sums them back per example (a 0-weight dummy when M would be 0).
    const D = config.hiddenSize;
    const index = g.input("prompt_loss_index", "int64", ["M"]);
    const targets = g.input("prompt_loss_target", "int64", ["M"]);
    const owner = g.input("prompt_loss_owner", program.model.dtype, ["B", "M"]);
    const hidden = gather(reshape(program.promptHidden!, ["B*Tp", D]), index, 0); // [M, D]
    const tokenLogp = neg(crossEntropy(lmHead(program.model, hidden), targets, -100)); // [M]
    promptLogp = reduceSum(mul(owner, reshape(tokenLogp, [1, "M"])), [1]);
    promptCount = reduceSum(owner, [1]);
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
