// RecPO (Ouyang et al. 2025): S-DPO with an adaptive margin γ_k = λ·φ_p/φ_k inside each exponent,
// φ = the preference utility of an answer (rating over delay; see data/signals.ts). λ = 0 is S-DPO.

import { z } from "zod";
import { nonNegative } from "../io/schema.js";
import { defineObjective, firstK, need } from "./objective.js";
import { beta, negatives } from "./params.js";
import { softmaxPreferenceLoss } from "./sdpo.js";

export const recpo = defineObjective({
  name: "recpo",
  summary: "RecPO: S-DPO with rating/time-aware margins (Ouyang et al. 2025)",
  paper: "Ouyang et al. 2025",
  formula: "softplus(logsumexp_k (β(r_k − r_p) + γ_k)), γ_k = λ·φ_p/φ_k",
  params: z.strictObject({
    beta: beta(),
    negatives: negatives(),
    lambda: nonNegative().default(2).describe("margin strength λ (0: S-DPO)"),
  }),
  needsReference: true,
  negatives: (p) => p.negatives,
  inputs: {
    /** γ_k = λ·φ_p/φ_k for each answer (column 0, the chosen one's, is 0 and unused). */
    margins: (example, p, answers) => [
      0,
      ...example.phi.slice(1, answers).map((phi) => (p.lambda * example.phi[0]) / phi),
    ],
  },
  checkData(data, p) {
    if (p.lambda > 0 && !data.defaultSignals && !data.rated) {
      return `${data.data}: no example carries a rating, so every RecPO margin would come from default signals; prepare data with ratings, or pass --default-signals to accept that`;
    }
    return null;
  },
  loss(p, inputs) {
    const margins =
      p.lambda !== 0
        ? firstK(need(inputs.extra?.margins, "RecPO margins", "recpo"), p.negatives)
        : undefined;
    return softmaxPreferenceLoss("recpo", p, inputs, margins);
  },
});
