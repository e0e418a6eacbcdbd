// Seeded random initialization, as transformers' LlamaPreTrainedModel._init_weights does it:
// Linear and Embedding weights ~ N(0, initializer_range), biases 0, RMSNorm weights 1, and the
// padding token's embedding row zeroed.
import { createRng } from "../io/rng.js";
import type { LmConfig } from "./config.js";
import { expectedTensorShapes } from "./names.js";
import { type Weights, zeros } from "./weights.js";

/** Random weights for `config`, fully determined by `seed` (tensors filled in canonical order). */
export function initWeights(config: LmConfig, seed: number): Weights {
  const rng = createRng(seed);
  const std = config.initializerRange;
  const weights: Weights = new Map();
  for (const [name, shape] of expectedTensorShapes(config)) {
    const t = zeros(shape);
    if (name.endsWith("norm.weight")) {
      t.data.fill(1);
    } else if (name.endsWith(".weight")) {
      for (let i = 0; i < t.data.length; i++) t.data[i] = rng.normal() * std;
    }
    if (name === "model.embed_tokens.weight" && config.padTokenId !== null) {
      const d = config.hiddenSize;
      t.data.fill(0, config.padTokenId * d, (config.padTokenId + 1) * d);
    }
    weights.set(name, t);
  }
  return weights;
}
