// A training run's memory plan: how its frozen weights are held (LoRA runs keep a 16-bit base
// as stored; full fine-tuning needs float32) and its estimated peak, checked before loading.

import { existsSync } from "node:fs";
import type { WeightsDtype } from "../model/checkpoint.js";
import { loadLmConfig } from "../model/config.js";
import type { Projection } from "../model/names.js";
import { planRunMemory, type RunMemory } from "../model/run-memory.js";
import type { TrainConfig } from "./config.js";

/** Frozen weights of a run: the stored dtype when only LoRA factors are trained. */
export function trainWeightsDtype(config: TrainConfig): WeightsDtype {
  return config.lora ? "stored" : "float32";
}

/** Completion tokens assumed per answer in the estimate (item titles are short). */
const ANSWER_TOKENS = 16;

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
  const memory = await planRunMemory(
    modelDir,
    await loadLmConfig(modelDir),
    trainWeightsDtype(config),
    {
      batch: config.batchSize,
      tokens: config.maxPromptTokens + predicted,
      predicted,
      training: true,
      lora: config.lora
        ? { r: config.lora.r, targets: config.lora.targets as Projection[] }
        : undefined,
    },
  );
  log(memory.line);
  return memory;
}
