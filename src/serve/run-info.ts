// What the server reads from a training run besides its weights: the prepared dataset it was
// trained on (catalog and prompt templates) and its prompt-length limit.

import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";

/** `data` and `maxPromptTokens` from a run's config.json; nulls for a model directory. */
export async function runInfo(
  target: string,
): Promise<{ dataDir: string | null; maxPromptTokens: number | null }> {
  const file = join(target, "config.json");
  // A model directory's config.json is the model's (Hugging Face) config: only runs have checkpoints/.
  if (!existsSync(join(target, "checkpoints")) || !existsSync(file))
    return { dataDir: null, maxPromptTokens: null };
  const raw = JSON.parse(await readFile(file, "utf8")) as {
    data?: unknown;
    maxPromptTokens?: unknown;
    kind?: unknown;
    config?: { data?: unknown };
  };
  // A classic-baseline run (prefrec-baseline-run-1) nests its options under `config`.
  const config = typeof raw.kind === "string" && raw.config ? raw.config : raw;
  return {
    dataDir: typeof config.data === "string" ? config.data : null,
    maxPromptTokens:
      "maxPromptTokens" in config && typeof config.maxPromptTokens === "number"
        ? config.maxPromptTokens
        : null,
  };
}
