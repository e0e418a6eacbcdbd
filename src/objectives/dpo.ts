// DPO (Rafailov et al. 2023, eq. 7): −log σ(β(r_p − r_n)) against the first negative.

import { z } from "zod";
import { mul, reduceMean, softplus, sub } from "../graph/index.js";
import { defineObjective, logRatios, reshapeB, rewardMetrics } from "./objective.js";
import { beta } from "./params.js";

export const dpo = defineObjective({
  name: "dpo",
  summary: "DPO against one negative (Rafailov et al. 2023)",
  paper: "Rafailov et al. 2023",
  formula: "softplus(β(r_n − r_p)), first negative",
  params: z.strictObject({ beta: beta() }),
  needsReference: true,
  negatives: () => 1,
  loss(p, inputs) {
    const { rChosen, rRejected } = logRatios(inputs, 1, "dpo");
    const chosenReward = mul(rChosen, p.beta);
    const rejectedReward = mul(rRejected, p.beta);
    const loss = softplus(sub(reshapeB(rejectedReward), chosenReward));
    return {
      loss: reduceMean(loss),
      metrics: rewardMetrics(chosenReward, rejectedReward, inputs.policyChosen),
    };
  },
});
