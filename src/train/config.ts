// A training run's configuration: validated with zod, defaults filled in, written next to the
// run so that every result says exactly how it was produced.

import { z } from "zod";
import { UserError } from "../io/errors.js";
import { PROJECTIONS } from "../model/names.js";
import { OBJECTIVE_TYPES, type Objective } from "../objectives/index.js";

const objective = z.discriminatedUnion("type", [
  z.object({ type: z.literal("sft") }).strict(),
  z.object({ type: z.literal("dpo"), beta: z.number().positive() }).strict(),
  z
    .object({
      type: z.literal("sdpo"),
      beta: z.number().positive(),
      negatives: z.number().int().min(1),
    })
    .strict(),
  z
    .object({
      type: z.literal("recpo"),
      beta: z.number().positive(),
      negatives: z.number().int().min(1),
      lambda: z.number().min(0),
    })
    .strict(),
  z.object({ type: z.literal("simpo"), beta: z.number().positive(), gamma: z.number() }).strict(),
  z
    .object({
      type: z.literal("dmpo"),
      beta: z.number().positive(),
      negatives: z.number().int().min(1),
    })
    .strict(),
  z.object({ type: z.literal("ipo"), tau: z.number().positive() }).strict(),
]);

const lora = z
  .object({
    r: z.number().int().positive().default(8),
    alpha: z.number().positive().default(32),
    dropout: z.number().min(0).max(0.9).default(0),
    targets: z
      .array(z.enum(PROJECTIONS as [string, ...string[]]))
      .nonempty()
      .default([...PROJECTIONS]),
  })
  .strict();

export const trainConfigSchema = z
  .object({
    objective,
    /** Prepared dataset directory (`prefrec data prepare`). */
    data: z.string().min(1),
    /** Base model directory (HF layout, with its tokenizer). */
    model: z.string().min(1),
    /** Adapter to start from (a previous LoRA stage's), or null. */
    initAdapter: z.string().nullable().default(null),
    /** Full model directory to start from (a previous full fine-tuning stage's), or null. */
    initModel: z.string().nullable().default(null),
    /** LoRA on a frozen base, or null for full fine-tuning. */
    lora: lora.nullable().default(null),
    lr: z.number().positive().default(1e-4),
    weightDecay: z.number().min(0).default(0),
    warmupRatio: z.number().min(0).max(1).default(0.05),
    maxGradNorm: z.number().positive().default(1),
    /** Examples per optimizer step = batchSize × gradAccum. */
    batchSize: z.number().int().positive().default(4),
    gradAccum: z.number().int().positive().default(1),
    epochs: z.number().positive().default(1),
    /** When set, the run stops after this many optimizer steps (overrides epochs). */
    maxSteps: z.number().int().positive().nullable().default(null),
    /** Use at most this many training examples (the first ones in file order), or all. */
    maxExamples: z.number().int().positive().nullable().default(null),
    maxPromptTokens: z.number().int().positive().default(512),
    /** Validate every N optimizer steps (0: only at the end). */
    evalEvery: z.number().int().min(0).default(0),
    /** Validation examples used (loss and HR@1 by candidate ranking). */
    evalExamples: z.number().int().min(0).default(200),
    /** Save the last checkpoint every N steps (0: only at the end). */
    saveEvery: z.number().int().min(0).default(0),
    seed: z.number().int().default(0),
    /** Without a terminal, print a progress line every N steps (null: about 20 lines per run). */
    logEvery: z.number().int().positive().nullable().default(null),
    /** RecPO on data without ratings: accept margins from the default signals. */
    recpoDefaultSignals: z.boolean().default(false),
    threads: z.number().int().positive().nullable().default(null),
    provider: z.enum(["cpu", "cuda"]).default("cpu"),
  })
  .strict();

export type TrainConfig = z.infer<typeof trainConfigSchema>;

/** Validates a config object; errors list every bad field. */
export function parseTrainConfig(input: unknown): TrainConfig {
  const result = trainConfigSchema.safeParse(input);
  if (!result.success)
    throw new UserError(`invalid training config:\n${z.prettifyError(result.error)}`);
  const config = result.data;
  if (config.initAdapter && !config.lora) {
    throw new UserError(
      "invalid training config: initAdapter needs lora (the adapter's settings come from it)",
    );
  }
  return config;
}

/** Default hyper-parameters of each objective (β = 1, K = 3, λ = 2 as the papers' scripts). */
export function defaultObjective(
  type: string,
  overrides: Partial<Record<string, number>> = {},
): Objective {
  const v = (name: string, fallback: number) => overrides[name] ?? fallback;
  switch (type) {
    case "sft":
      return { type };
    case "dpo":
      return { type, beta: v("beta", 1) };
    case "sdpo":
    case "dmpo":
      return { type, beta: v("beta", 1), negatives: v("negatives", 3) };
    case "recpo":
      return { type, beta: v("beta", 1), negatives: v("negatives", 3), lambda: v("lambda", 2) };
    case "simpo":
      return { type, beta: v("beta", 1), gamma: v("gamma", 2) };
    case "ipo":
      return { type, tau: v("tau", 0.1) };
    default:
      throw new UserError(`unknown objective "${type}" (one of ${OBJECTIVE_TYPES.join(", ")})`);
  }
}
