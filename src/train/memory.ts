// A training run's memory plan: its estimated peak (frozen weights held as `weightsDtype` says,
// full fine-tuning's float32 masters and optimizer state), checked before loading.

import { existsSync } from "node:fs";
import { readManifest } from "../data/dataset.js";
import { loadLmConfig } from "../model/config.js";
import type { Projection } from "../model/names.js";
import { planRunMemory, type RunMemory } from "../model/run-memory.js";
import type { TrainConfig } from "./config.js";

/** Completion tokens assumed per answer in the estimate (item titles are short). */
const ANSWER_TOKENS = 16;

/** Item token rows a LoRA run trains (the catalog + `<item_unk>`); 0 without item tokens or
 *  when the dataset cannot be read yet (loading reports that with its own message). */
async function itemTokenRows(config: TrainConfig): Promise<number> {
  if (config.items !== "id" && config.items !== "hybrid") return 0;
  try {
    return (await readManifest(config.data)).items + 1;
  } catch {
    return 0;
  }
}

/** Estimates the run's peak memory from the checkpoint's headers and logs it; throws if it
 *  cannot fit. */
export async function planTrainMemory(
  config: TrainConfig,
  answers: number,
  log: (line: string) => void,
): Promise<RunMemory> {
  const modelDir = config.initModel ?? config.model;
  if (!existsSync(modelDir)) {
    // Loading reports a missing model with its own message.
    return {
      estimate: {
        weights: 0,
        resident: 0,
        loraOptimizer: 0,
        activations: 0,
        baseline: 0,
        total: 0,
      },
      line: "memory: not estimated (no model directory)",
      record: () => ({}),
    };
  }
  const predicted = answers * ANSWER_TOKENS;
  const memory = await planRunMemory(modelDir, await loadLmConfig(modelDir), config.weightsDtype, {
    batch: config.batchSize,
    tokens: config.maxPromptTokens + predicted,
    predicted,
    training: true,
    lora: config.lora
      ? {
          r: config.lora.r,
          targets: config.lora.targets as Projection[],
          tokenRows: await itemTokenRows(config),
        }
      : undefined,
    full: !config.lora,
  });
  log(memory.line);
  return memory;
}
