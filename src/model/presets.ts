// Named model sizes for models trained from scratch. Parameter counts depend on the vocabulary:
// `parameterCount(presetConfig(name, {vocabSize}))` gives the exact number (see docs/model-io.md).
import type { LmConfig } from "./config.js";

/** The named sizes. */
export const PRESET_NAMES = ["tiny", "small", "base"] as const;
export type PresetName = (typeof PRESET_NAMES)[number];

/** The architecture part of a preset (everything but the tokenizer-dependent fields). */
export interface PresetDims {
  hiddenSize: number;
  numLayers: number;
  numHeads: number;
  numKvHeads: number;
  intermediateSize: number;
}

/** Dimensions of each preset; all use tied embeddings, head_dim = hidden / heads. */
export const PRESETS: Record<PresetName, PresetDims> = {
  // ≈1.19M parameters at vocab 8192 (0.79M of them the embedding).
  tiny: { hiddenSize: 96, numLayers: 4, numHeads: 4, numKvHeads: 2, intermediateSize: 256 },
  // ≈9.97M at vocab 8192.
  small: { hiddenSize: 256, numLayers: 10, numHeads: 8, numKvHeads: 4, intermediateSize: 768 },
  // ≈50.7M at vocab 8192 (SmolLM-like widths: 9 heads of 64, 3 kv heads).
  base: { hiddenSize: 576, numLayers: 13, numHeads: 9, numKvHeads: 3, intermediateSize: 1536 },
};

/** Token-dependent fields a preset needs, normally taken from the tokenizer. */
export interface PresetTokens {
  vocabSize: number;
  bosTokenId?: number | null;
  eosTokenIds?: number[];
  padTokenId?: number | null;
}

/** Whether `name` is a preset name. */
export function isPresetName(name: string): name is PresetName {
  return (PRESET_NAMES as readonly string[]).includes(name);
}

/** The full LmConfig (model_type llama) of a preset for a given vocabulary. */
export function presetConfig(name: PresetName, tokens: PresetTokens): LmConfig {
  const dims = PRESETS[name];
  return {
    modelType: "llama",
    vocabSize: tokens.vocabSize,
    hiddenSize: dims.hiddenSize,
    numLayers: dims.numLayers,
    numHeads: dims.numHeads,
    numKvHeads: dims.numKvHeads,
    headDim: dims.hiddenSize / dims.numHeads,
    intermediateSize: dims.intermediateSize,
    ropeTheta: 10000,
    ropeScaling: { type: "default" },
    rmsNormEps: 1e-5,
    tieWordEmbeddings: true,
    qkvBias: false,
    oBias: false,
    mlpBias: false,
    maxPositionEmbeddings: 2048,
    bosTokenId: tokens.bosTokenId ?? null,
    eosTokenIds: tokens.eosTokenIds ?? [],
    padTokenId: tokens.padTokenId ?? null,
    initializerRange: 0.02,
    slidingWindow: null,
    extra: {},
  };
}
