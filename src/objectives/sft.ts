// SFT: token-level cross-entropy on the answer (title + EOS), prompt masked — stage 1 of every
// preference recipe. `promptLoss` adds next-token loss on prompt tokens, as alpaca-lora's
// `train_on_inputs` (S-DPO's codebase descends from it; its default, like ours, masks the prompt):
// `items` on the history's item tokens only (SASRec's causal next-item signal inside the LM),
// `all` on every prompt token after the first. Tokens are averaged together (alpaca-lora's mean).

import { z } from "zod";
import { add, div, neg, reduceSum } from "../graph/index.js";
import { defineObjective } from "./objective.js";

/** Which prompt tokens SFT also trains on (see the header). */
export const PROMPT_LOSS_MODES = ["none", "items", "all"] as const;
export type PromptLossMode = (typeof PROMPT_LOSS_MODES)[number];

export const sft = defineObjective({
  name: "sft",
  summary: "supervised fine-tuning on the target title (stage 1)",
  paper: null,
  formula:
    "token-level cross-entropy on the answer (title + EOS), prompt masked (`promptLoss`: also history item tokens or all prompt tokens)",
  params: z.strictObject({
    // Optional, not defaulted: configs state every defaulted parameter, and every existing
    // `{type: sft}` config and saved run must keep reading as the answer-only loss it was.
    promptLoss: z
      .enum(PROMPT_LOSS_MODES)
      .optional()
      .describe(
        "also train on prompt tokens: none (the default: answer only), items (each history item token: needs items id|hybrid), all (every prompt token; alpaca-lora's train_on_inputs)",
      ),
  }),
  needsReference: false,
  negatives: () => 0,
  promptLoss: (params) => params.promptLoss ?? "none",
  loss(_params, { policyChosen, chosenLength, promptLogp, promptCount }) {
    const logp = promptLogp ? add(policyChosen, promptLogp) : policyChosen;
    const tokens = promptCount ? add(chosenLength, promptCount) : chosenLength;
    const metrics: Record<string, ReturnType<typeof div>> = {
      chosen_logp: policyChosen,
      chosen_logp_per_token: div(policyChosen, chosenLength),
    };
    if (promptLogp) metrics.prompt_logp = promptLogp;
    return { loss: div(neg(reduceSum(logp)), reduceSum(tokens)), metrics };
  },
});
