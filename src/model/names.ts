// Hugging Face parameter names and shapes of a LLaMA-family model, in canonical order.
import { kvDim, type LmConfig } from "./config.js";

/** The projections LoRA can target, with their HF module suffixes. */
export const ATTENTION_PROJECTIONS = ["q_proj", "k_proj", "v_proj", "o_proj"] as const;
export const MLP_PROJECTIONS = ["gate_proj", "up_proj", "down_proj"] as const;
export type Projection = (typeof ATTENTION_PROJECTIONS)[number] | (typeof MLP_PROJECTIONS)[number];
export const PROJECTIONS: readonly Projection[] = [...ATTENTION_PROJECTIONS, ...MLP_PROJECTIONS];

/** Module path of a projection in layer `layer`, e.g. `model.layers.0.self_attn.q_proj`. */
export function projectionModule(layer: number, projection: Projection): string {
  const block = (MLP_PROJECTIONS as readonly string[]).includes(projection) ? "mlp" : "self_attn";
  return `model.layers.${layer}.${block}.${projection}`;
}

/** [out, in] of a projection's weight. */
export function projectionShape(config: LmConfig, projection: Projection): [number, number] {
  const d = config.hiddenSize;
  const q = config.numHeads * config.headDim;
  switch (projection) {
    case "q_proj":
      return [q, d];
    case "k_proj":
    case "v_proj":
      return [kvDim(config), d];
    case "o_proj":
      return [d, q];
    case "gate_proj":
    case "up_proj":
      return [config.intermediateSize, d];
    case "down_proj":
      return [d, config.intermediateSize];
  }
}

/** Whether a projection carries a bias under this config. */
export function projectionHasBias(config: LmConfig, projection: Projection): boolean {
  if (projection === "q_proj" || projection === "k_proj" || projection === "v_proj")
    return config.qkvBias;
  if (projection === "o_proj") return config.oBias;
  return config.mlpBias;
}

/** Every parameter the config implies, name → shape, in the order checkpoints are written. */
export function expectedTensorShapes(config: LmConfig): Map<string, number[]> {
  const d = config.hiddenSize;
  const out = new Map<string, number[]>();
  out.set("model.embed_tokens.weight", [config.vocabSize, d]);
  for (let layer = 0; layer < config.numLayers; layer++) {
    out.set(`model.layers.${layer}.input_layernorm.weight`, [d]);
    for (const p of ATTENTION_PROJECTIONS) {
      const shape = projectionShape(config, p);
      out.set(`${projectionModule(layer, p)}.weight`, shape);
      if (projectionHasBias(config, p)) out.set(`${projectionModule(layer, p)}.bias`, [shape[0]]);
    }
    out.set(`model.layers.${layer}.post_attention_layernorm.weight`, [d]);
    for (const p of MLP_PROJECTIONS) {
      const shape = projectionShape(config, p);
      out.set(`${projectionModule(layer, p)}.weight`, shape);
      if (projectionHasBias(config, p)) out.set(`${projectionModule(layer, p)}.bias`, [shape[0]]);
    }
  }
  out.set("model.norm.weight", [d]);
  if (!config.tieWordEmbeddings) out.set("lm_head.weight", [config.vocabSize, d]);
  return out;
}

/** Parameter count implied by a config (tied embeddings counted once). */
export function parameterCount(config: LmConfig): number {
  let n = 0;
  for (const shape of expectedTensorShapes(config).values()) n += shape.reduce((a, b) => a * b, 1);
  return n;
}
