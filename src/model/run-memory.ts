// Memory accounting of one train or eval run: the estimate made from the checkpoint's headers
// before loading (and the refusal of a run that cannot fit), and the record with the measured
// peak that the run writes at its end.

import { planWeights, type WeightsDtype } from "./checkpoint.js";
import type { LmConfig } from "./config.js";
import {
  availableMemory,
  checkFits,
  estimateJson,
  estimateMemory,
  formatEstimate,
  type MemoryEstimate,
  peakRss,
} from "./memory.js";
import { type Projection, parameterCount } from "./names.js";

/** What a model directory's weights will be held as (`model info`, run summaries); full
 *  fine-tuning trains float32 masters of every weight whatever the stored format. */
export function describeWeights(
  dtypes: Record<string, number>,
  weightsDtype: WeightsDtype,
  full = false,
): string {
  const sixteen = (dtypes.BF16 ?? 0) + (dtypes.F16 ?? 0) > 0;
  const kinds = ["BF16", "F16"].filter((d) => dtypes[d]).join("/");
  if (full)
    return `float32 masters of every weight (trained)${sixteen && weightsDtype === "stored" ? `; the frozen reference keeps ${kinds} as stored (memory-mapped)` : ""}`;
  if (weightsDtype === "float32" || !sixteen) return "float32 in memory";
  return `${kinds} as stored (memory-mapped from the checkpoint, cast to float32 per use)${dtypes.F32 ? "; F32 tensors in memory" : ""}`;
}

/** The shape of the run whose memory is estimated. */
export interface RunShape {
  /** Sequences per run and tokens per sequence (prompt + answers). */
  batch: number;
  tokens: number;
  /** Completion tokens whose logits are computed. */
  predicted: number;
  training: boolean;
  lora?: { r: number; targets: readonly Projection[]; tokenRows?: number };
  /** Full fine-tuning: float32 master copies of every weight (decoded from a 16-bit checkpoint
   *  held as stored for the reference), their gradients and AdamW moments. */
  full?: boolean;
}

/** An estimate made before loading, to report with the measured peak at the end. */
export interface RunMemory {
  estimate: MemoryEstimate;
  /** One line for the run's log. */
  line: string;
  /** The record for summary.json: estimate by part and measured peak, in GiB. */
  record(): Record<string, unknown>;
}

/**
 * Estimates a run's peak memory from the checkpoint's headers and refuses (InsufficientMemory
 * error, before anything is loaded) a run that would not fit in the memory available now.
 */
export async function planRunMemory(
  modelDir: string,
  config: LmConfig,
  weightsDtype: WeightsDtype,
  shape: RunShape,
): Promise<RunMemory> {
  const plan = await planWeights(modelDir, config, weightsDtype);
  const sixteen = Boolean(plan.dtypes.BF16 || plan.dtypes.F16);
  // 16-bit stored weights stay in the checkpoint's files, memory-mapped: one shared copy. Full
  // fine-tuning adds float32 masters of them.
  const masters =
    shape.full && weightsDtype === "stored" && sixteen ? parameterCount(config) * 4 : 0;
  const estimate = estimateMemory(config, {
    weightsBytes: plan.bytes + masters,
    residentGraphs: 0,
    // The graphs recompute attention probabilities only where frozen weights stay 16-bit.
    attentionKept: !(weightsDtype === "stored" && sixteen && !shape.full),
    ...shape,
  });
  const available = availableMemory();
  checkFits(
    `${modelDir}: this run`,
    estimate.total,
    weightsDtype === "float32" && sixteen && !shape.full
      ? "--weights-dtype stored keeps 16-bit weights at half the size"
      : "use smaller batches or a machine with more memory",
    available,
  );
  return {
    estimate,
    line: `memory: estimated peak ${formatEstimate(estimate)}; ${(available / 2 ** 30).toFixed(2)} GiB available`,
    record: () => ({
      weightsDtype,
      held: describeWeights(plan.dtypes, weightsDtype, shape.full),
      estimated: estimateJson(estimate),
      measuredPeakRssGib: Number((peakRss() / 2 ** 30).toFixed(2)),
    }),
  };
}
