// The runtime option set (threads, execution provider), declared once for every command and
// config: `--provider` and `--threads` come from this schema.

import { z } from "zod";
import { count } from "../io/schema.js";

export const PROVIDERS = ["cpu", "cuda"] as const;

export const runtimeOptionsSchema = z.strictObject({
  threads: count().nullable().default(null).describe("intra-op threads (default: all cores)"),
  provider: z
    .enum(PROVIDERS, { error: `expected one of ${PROVIDERS.join(", ")}` })
    .default("cpu")
    .describe("execution provider"),
});

export type RuntimeOptionValues = z.output<typeof runtimeOptionsSchema>;
