// The evaluation option set, declared once: `prefrec eval` builds its flags from it and an
// experiment's `evaluation` section is validated by it.

import { z } from "zod";
import { count } from "../io/schema.js";
import { PROTOCOLS } from "./evaluate.js";

export const SPLIT_NAMES = ["train", "valid", "test"] as const;

export const evalOptionsSchema = z.strictObject({
  split: z.enum(SPLIT_NAMES).default("test").describe("split to evaluate"),
  protocols: z
    .array(z.enum(PROTOCOLS, { error: `expected some of ${PROTOCOLS.join(", ")}` }))
    .nonempty({ error: "expected at least one protocol" })
    .default([...PROTOCOLS])
    .describe("comma-separated protocols"),
  maxExamples: count().optional().describe("evaluate only the first n examples"),
  maxNewTokens: count().default(20).describe("generation budget in tokens (S-DPO: 20)"),
  maxPromptTokens: count().default(512).describe("longest prompt; longer ones keep their end"),
  batchSize: count().default(8).describe("prompts per batch"),
});

export type EvalOptionValues = z.output<typeof evalOptionsSchema>;
