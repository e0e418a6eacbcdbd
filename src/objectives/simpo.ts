// SimPO (Meng et al. 2024, eq. 6): reference-free, length-normalized rewards with a target
// margin γ: −log σ(β·lp_w/|w| − β·lp_l/|l| − γ).

import { z } from "zod";
import { div, mul, neg, reduceMean, softplus, sub } from "../graph/index.js";
import { num } from "../io/schema.js";
import { defineObjective, rejected, reshapeB, rewardMetrics } from "./objective.js";
import { beta } from "./params.js";

export const simpo = defineObjective({
  name: "simpo",
  summary: "SimPO: reference-free, length-normalized, margin γ (Meng et al. 2024)",
  paper: "Meng et al. 2024",
  formula: "softplus(−(β·lp_w/\\|w\\| − β·lp_l/\\|l\\| − γ)), no reference",
  params: z.strictObject({
    beta: beta(),
    gamma: num().default(2).describe("target reward margin γ"),
  }),
  needsReference: false,
  negatives: () => 1,
  loss(p, inputs) {
    const { policyChosen, chosenLength } = inputs;
    const { policyRejected, rejectedLength } = rejected(inputs, 1, "simpo");
    const chosen = mul(div(policyChosen, chosenLength), p.beta);
    const rejectedReward = mul(div(policyRejected, rejectedLength), p.beta); // [B, 1]
    const logits = sub(sub(chosen, reshapeB(rejectedReward)), p.gamma);
    return {
      loss: reduceMean(softplus(neg(logits))),
      metrics: rewardMetrics(chosen, rejectedReward, policyChosen),
    };
  },
});
