// LmConfig → a transformers-loadable config.json (the reading side is config.ts).
import { join } from "node:path";
import { writeFileAtomic } from "../io/atomic.js";
import { ARCHITECTURES, type LmConfig, type RopeScaling } from "./config.js";

/** The config as a transformers-loadable config.json object. */
export function lmConfigToJson(config: LmConfig): Record<string, unknown> {
  const json: Record<string, unknown> = {
    ...config.extra,
    architectures: [ARCHITECTURES[config.modelType]],
    model_type: config.modelType,
    vocab_size: config.vocabSize,
    hidden_size: config.hiddenSize,
    intermediate_size: config.intermediateSize,
    num_hidden_layers: config.numLayers,
    num_attention_heads: config.numHeads,
    num_key_value_heads: config.numKvHeads,
    head_dim: config.headDim,
    hidden_act: "silu",
    max_position_embeddings: config.maxPositionEmbeddings,
    initializer_range: config.initializerRange,
    rms_norm_eps: config.rmsNormEps,
    rope_theta: config.ropeTheta,
    rope_scaling: ropeScalingToJson(config.ropeScaling),
    tie_word_embeddings: config.tieWordEmbeddings,
    bos_token_id: config.bosTokenId,
    eos_token_id:
      config.eosTokenIds.length === 1
        ? config.eosTokenIds[0]
        : config.eosTokenIds.length === 0
          ? null
          : config.eosTokenIds,
    pad_token_id: config.padTokenId,
    torch_dtype: "float32",
    use_cache: true,
  };
  if (config.modelType === "llama") {
    if (config.qkvBias !== config.oBias) {
      throw new Error(
        "a llama config cannot have q/k/v biases without an o_proj bias (attention_bias covers all four)",
      );
    }
    json.attention_bias = config.qkvBias;
    json.mlp_bias = config.mlpBias;
    json.attention_dropout = 0;
  } else if (config.modelType === "qwen2") {
    json.use_sliding_window = config.slidingWindow !== null;
    json.sliding_window = config.slidingWindow;
    json.attention_dropout = 0;
  } else {
    json.sliding_window = config.slidingWindow;
    json.attention_dropout = 0;
  }
  return json;
}

function ropeScalingToJson(s: RopeScaling): Record<string, unknown> | null {
  switch (s.type) {
    case "default":
      return null;
    case "linear":
      return { rope_type: "linear", factor: s.factor };
    case "llama3":
      return {
        rope_type: "llama3",
        factor: s.factor,
        low_freq_factor: s.lowFreqFactor,
        high_freq_factor: s.highFreqFactor,
        original_max_position_embeddings: s.originalMaxPositionEmbeddings,
      };
  }
}

/** Writes `DIR/config.json` atomically. */
export async function saveLmConfig(dir: string, config: LmConfig): Promise<void> {
  await writeFileAtomic(
    join(dir, "config.json"),
    `${JSON.stringify(lmConfigToJson(config), null, 2)}\n`,
  );
}
