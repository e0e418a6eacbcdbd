// Training objectives as pure functions on per-example sequence log-probs (graph Values).
// Each maps one `Objective` to its paper's loss in a numerically stable form (softplus,
// log-sum-exp), plus the diagnostics people watch (rewards, margins, accuracies).

import {
  add,
  cast,
  div,
  greater,
  mul,
  neg,
  reduceLogSumExp,
  reduceMax,
  reduceMean,
  reduceSum,
  slice,
  softplus,
  square,
  sub,
  unsqueeze,
  type Value,
} from "../graph/index.js";

/** The training objectives; each variant's comment names its paper. */
export type Objective =
  /** Supervised fine-tuning: token-level cross-entropy on the answer (title + EOS). */
  | { type: "sft" }
  /** DPO (Rafailov et al. 2023, eq. 7): −log σ(β(r_p − r_n)), first negative. */
  | { type: "dpo"; beta: number }
  /** S-DPO (Chen et al. 2024, eq. 8): −log σ(−log Σ_k exp(β(r_k − r_p))). */
  | { type: "sdpo"; beta: number; negatives: number }
  /** RecPO (Ouyang et al. 2025): S-DPO with γ_k = λ·φ_p/φ_k inside each exponent. */
  | { type: "recpo"; beta: number; negatives: number; lambda: number }
  /** SimPO (Meng et al. 2024, eq. 6): reference-free, length-normalized, margin γ. */
  | { type: "simpo"; beta: number; gamma: number }
  /** DMPO (Bai et al. 2024): −log σ(β r_p − mean_k β r_k). */
  | { type: "dmpo"; beta: number; negatives: number }
  /** IPO (Azar et al. 2023, eq. 17): (h − 1/(2τ))², h on per-token mean log-ratios (as TRL). */
  | { type: "ipo"; tau: number };

export type ObjectiveType = Objective["type"];
export const OBJECTIVE_TYPES: readonly ObjectiveType[] = [
  "sft",
  "dpo",
  "sdpo",
  "recpo",
  "simpo",
  "dmpo",
  "ipo",
];

/** Whether an objective compares the answer with rejected ones (needs negatives). */
export function isPreference(o: Objective): boolean {
  return o.type !== "sft";
}

/** Whether an objective needs a reference model's log-probs. */
export function needsReference(o: Objective): boolean {
  return o.type !== "sft" && o.type !== "simpo";
}

/** Number of rejected answers per example the objective uses. */
export function negativesUsed(o: Objective): number {
  switch (o.type) {
    case "sft":
      return 0;
    case "dpo":
    case "simpo":
    case "ipo":
      return 1;
    default:
      return o.negatives;
  }
}

/** Per-example inputs: summed answer log-probs of policy and reference, and answer lengths. */
export interface ObjectiveInputs {
  /** log π_θ(chosen | prompt) [B] */
  policyChosen: Value;
  /** log π_θ(rejected_k | prompt) [B, K] (absent for SFT) */
  policyRejected?: Value;
  /** log π_ref(chosen | prompt) [B] */
  referenceChosen?: Value;
  /** log π_ref(rejected_k | prompt) [B, K] */
  referenceRejected?: Value;
  /** answer token counts [B] and [B, K] */
  chosenLength: Value;
  rejectedLength?: Value;
  /** RecPO margins γ_k = λ·φ_p/φ_k [B, K] */
  margins?: Value;
}

export interface ObjectiveOutput {
  /** Scalar loss (mean over the batch; SFT: mean over answer tokens). */
  loss: Value;
  /** Per-example diagnostics, each [B] (means are taken by the trainer). */
  metrics: Record<string, Value>;
}

function need<T>(value: T | undefined, what: string, o: Objective): T {
  if (value === undefined) throw new Error(`objective ${o.type} needs ${what}`);
  return value;
}

/** First K columns of [B, K'] rejected values. */
function firstK(x: Value, k: number): Value {
  return slice(x, 1, 0, k);
}

/** Builds the loss of an objective. */
export function objectiveLoss(o: Objective, inputs: ObjectiveInputs): ObjectiveOutput {
  const { policyChosen, chosenLength } = inputs;
  if (o.type === "sft") {
    const tokens = reduceSum(chosenLength);
    return {
      loss: div(neg(reduceSum(policyChosen)), tokens),
      metrics: {
        chosen_logp: policyChosen,
        chosen_logp_per_token: div(policyChosen, chosenLength),
      },
    };
  }
  const K = negativesUsed(o);
  const policyRejected = firstK(need(inputs.policyRejected, "rejected log-probs", o), K);
  const rejectedLength = firstK(need(inputs.rejectedLength, "rejected lengths", o), K);

  if (o.type === "simpo") {
    const chosen = mul(div(policyChosen, chosenLength), o.beta);
    const rejected = mul(div(policyRejected, rejectedLength), o.beta); // [B, 1]
    const logits = sub(sub(chosen, reshapeB(rejected)), o.gamma);
    return {
      loss: reduceMean(softplus(neg(logits))),
      metrics: rewardMetrics(chosen, rejected, policyChosen),
    };
  }

  const referenceChosen = need(inputs.referenceChosen, "reference log-probs", o);
  const referenceRejected = firstK(need(inputs.referenceRejected, "reference log-probs", o), K);
  const rChosen = sub(policyChosen, referenceChosen); // [B]
  const rRejected = sub(policyRejected, referenceRejected); // [B, K]

  if (o.type === "ipo") {
    const h = sub(div(rChosen, chosenLength), reshapeB(div(rRejected, rejectedLength)));
    return {
      loss: reduceMean(square(sub(h, 1 / (2 * o.tau)))),
      metrics: rewardMetrics(rChosen, rRejected, policyChosen),
    };
  }
  const chosenReward = mul(rChosen, o.beta);
  const rejectedReward = mul(rRejected, o.beta);
  let loss: Value;
  switch (o.type) {
    case "dpo":
      loss = softplus(sub(reshapeB(rejectedReward), chosenReward));
      break;
    case "sdpo":
    case "recpo": {
      // softplus(logsumexp_k (β(r_k − r_p) + γ_k)): −log σ(−log Σ exp(·)) without overflow.
      let exponents = sub(rejectedReward, unsqueeze(chosenReward, [1]));
      if (o.type === "recpo" && o.lambda !== 0)
        exponents = add(exponents, firstK(need(inputs.margins, "RecPO margins", o), K));
      loss = softplus(reduceLogSumExp(exponents, [1]));
      break;
    }
    case "dmpo":
      loss = softplus(sub(reduceMean(rejectedReward, [1]), chosenReward));
      break;
  }
  return {
    loss: reduceMean(loss),
    metrics: rewardMetrics(chosenReward, rejectedReward, policyChosen),
  };
}

/** [B, 1] → [B] */
function reshapeB(x: Value): Value {
  return reduceSum(x, [1]);
}

/** rewards/chosen, rewards/rejected (mean over negatives), margin to the best negative, accuracy. */
function rewardMetrics(chosen: Value, rejected: Value, policyChosen: Value): Record<string, Value> {
  const best = reduceMax(rejected, [1]);
  const accuracy = cast(greater(chosen, best), chosen.dtype);
  return {
    reward_chosen: chosen,
    reward_rejected: reduceMean(rejected, [1]),
    margin: sub(chosen, best),
    accuracy,
    chosen_logp: policyChosen,
  };
}
