// SFT: token-level cross-entropy on the answer (title + EOS), prompt masked — stage 1 of every
// preference recipe.

import { z } from "zod";
import { div, neg, reduceSum } from "../graph/index.js";
import { defineObjective } from "./objective.js";

export const sft = defineObjective({
  name: "sft",
  summary: "supervised fine-tuning on the target title (stage 1)",
  paper: null,
  formula: "token-level cross-entropy on the answer (title + EOS), prompt masked",
  params: z.strictObject({}),
  needsReference: false,
  negatives: () => 0,
  loss(_params, { policyChosen, chosenLength }) {
    const tokens = reduceSum(chosenLength);
    return {
      loss: div(neg(reduceSum(policyChosen)), tokens),
      metrics: {
        chosen_logp: policyChosen,
        chosen_logp_per_token: div(policyChosen, chosenLength),
      },
    };
  },
});
