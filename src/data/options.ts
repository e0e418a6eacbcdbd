// The `data prepare` option set, declared once: every field with its default and description.
// `prefrec data prepare` builds its flags from it, an experiment's `data.prepare` is validated by
// it, and `prepareDataset` checks its options with it before reading any data.

import { z } from "zod";
import { count, countOrZero, nonNegative, num, parseOptions } from "../io/schema.js";
import { DataError } from "./errors.js";
import { DEFAULT_SIGNALS } from "./signals.js";
import { SOURCES } from "./sources/index.js";
import { DEFAULT_SYNTH } from "./synth.js";
import { DOMAINS } from "./types.js";

const number = num;

/** "8:1:1" (the CLI's form) or [8, 1, 1]. */
const userRatio = z.preprocess(
  (v) =>
    typeof v === "string" ? v.split(":").map((s) => (s.trim() === "" ? Number.NaN : Number(s))) : v,
  z.tuple([nonNegative(), nonNegative(), nonNegative()], {
    error: "expected three shares like 8:1:1",
  }),
);

/** Everything but where the data comes from and goes to (an experiment's `data.prepare`). */
export const prepareSettingsShape = {
  seed: countOrZero().default(42).describe("random seed"),
  split: z
    .enum(["users", "last", "time"])
    .default("users")
    .describe("users (8:1:1 users) | last (leave-last-out) | time (global cut)"),
  userRatio: userRatio
    .default([8, 1, 1])
    .describe("train:valid:test user shares for --split users"),
  timeValid: number()
    .default(0.8)
    .describe("time split: start of valid (Unix seconds, or a quantile in (0,1))"),
  timeTest: number()
    .default(0.9)
    .describe("time split: start of test (Unix seconds, or a quantile in (0,1))"),
  dedup: z
    .enum(["first", "last", "none"])
    .default("first")
    .describe("repeated user–item pairs: keep first | last | none"),
  ratingThreshold: number()
    .optional()
    .describe("keep only interactions rated at least r (positives)"),
  userCore: countOrZero().default(0).describe("k-core threshold for users"),
  itemCore: countOrZero().default(0).describe("k-core threshold for items"),
  minHistory: countOrZero().default(3).describe("minimum history items per example"),
  historyWindow: count().default(10).describe("history window (most recent items)"),
  candidates: z
    .number({ error: "expected a number" })
    .int({ error: "expected a whole number ≥ 2" })
    .min(2, { error: "expected a whole number ≥ 2" })
    .default(20)
    .describe("candidate list size (target + c−1 others)"),
  negatives: countOrZero().default(3).describe("negatives per example, drawn from the candidates"),
  negativeSampling: z
    .enum(["uniform", "popularity"])
    .default("uniform")
    .describe("uniform (S-DPO) | popularity"),
  candidateSampler: z
    .enum(["uniform", "sdpo", "given"])
    .optional()
    .describe("uniform | sdpo (S-DPO's Python rule) | given (sdpo files); default per source"),
  followCandidates: countOrZero()
    .default(0)
    .describe("RecPO: up to n of the user's real later items join the candidates"),
  chosen: z
    .enum(["next", "max-phi"])
    .default("next")
    .describe("target: next item | max-phi (RecPO)"),
  minTargetRating: number()
    .optional()
    .describe("RecPO: keep only examples whose target is rated at least r"),
  maxTrain: count().optional().describe("cap on train examples (seeded subsample)"),
  maxValid: count().optional().describe("cap on valid examples"),
  maxTest: count().optional().describe("cap on test examples"),
  domain: z.enum(DOMAINS).optional().describe("prompt domain (default from the source)"),
  templates: z
    .string()
    .optional()
    .describe("prompt template file (one per line; [HistoryHere] [CansHere] [NumCans])"),
  showRatings: z.boolean().default(false).describe('render history as "Title | Rating: 4"'),
  historySeparator: z
    .string()
    .default(", ")
    .describe("separator between history items (\\n for one per line)"),
  negativeRating: number()
    .default(DEFAULT_SIGNALS.negativeRating)
    .describe("RecPO default rating of unobserved items"),
  negativePosition: number()
    .default(DEFAULT_SIGNALS.negativePosition)
    .describe("RecPO default position of unobserved items"),
  implicitRating: number()
    .default(DEFAULT_SIGNALS.implicitRating)
    .describe("rating of observed items when the source has none"),
  columns: z
    .strictObject({
      user: z.string().optional(),
      item: z.string().optional(),
      rating: z.string().optional(),
      time: z.string().optional(),
    })
    .optional()
    .describe("csv: column names"),
  titleFile: z.string().optional().describe("csv: titles (id,title); sdpo/llara: id2name.txt"),
  metaFile: z.string().optional().describe("amazon/steam: metadata file with titles"),
  skipBad: z
    .boolean()
    .default(false)
    .describe("skip malformed rows (counted in the manifest) instead of failing"),
};

export const prepareOptionsSchema = z.strictObject({
  source: z.enum(SOURCES).describe("source format"),
  path: z.string().min(1).describe("input folder or file"),
  out: z.string().min(1).describe("dataset folder to write"),
  ...prepareSettingsShape,
  force: z.boolean().default(false).describe("replace a non-empty output folder"),
  quiet: z.boolean().default(false).describe("no progress output"),
});

/** All options of `data prepare`; every field but out/force/quiet is recorded in the manifest. */
export type PrepareOptions = Omit<z.output<typeof prepareOptionsSchema>, "source"> & {
  /** One of SOURCES (checked by the schema; typed loosely for callers holding a string). */
  source: string;
};

/** The defaults of every setting that has one (and of force/quiet). */
export const DEFAULT_PREPARE = {
  ...Object.fromEntries(
    Object.entries(prepareSettingsShape).flatMap(([key, field]) => {
      const r = (field as z.ZodType).safeParse(undefined);
      return r.success && r.data !== undefined ? [[key, r.data]] : [];
    }),
  ),
  force: false,
  quiet: false,
} as Omit<PrepareOptions, "source" | "path" | "out">;

/** Validates prepare options (before any data is read); a DataError names every bad field. */
export function parsePrepareOptions(input: unknown, where = "data prepare"): PrepareOptions {
  let o: PrepareOptions;
  try {
    o = parseOptions(prepareOptionsSchema, input, where);
  } catch (error) {
    throw new DataError((error as Error).message);
  }
  if (o.negatives > o.candidates - 1) {
    throw new DataError(
      `--negatives must be between 0 and candidates − 1 = ${o.candidates - 1}, got ${o.negatives} (each list holds the target and ${o.candidates - 1} others: lower --negatives, or raise --candidates to ${o.negatives + 1})`,
    );
  }
  if (o.followCandidates > 0 && o.candidateSampler === "sdpo")
    throw new DataError("--follow-candidates cannot be combined with --candidate-sampler sdpo");
  return o;
}

/** The synthetic world's settings (`data synth`, an experiment's `data.synth`). */
export const synthOptionsSchema = z.strictObject({
  users: count().default(DEFAULT_SYNTH.users).describe("number of users"),
  items: count().default(DEFAULT_SYNTH.items).describe("number of items"),
  seed: countOrZero().default(DEFAULT_SYNTH.seed).describe("random seed"),
  dim: count().default(DEFAULT_SYNTH.dim).describe("latent dimension"),
  genres: count()
    .max(12, { error: "expected at most 12" })
    .default(DEFAULT_SYNTH.genres)
    .describe("number of genres (at most 12)"),
  meanLength: count().default(DEFAULT_SYNTH.meanLength).describe("mean interactions per user"),
  minLength: count().default(DEFAULT_SYNTH.minLength).describe("fewest interactions per user"),
  drift: nonNegative().default(DEFAULT_SYNTH.drift).describe("taste drift over a user's sequence"),
  popularitySkew: nonNegative()
    .default(DEFAULT_SYNTH.popularitySkew)
    .describe("popularity skew of item choice"),
  temperature: nonNegative()
    .default(DEFAULT_SYNTH.temperature)
    .describe("choice temperature (Gumbel noise scale)"),
  ratingNoise: nonNegative().default(DEFAULT_SYNTH.ratingNoise).describe("rating noise (std)"),
  startTime: number().default(DEFAULT_SYNTH.startTime).describe("first timestamp (Unix seconds)"),
});
