// A training run's configuration: one zod schema (every field with its default and description)
// that validates config files, experiment stages and the `train` flags alike; defaults filled
// in, it is written next to the run so that every result says exactly how it was produced.

import { z } from "zod";
import { runtimeOptionsSchema } from "../graph/options.js";
import { UserError } from "../io/errors.js";
import { count, countOrZero, nonNegative, parseOptions, positive } from "../io/schema.js";
import { PROJECTIONS } from "../model/names.js";
import { CANDIDATE_DISPLAYS, ITEM_REPRESENTATIONS } from "../model/tokenizer/items.js";
import { objectiveSchema } from "../objectives/index.js";

export const loraSchema = z.strictObject({
  r: count().default(8).describe("LoRA rank r"),
  alpha: positive().default(32).describe("LoRA alpha (scaling = alpha / r)"),
  dropout: nonNegative()
    .max(0.9, { error: "expected a number ≤ 0.9" })
    .default(0)
    .describe("LoRA dropout on the adapter input, training steps only"),
  targets: z
    .array(z.enum(PROJECTIONS as [string, ...string[]]))
    .nonempty()
    .default([...PROJECTIONS])
    .describe("projections to adapt"),
});

/** The settings of the training loop: the `train` flags and an experiment's training fields. */
export const trainOptionsShape = {
  lr: positive().default(1e-4).describe("peak learning rate (linear warmup, cosine decay)"),
  weightDecay: nonNegative().default(0).describe("AdamW decoupled weight decay"),
  hiddenDropout: nonNegative()
    .max(0.9, { error: "expected a number ≤ 0.9" })
    .default(0)
    .describe(
      "dropout on the token embeddings and each block's attention and MLP outputs, training steps only (regularizes models trained from scratch)",
    ),
  warmupRatio: nonNegative()
    .max(1, { error: "expected a number ≤ 1" })
    .default(0.05)
    .describe("share of steps for linear warmup"),
  maxGradNorm: positive().default(1).describe("global gradient-norm clipping"),
  batchSize: count().default(4).describe("examples per micro-batch"),
  gradAccum: count().default(1).describe("micro-batches per optimizer step"),
  epochs: positive().default(1).describe("passes over the training examples"),
  maxSteps: count()
    .nullable()
    .default(null)
    .describe("stop after n optimizer steps (overrides epochs)"),
  maxExamples: count().nullable().default(null).describe("use only the first n training examples"),
  maxPromptTokens: count().default(512).describe("longest prompt; longer ones keep their end"),
  items: z
    .enum(ITEM_REPRESENTATIONS)
    .nullable()
    .default(null)
    .describe(
      "items as titles, one added token each (id), or title + token (hybrid); default: the model's own",
    ),
  promptCandidates: z
    .enum(CANDIDATE_DISPLAYS)
    .nullable()
    .default(null)
    .describe(
      "items id|hybrid: prompts list the candidates (shown, the papers) or the history only (hidden: shorter prompts; candidates are only scored); default: the model's own",
    ),
  itemInit: z
    .string()
    .min(1)
    .nullable()
    .default(null)
    .describe(
      "items: id|hybrid: initialize the item tokens' embeddings from this SASRec run through a learned projection (LLaRA)",
    ),
  evalEvery: countOrZero().default(0).describe("validate every n steps (0: at the end only)"),
  selectBy: z
    .enum(["loss", "hr1"])
    .default("loss")
    .describe(
      "validation figure that picks the best checkpoint: loss (the papers) or HR@1 by candidate ranking (as the baselines; ties keep the earlier)",
    ),
  evalExamples: countOrZero()
    .default(200)
    .describe("validation examples (loss + HR@1 by ranking; 0: none)"),
  saveEvery: countOrZero()
    .default(0)
    .describe("write the last checkpoint every n steps (0: at the end)"),
  seed: z
    .number({ error: "expected a number" })
    .int({ error: "expected a whole number" })
    .default(0)
    .describe("seed for data order, LoRA init and dropout masks"),
  logEvery: count()
    .nullable()
    .default(null)
    .describe("without a terminal, a progress line every n steps (default: ~20 lines)"),
  recpoDefaultSignals: z
    .boolean()
    .default(false)
    .describe("RecPO on data without ratings: accept margins from default signals"),
  ...runtimeOptionsSchema.shape,
};

export const trainConfigSchema = z.strictObject({
  objective: objectiveSchema,
  /** Prepared dataset directory (`prefrec data prepare`). */
  data: z.string().min(1).describe("prepared dataset directory (prefrec data prepare)"),
  /** Base model directory (HF layout, with its tokenizer). */
  model: z.string().min(1).describe("base model directory (HF layout, with tokenizer)"),
  /** Adapter to start from (a previous LoRA stage's), or null. */
  initAdapter: z.string().nullable().default(null),
  /** Full model directory to start from (a previous full fine-tuning stage's), or null. */
  initModel: z.string().nullable().default(null),
  /** LoRA on a frozen base, or null for full fine-tuning. */
  lora: loraSchema.nullable().default(null),
  ...trainOptionsShape,
});

export type TrainConfig = z.infer<typeof trainConfigSchema>;

/** Settings that may differ when a run is resumed (they do not change its results). */
export const RESUMABLE_KEYS: readonly string[] = [
  "maxSteps",
  "threads",
  "provider",
  "logEvery",
  "saveEvery",
];

/** Validates a config object (`where`: the file or stage, for messages); one line per error. */
export function parseTrainConfig(input: unknown, where?: string): TrainConfig {
  const prefix = `${where ? `${where}: ` : ""}invalid training config`;
  const config = parseOptions(trainConfigSchema, input, prefix);
  if (config.initAdapter && !config.lora) {
    throw new UserError(`${prefix}: initAdapter needs lora (the adapter's settings come from it)`);
  }
  if (config.itemInit && config.items !== "id" && config.items !== "hybrid") {
    throw new UserError(
      config.items
        ? `${prefix}: itemInit (--item-init) initializes item tokens: it needs items: id or hybrid, got ${config.items}`
        : `${prefix}: itemInit (--item-init) initializes the item tokens a run adds: it needs items: id or hybrid (without items the run adds none)`,
    );
  }
  if (config.selectBy === "hr1" && config.evalExamples === 0) {
    throw new UserError(
      `${prefix}: selectBy: hr1 (--select-by) picks the checkpoint by validation HR@1: it needs evalExamples > 0, got 0 (no validation)`,
    );
  }
  if (config.promptCandidates === "hidden" && config.items === "title") {
    throw new UserError(
      `${prefix}: promptCandidates: hidden (--prompt-candidates) needs items: id or hybrid (title prompts always list the candidates), got items: title`,
    );
  }
  return config;
}
