// The runtime option set (threads, execution provider, how frozen weights are held), declared
// once for every command and config: `--provider`, `--threads` and `--weights-dtype` come from here.

import { z } from "zod";
import { count } from "../io/schema.js";

export const PROVIDERS = ["cpu", "cuda"] as const;

export const WEIGHTS_DTYPES = ["stored", "float32"] as const;

/**
 * How frozen weights are held: as stored (F16/BF16 stay 16-bit, memory-mapped from the
 * checkpoint, cast per use) or float32. Trained weights are float32 whatever it says (full
 * fine-tuning decodes float32 master copies; `stored` then keeps only the frozen reference 16-bit).
 */
export const weightsDtypeSchema = z
  .enum(WEIGHTS_DTYPES, { error: `expected one of ${WEIGHTS_DTYPES.join(", ")}` })
  .default("stored")
  .describe(
    "frozen weights as stored (F16/BF16 stay 16-bit, memory-mapped from the checkpoint) or float32",
  );

export const runtimeOptionsSchema = z.strictObject({
  threads: count().nullable().default(null).describe("intra-op threads (default: all cores)"),
  provider: z
    .enum(PROVIDERS, { error: `expected one of ${PROVIDERS.join(", ")}` })
    .default("cpu")
    .describe("execution provider"),
  weightsDtype: weightsDtypeSchema,
});

export type RuntimeOptionValues = z.output<typeof runtimeOptionsSchema>;
