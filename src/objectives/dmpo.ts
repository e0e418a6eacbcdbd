// DMPO (Bai et al. 2024): the mean over K negatives inside one sigmoid, −log σ(β r_p − mean_k β r_k).

import { z } from "zod";
import { mul, reduceMean, softplus, sub } from "../graph/index.js";
import { defineObjective, logRatios, rewardMetrics } from "./objective.js";
import { beta, negatives } from "./params.js";

export const dmpo = defineObjective({
  name: "dmpo",
  summary: "DMPO: mean over K negatives in one sigmoid (Bai et al. 2024)",
  paper: "Bai et al. 2024",
  formula: "softplus(mean_k β r_k − β r_p)",
  params: z.strictObject({ beta: beta(), negatives: negatives() }),
  needsReference: true,
  negatives: (p) => p.negatives,
  loss(p, inputs) {
    const { rChosen, rRejected } = logRatios(inputs, p.negatives, "dmpo");
    const chosenReward = mul(rChosen, p.beta);
    const rejectedReward = mul(rRejected, p.beta);
    const loss = softplus(sub(reduceMean(rejectedReward, [1]), chosenReward));
    return {
      loss: reduceMean(loss),
      metrics: rewardMetrics(chosenReward, rejectedReward, inputs.policyChosen),
    };
  },
});
