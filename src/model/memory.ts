// Memory accounting for a model run: an estimate of the peak (weights, resident graph copies,
// LoRA + optimizer state, activations) made before anything is loaded, the machine's available
// memory, and the measured peak, so a run that cannot fit stops with a clear error instead of
// being killed by the kernel.

import { readFileSync } from "node:fs";
import { freemem } from "node:os";
import { RuntimeFailure } from "../io/errors.js";
import type { LmConfig } from "./config.js";
import { HEAD_CHUNK_ROWS } from "./graph/params.js";
import { type Projection, parameterCount, projectionShape } from "./names.js";

/** What a run will hold in memory, in bytes, by part. */
export interface MemoryEstimate {
  /** The frozen weights as loaded into JavaScript (stored 16-bit or float32). */
  weights: number;
  /** ONNX Runtime's copy of the frozen weights in each compiled graph that holds them. */
  resident: number;
  /** Trained tensors' gradients and AdamW's two moments (float32), plus the LoRA factors
   *  themselves (full fine-tuning's weights are in `weights`). */
  loraOptimizer: number;
  /** Activations of the largest run (kept for the backward pass when training). */
  activations: number;
  /** Runtime, libraries and Node's own heap. */
  baseline: number;
  total: number;
}

/** The run an estimate is made for. */
export interface MemoryPlan {
  /** Bytes of the frozen weights once loaded (see `weightsBytes`). */
  weightsBytes: number;
  /** Compiled graphs that hold the frozen weights at the same time (default 1). */
  residentGraphs?: number;
  /** LoRA rank and adapted projections (training only), and the token rows trained with them
   *  (item tokens: PEFT trainable tokens, in the embedding and, untied, the LM head). */
  lora?: { r: number; targets: readonly Projection[]; tokenRows?: number };
  /** Full fine-tuning: every weight is trained (gradients and AdamW moments for each). */
  full?: boolean;
  /** Sequences per run, tokens per sequence (prompt + completions for scoring). */
  batch: number;
  tokens: number;
  /** Positions whose logits are computed (completion tokens); default `tokens`. */
  predicted?: number;
  /** Whether activations are kept for a backward pass. */
  training: boolean;
  /** Training keeps every layer's attention probabilities (not recomputed in the backward pass:
   *  the float32 path, see BoundModel.recomputeAttention). */
  attentionKept?: boolean;
}

/** Node + ONNX Runtime + libraries, measured at about 0.2 GiB on this code base. */
const BASELINE_BYTES = 0.25 * 2 ** 30;

/** Bytes of the frozen weights in memory: 2 per parameter stored 16-bit, else 4. */
export function weightsBytes(
  config: LmConfig,
  weightsDtype: "stored" | "float32",
  storedBytesPerParam = 2,
): number {
  return parameterCount(config) * (weightsDtype === "stored" ? storedBytesPerParam : 4);
}

/** LoRA parameters: r·(in + out) per adapted projection per layer. */
export function loraParameterCount(
  config: LmConfig,
  r: number,
  targets: readonly Projection[],
): number {
  let n = 0;
  for (const p of targets) {
    const [out, inp] = projectionShape(config, p);
    n += r * (out + inp);
  }
  return n * config.numLayers;
}

/**
 * Estimates a run's peak memory. Activations: float32 copies of one layer's weights and of one
 * chunk of the head (HEAD_CHUNK_ROWS rows), per-layer hidden states (training keeps ≈ 5·D + 2·I
 * floats per token per layer — the MLP's and norms' products are recomputed; inference one
 * layer's ≈ 6·D + 3·I), one layer's attention scores and probabilities (heads·T² each per
 * sequence, alive while that layer runs; training on float32 weights also keeps every layer's
 * probabilities, which the 16-bit path recomputes), plus the logits of the predicted positions
 * (and their softmax).
 */
export function estimateMemory(config: LmConfig, plan: MemoryPlan): MemoryEstimate {
  const D = config.hiddenSize;
  const I = config.intermediateSize;
  const L = config.numLayers;
  const T = plan.tokens;
  const perLayerTokens = plan.batch * T * (plan.training ? 5 * D + 2 * I : 6 * D + 3 * I) * 4;
  const probabilities = plan.batch * config.numHeads * T * T * 4;
  const attention = probabilities * (2 + (plan.training && plan.attentionKept ? L : 0));
  // float32 copies of 16-bit weights alive at once: one layer's and one head chunk's (embedding
  // rows are gathered in 16 bits, then cast).
  const vocabMatrix = config.vocabSize * D * 4;
  const layerWeights =
    ((parameterCount(config) - vocabMatrix / 4) / Math.max(1, L)) * 4 +
    Math.min(config.vocabSize, HEAD_CHUNK_ROWS) * D * 4;
  const logits = plan.batch * (plan.predicted ?? T) * config.vocabSize * 4 * 3;
  const activations =
    layerWeights + logits + attention + (plan.training ? L * perLayerTokens : perLayerTokens);
  const weights = plan.weightsBytes;
  const resident = plan.weightsBytes * (plan.residentGraphs ?? 1);
  const tokenMatrices = config.tieWordEmbeddings ? 1 : 2;
  const loraOptimizer = plan.lora
    ? (loraParameterCount(config, plan.lora.r, plan.lora.targets) +
        (plan.lora.tokenRows ?? 0) * D * tokenMatrices) *
      4 *
      4
    : plan.full
      ? parameterCount(config) * 4 * 3
      : 0;
  const total = weights + resident + loraOptimizer + activations + BASELINE_BYTES;
  return { weights, resident, loraOptimizer, activations, baseline: BASELINE_BYTES, total };
}

/** Memory the kernel can give this process now (MemAvailable; free memory where unknown). */
export function availableMemory(): number {
  try {
    const line = readFileSync("/proc/meminfo", "utf8")
      .split("\n")
      .find((l) => l.startsWith("MemAvailable:"));
    const kb = line ? Number(line.split(/\s+/)[1]) : Number.NaN;
    if (Number.isFinite(kb)) return kb * 1024;
  } catch {
    // Not Linux: fall through.
  }
  return freemem();
}

/** The process's peak resident memory so far, in bytes. */
export function peakRss(): number {
  return process.resourceUsage().maxRSS * 1024;
}

/** Bytes as GiB with two decimals. */
export function gib(bytes: number): string {
  return (bytes / 2 ** 30).toFixed(2);
}

/** One line describing an estimate, e.g. for a run's log. */
export function formatEstimate(e: MemoryEstimate): string {
  return `${gib(e.total)} GiB (weights ${gib(e.weights)}, resident in graphs ${gib(e.resident)}, LoRA + optimizer ${gib(e.loraOptimizer)}, activations ${gib(e.activations)}, runtime ${gib(e.baseline)})`;
}

/** An estimate as plain JSON numbers in GiB, for summary files. */
export function estimateJson(e: MemoryEstimate): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(e)) out[`${k}_gib`] = Number(gib(v));
  return out;
}

/** A run that will not fit in the machine's memory, found before loading. */
export class InsufficientMemoryError extends RuntimeFailure {
  constructor(what: string, needed: number, available: number, hint: string) {
    super(
      `${what}: needs about ${gib(needed)} GiB of memory, ${gib(available)} GiB available${hint ? `; ${hint}` : ""}`,
    );
    this.name = "InsufficientMemoryError";
  }
}

/** Throws InsufficientMemoryError when `needed` bytes exceed what is available. */
export function checkFits(
  what: string,
  needed: number,
  hint = "",
  available = availableMemory(),
): void {
  if (needed > available) throw new InsufficientMemoryError(what, needed, available, hint);
}
