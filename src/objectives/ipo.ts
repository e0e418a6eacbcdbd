// IPO (Azar et al. 2023, eq. 17): (h − 1/(2τ))², h = the gap of per-token-mean log-ratios (as TRL).

import { z } from "zod";
import { div, reduceMean, square, sub } from "../graph/index.js";
import { positive } from "../io/schema.js";
import { defineObjective, logRatios, rejected, reshapeB, rewardMetrics } from "./objective.js";

export const ipo = defineObjective({
  name: "ipo",
  summary: "IPO: squared loss on the log-ratio gap (Azar et al. 2023)",
  paper: "Azar et al. 2023",
  formula: "(h − 1/(2τ))², h = per-token-mean log-ratio gap (as TRL)",
  params: z.strictObject({ tau: positive().default(0.1).describe("IPO regularization τ") }),
  needsReference: true,
  negatives: () => 1,
  loss(p, inputs) {
    const { chosenLength } = inputs;
    const { rejectedLength } = rejected(inputs, 1, "ipo");
    const { rChosen, rRejected } = logRatios(inputs, 1, "ipo");
    const h = sub(div(rChosen, chosenLength), reshapeB(div(rRejected, rejectedLength)));
    return {
      loss: reduceMean(square(sub(h, 1 / (2 * p.tau)))),
      metrics: rewardMetrics(rChosen, rRejected, inputs.policyChosen),
    };
  },
});
