// Options of the classic baselines (Pop, SASRec, GRU4Rec, Caser): one zod schema that the CLI,
// config files, experiments and run directories (config.json) all go through.

import { z } from "zod";
import { UserError } from "../io/errors.js";

export const BASELINE_KINDS = ["pop", "sasrec", "gru4rec", "caser"] as const;
export type BaselineKind = (typeof BASELINE_KINDS)[number];

/** Every option of a baseline run; defaults follow the original papers' small-data settings. */
export const baselineConfigSchema = z
  .object({
    kind: z.enum(BASELINE_KINDS),
    /** Prepared dataset directory (prefrec data prepare). */
    data: z.string().min(1),
    /** SASRec only: `ce` (softmax over the catalog) or `bce` (one sampled negative per position). */
    loss: z.enum(["ce", "bce"]).default("ce"),
    hidden: z.number().int().positive().default(64),
    blocks: z.number().int().positive().default(2),
    heads: z.number().int().positive().default(1),
    dropout: z.number().min(0).lt(1).default(0.2),
    /** Longest input sequence (SASRec/GRU4Rec); 0: the longest training history. */
    maxLen: z.number().int().nonnegative().default(0),
    /** Caser: window L of last items, horizontal filters per height, vertical filters. */
    window: z.number().int().positive().default(5),
    hFilters: z.number().int().positive().default(16),
    vFilters: z.number().int().positive().default(4),
    lr: z.number().positive().default(1e-3),
    /** Adam's β2 (0.98 as in SASRec's reference code). */
    beta2: z.number().gt(0).lt(1).default(0.98),
    weightDecay: z.number().nonnegative().default(0),
    batchSize: z.number().int().positive().default(128),
    epochs: z.number().int().positive().default(200),
    /** Stop after this many validations without a better HR@1 (0: never stop early). */
    patience: z.number().int().nonnegative().default(10),
    /** Validation examples used for early stopping (0: all). */
    validExamples: z.number().int().nonnegative().default(0),
    seed: z.number().int().default(0),
    threads: z.number().int().positive().nullable().default(null),
  })
  .strict();

export type BaselineConfig = z.output<typeof baselineConfigSchema>;
export type BaselineConfigInput = z.input<typeof baselineConfigSchema>;

/**
 * Checks and completes a baseline config; throws one line naming the field on bad input (and its
 * command-line flag when `flags` is set: the values came from the command line).
 */
export function parseBaselineConfig(
  raw: unknown,
  where = "baseline config",
  flags = false,
): BaselineConfig {
  const result = baselineConfigSchema.safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0];
    const field = issue.path.join(".") || "(root)";
    const flag = flags ? ` (--${field.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)})` : "";
    throw new BaselineConfigError(`${where}: field ${field}${flag}: ${issue.message}`);
  }
  return result.data;
}

/** A bad baseline option or config file (exit code 2). */
export class BaselineConfigError extends UserError {
  constructor(message: string) {
    super(message);
    this.name = "BaselineConfigError";
  }
}
