// S-DPO (Chen et al. 2024, eq. 8): −log σ(−log Σ_k exp(β(r_k − r_p))) over K negatives, computed
// as softplus(logsumexp_k β(r_k − r_p)) so that no exponent overflows.

import { z } from "zod";
import {
  add,
  mul,
  reduceLogSumExp,
  reduceMean,
  softplus,
  sub,
  unsqueeze,
  type Value,
} from "../graph/index.js";
import { defineObjective, logRatios, type ObjectiveInputs, rewardMetrics } from "./objective.js";
import { beta, negatives } from "./params.js";

/** S-DPO's loss with optional additive terms γ [B, K] inside each exponent (RecPO's margins). */
export function softmaxPreferenceLoss(
  name: string,
  p: { beta: number; negatives: number },
  inputs: ObjectiveInputs,
  margins?: Value,
) {
  const { rChosen, rRejected } = logRatios(inputs, p.negatives, name);
  const chosenReward = mul(rChosen, p.beta);
  const rejectedReward = mul(rRejected, p.beta);
  let exponents = sub(rejectedReward, unsqueeze(chosenReward, [1]));
  if (margins) exponents = add(exponents, margins);
  const loss = softplus(reduceLogSumExp(exponents, [1]));
  return {
    loss: reduceMean(loss),
    metrics: rewardMetrics(chosenReward, rejectedReward, inputs.policyChosen),
  };
}

export const sdpo = defineObjective({
  name: "sdpo",
  summary: "S-DPO: softmax DPO over K negatives (Chen et al. 2024)",
  paper: "Chen et al. 2024",
  formula: "softplus(logsumexp_k β(r_k − r_p)) = −log σ(−log Σ_k exp(β(r_k − r_p)))",
  params: z.strictObject({ beta: beta(), negatives: negatives() }),
  needsReference: true,
  negatives: (p) => p.negatives,
  loss: (p, inputs) => softmaxPreferenceLoss("sdpo", p, inputs),
});
