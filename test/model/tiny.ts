// Tiny random models for tests, and a naive scorer (one full forward per prompt+completion).

import { Runtime, type Tensor } from "../../src/graph/index.js";
import { numberToBF16Bits, numberToF16Bits } from "../../src/io/float16.js";
import { packSequences } from "../../src/model/batch.js";
import type { LmConfig } from "../../src/model/config.js";
import type { BindOptions, FloatDType } from "../../src/model/graph/params.js";
import { forwardProgram } from "../../src/model/graph/programs.js";
import { initWeights } from "../../src/model/init.js";
import type { Weights } from "../../src/model/weights.js";

/** A 2-layer GQA llama (4 query heads over 2 kv heads); variants switch on biases and an untied head. */
export function tinyConfig(variant: Partial<LmConfig> = {}): LmConfig {
  return {
    modelType: "llama",
    vocabSize: 37,
    hiddenSize: 16,
    numLayers: 2,
    numHeads: 4,
    numKvHeads: 2,
    headDim: 4,
    intermediateSize: 24,
    ropeTheta: 10000,
    ropeScaling: { type: "default" },
    rmsNormEps: 1e-6,
    tieWordEmbeddings: true,
    qkvBias: false,
    oBias: false,
    mlpBias: false,
    maxPositionEmbeddings: 128,
    bosTokenId: 1,
    eosTokenIds: [2],
    padTokenId: 0,
    initializerRange: 0.3,
    slidingWindow: null,
    extra: {},
    ...variant,
  };
}

/** Seeded weights; biases (which init leaves at 0) get random values so they matter. */
export function tinyWeights(config: LmConfig, seed = 1): Weights {
  const weights = initWeights(config, seed);
  let s = seed * 7919;
  for (const [name, t] of weights) {
    if (name.endsWith(".bias") || name.endsWith("norm.weight")) {
      for (let i = 0; i < t.data.length; i++) {
        s = (s * 1103515245 + 12345) % 2147483648;
        t.data[i] += ((s / 2147483648) * 2 - 1) * 0.3;
      }
    }
  }
  return weights;
}

/** The probe's model: 67M parameters, 134 MB in BF16. */
export const probeConfig = tinyConfig({
  vocabSize: 16000,
  hiddenSize: 768,
  numLayers: 6,
  numHeads: 12,
  numKvHeads: 12,
  headDim: 64,
  intermediateSize: 2048,
  tieWordEmbeddings: false,
  initializerRange: 0.02,
});

export const testRuntime = new Runtime({ threads: 1 });

/** log softmax of one row, in float64. */
function logSoftmaxRow(row: ArrayLike<number>): number[] {
  let max = -Infinity;
  for (let i = 0; i < row.length; i++) max = Math.max(max, row[i]);
  let sum = 0;
  for (let i = 0; i < row.length; i++) sum += Math.exp(row[i] - max);
  const lse = max + Math.log(sum);
  return Array.from(row, (v) => v - lse);
}

/** Σ log p(completion | prompt) by running prompt+completion as one sequence, one at a time. */
export async function naiveScores(
  config: LmConfig,
  weights: Weights,
  prompts: number[][],
  completions: number[][][],
  options: BindOptions & { dtype?: FloatDType } = {},
): Promise<number[][]> {
  const program = forwardProgram(config, weights, options);
  const compiled = await testRuntime.compile(program.graph, { logits: program.outputs.logits });
  const out: number[][] = [];
  for (let b = 0; b < prompts.length; b++) {
    const row: number[] = [];
    for (const completion of completions[b]) {
      const sequence = [...prompts[b], ...completion];
      const packed = packSequences([sequence], "right", 0, options.dtype);
      const result = await compiled.run({
        ...program.model.feeds,
        ids: packed.ids,
        positions: packed.positions,
        mask: packed.mask,
      } as Record<string, Tensor>);
      const V = config.vocabSize;
      const logits = result.logits.data as Float32Array;
      let total = 0;
      completion.forEach((token, j) => {
        const at = prompts[b].length - 1 + j;
        total += logSoftmaxRow(logits.subarray(at * V, (at + 1) * V))[token];
      });
      row.push(total);
    }
    out.push(row);
  }
  return out;
}

/** The weights rounded to a 16-bit format and kept as bits (frozen 16-bit resident weights). */
export function storedWeights(weights: Weights, dtype: "bfloat16" | "float16"): Weights {
  const encode = dtype === "bfloat16" ? numberToBF16Bits : numberToF16Bits;
  const out: Weights = new Map();
  for (const [name, t] of weights) {
    const bits = Uint16Array.from(t.data, encode);
    out.set(name, { shape: t.shape, data: new Float32Array(0), stored: { dtype, bits } });
  }
  return out;
}
