// Hugging Face `config.json` for LLaMA-family decoders (llama, mistral, qwen2) → a typed LmConfig
// (the way back, LmConfig → config.json, is config-json.ts).
// Defaults follow transformers' LlamaConfig / MistralConfig / Qwen2Config where a field is absent.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { UserError } from "../io/errors.js";

/** The model families this project runs. */
export const MODEL_TYPES = ["llama", "mistral", "qwen2"] as const;
export type ModelType = (typeof MODEL_TYPES)[number];

/** RoPE frequency scaling (`rope_scaling` / `rope_parameters`): none, linear, or Llama 3's. */
export type RopeScaling =
  | { type: "default" }
  | { type: "linear"; factor: number }
  | {
      type: "llama3";
      factor: number;
      lowFreqFactor: number;
      highFreqFactor: number;
      originalMaxPositionEmbeddings: number;
    };

/** A validated LLaMA-family configuration (HF field names in the comments). */
export interface LmConfig {
  modelType: ModelType; // model_type
  vocabSize: number; // vocab_size
  hiddenSize: number; // hidden_size
  numLayers: number; // num_hidden_layers
  numHeads: number; // num_attention_heads
  numKvHeads: number; // num_key_value_heads (default: num_attention_heads)
  headDim: number; // head_dim (default: hidden_size / num_attention_heads)
  intermediateSize: number; // intermediate_size
  ropeTheta: number; // rope_theta (or rope_parameters.rope_theta)
  ropeScaling: RopeScaling; // rope_scaling
  rmsNormEps: number; // rms_norm_eps
  tieWordEmbeddings: boolean; // tie_word_embeddings
  /** Biases on q/k/v projections: llama's attention_bias; always true for qwen2. */
  qkvBias: boolean;
  /** Bias on o_proj: llama's attention_bias; false for qwen2 and mistral. */
  oBias: boolean;
  /** Biases on gate/up/down: llama's mlp_bias. */
  mlpBias: boolean;
  maxPositionEmbeddings: number; // max_position_embeddings
  bosTokenId: number | null; // bos_token_id
  eosTokenIds: number[]; // eos_token_id (a number or a list)
  padTokenId: number | null; // pad_token_id
  initializerRange: number; // initializer_range
  /** Mistral/Qwen2 sliding-window attention size, or null (no window). */
  slidingWindow: number | null;
  /** The other fields of the source config.json, kept so that writing it back loses nothing. */
  extra: Record<string, unknown>;
}

/** A bad or unsupported config.json, naming the file and the field. */
export class ConfigError extends UserError {
  constructor(
    readonly file: string,
    readonly field: string | null,
    message: string,
  ) {
    super(`${file}${field === null ? "" : `: field "${field}"`}: ${message}`);
    this.name = "ConfigError";
  }
}

const DEFAULTS: Record<ModelType, { ropeTheta: number; rmsNormEps: number; maxPos: number }> = {
  llama: { ropeTheta: 10000, rmsNormEps: 1e-6, maxPos: 2048 },
  mistral: { ropeTheta: 10000, rmsNormEps: 1e-6, maxPos: 4096 * 32 },
  qwen2: { ropeTheta: 10000, rmsNormEps: 1e-6, maxPos: 32768 },
};

/** The `architectures` entry transformers expects for each family. */
export const ARCHITECTURES: Record<ModelType, string> = {
  llama: "LlamaForCausalLM",
  mistral: "MistralForCausalLM",
  qwen2: "Qwen2ForCausalLM",
};

/** The fields this module interprets; everything else is carried in `extra`. */
const KNOWN_FIELDS = new Set([
  "model_type",
  "architectures",
  "vocab_size",
  "hidden_size",
  "num_hidden_layers",
  "num_attention_heads",
  "num_key_value_heads",
  "head_dim",
  "intermediate_size",
  "rope_theta",
  "rope_scaling",
  "rope_parameters",
  "rms_norm_eps",
  "tie_word_embeddings",
  "attention_bias",
  "mlp_bias",
  "max_position_embeddings",
  "bos_token_id",
  "eos_token_id",
  "pad_token_id",
  "initializer_range",
  "hidden_act",
  "sliding_window",
  "use_sliding_window",
  "torch_dtype",
  "dtype",
  "use_cache",
  "attention_dropout",
]);

class Fields {
  constructor(
    readonly file: string,
    readonly json: Record<string, unknown>,
  ) {}

  fail(field: string, message: string): never {
    throw new ConfigError(this.file, field, message);
  }

  positiveInt(field: string, fallback?: number): number {
    const v = this.json[field];
    if (v === undefined || v === null) {
      if (fallback !== undefined) return fallback;
      this.fail(field, "is missing");
    }
    if (typeof v !== "number" || !Number.isInteger(v) || v <= 0) {
      this.fail(field, `must be a positive integer, got ${JSON.stringify(v)}`);
    }
    return v;
  }

  positiveNumber(field: string, fallback: number): number {
    const v = this.json[field];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== "number" || !Number.isFinite(v) || v <= 0) {
      this.fail(field, `must be a positive number, got ${JSON.stringify(v)}`);
    }
    return v;
  }

  bool(field: string, fallback: boolean): boolean {
    const v = this.json[field];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== "boolean") this.fail(field, `must be true or false, got ${JSON.stringify(v)}`);
    return v;
  }

  tokenId(field: string): number | null {
    const v = this.json[field];
    if (v === undefined || v === null) return null;
    if (typeof v !== "number" || !Number.isInteger(v) || v < 0) {
      this.fail(field, `must be a non-negative integer or null, got ${JSON.stringify(v)}`);
    }
    return v;
  }

  tokenIds(field: string): number[] {
    const v = this.json[field];
    if (v === undefined || v === null) return [];
    const list = Array.isArray(v) ? v : [v];
    for (const id of list) {
      if (typeof id !== "number" || !Number.isInteger(id) || id < 0) {
        this.fail(field, `must be a token id or a list of token ids, got ${JSON.stringify(v)}`);
      }
    }
    return list as number[];
  }
}

function parseRope(
  f: Fields,
  defaults: { ropeTheta: number },
): { theta: number; scaling: RopeScaling } {
  // transformers ≥ 4.56 folds rope_theta and rope_scaling into `rope_parameters`.
  const params = f.json.rope_parameters;
  const paramsObj =
    params !== null && typeof params === "object" && !Array.isArray(params)
      ? (params as Record<string, unknown>)
      : null;
  if (params !== undefined && params !== null && paramsObj === null) {
    f.fail("rope_parameters", "must be an object");
  }
  let theta = f.positiveNumber("rope_theta", defaults.ropeTheta);
  if (paramsObj !== null && paramsObj.rope_theta !== undefined) {
    const t = paramsObj.rope_theta;
    if (typeof t !== "number" || !(t > 0))
      f.fail("rope_parameters.rope_theta", "must be a positive number");
    theta = t;
  }
  const scalingField = f.json.rope_scaling != null ? "rope_scaling" : "rope_parameters";
  const raw = f.json.rope_scaling ?? paramsObj;
  if (raw === undefined || raw === null) return { theta, scaling: { type: "default" } };
  if (typeof raw !== "object" || Array.isArray(raw))
    f.fail(scalingField, "must be an object or null");
  const s = raw as Record<string, unknown>;
  const type = s.rope_type ?? s.type ?? "default";
  const num = (key: string, fallback?: number): number => {
    const v = s[key] ?? fallback;
    if (typeof v !== "number" || !(v > 0))
      f.fail(`${scalingField}.${key}`, `must be a positive number, got ${JSON.stringify(s[key])}`);
    return v;
  };
  switch (type) {
    case "default":
      return { theta, scaling: { type: "default" } };
    case "linear":
      return { theta, scaling: { type: "linear", factor: num("factor") } };
    case "llama3":
      return {
        theta,
        scaling: {
          type: "llama3",
          factor: num("factor"),
          lowFreqFactor: num("low_freq_factor", 1),
          highFreqFactor: num("high_freq_factor", 4),
          originalMaxPositionEmbeddings: num("original_max_position_embeddings", 8192),
        },
      };
    default:
      return f.fail(
        `${scalingField}.rope_type`,
        `unsupported RoPE scaling ${JSON.stringify(type)} (supported: default, linear, llama3)`,
      );
  }
}

/** Validates a parsed config.json object; `file` names it in errors. */
export function parseLmConfig(json: unknown, file = "config.json"): LmConfig {
  if (json === null || typeof json !== "object" || Array.isArray(json)) {
    throw new ConfigError(file, null, "is not a JSON object");
  }
  const f = new Fields(file, json as Record<string, unknown>);
  const modelType = f.json.model_type;
  if (typeof modelType !== "string" || !(MODEL_TYPES as readonly string[]).includes(modelType)) {
    f.fail(
      "model_type",
      `unsupported model type ${JSON.stringify(modelType)} (supported: ${MODEL_TYPES.join(", ")})`,
    );
  }
  const type = modelType as ModelType;
  const defaults = DEFAULTS[type];
  const act = f.json.hidden_act ?? "silu";
  if (act !== "silu")
    f.fail("hidden_act", `only "silu" (SwiGLU) is supported, got ${JSON.stringify(act)}`);

  const hiddenSize = f.positiveInt("hidden_size");
  const numHeads = f.positiveInt("num_attention_heads");
  const numKvHeads = f.positiveInt("num_key_value_heads", numHeads);
  if (numHeads % numKvHeads !== 0) {
    f.fail("num_key_value_heads", `${numKvHeads} does not divide num_attention_heads ${numHeads}`);
  }
  let headDim: number;
  if (f.json.head_dim === undefined || f.json.head_dim === null) {
    if (hiddenSize % numHeads !== 0) {
      f.fail(
        "hidden_size",
        `${hiddenSize} is not divisible by num_attention_heads ${numHeads} and head_dim is not given`,
      );
    }
    headDim = hiddenSize / numHeads;
  } else {
    headDim = f.positiveInt("head_dim");
  }
  if (headDim % 2 !== 0) f.fail("head_dim", `must be even for rotary embeddings, got ${headDim}`);
  const { theta, scaling } = parseRope(f, defaults);
  const attentionBias = type === "llama" ? f.bool("attention_bias", false) : false;
  // Qwen2Attention always has q/k/v biases and never an o_proj bias; Mistral has none.
  const qkvBias = type === "qwen2" ? true : attentionBias;
  const oBias = attentionBias;
  const mlpBias = type === "llama" ? f.bool("mlp_bias", false) : false;
  let slidingWindow: number | null = null;
  if (type === "mistral" && f.json.sliding_window != null)
    slidingWindow = f.positiveInt("sliding_window");
  if (type === "qwen2" && f.bool("use_sliding_window", false) && f.json.sliding_window != null) {
    slidingWindow = f.positiveInt("sliding_window");
  }
  const vocabSize = f.positiveInt("vocab_size");
  const config: LmConfig = {
    modelType: type,
    vocabSize,
    hiddenSize,
    numLayers: f.positiveInt("num_hidden_layers"),
    numHeads,
    numKvHeads,
    headDim,
    intermediateSize: f.positiveInt("intermediate_size"),
    ropeTheta: theta,
    ropeScaling: scaling,
    rmsNormEps: f.positiveNumber("rms_norm_eps", defaults.rmsNormEps),
    tieWordEmbeddings: f.bool("tie_word_embeddings", false),
    qkvBias,
    oBias,
    mlpBias,
    maxPositionEmbeddings: f.positiveInt("max_position_embeddings", defaults.maxPos),
    bosTokenId: f.tokenId("bos_token_id"),
    eosTokenIds: f.tokenIds("eos_token_id"),
    padTokenId: f.tokenId("pad_token_id"),
    initializerRange: f.positiveNumber("initializer_range", 0.02),
    slidingWindow,
    extra: Object.fromEntries(Object.entries(f.json).filter(([k]) => !KNOWN_FIELDS.has(k))),
  };
  for (const [field, id] of [
    ["bos_token_id", config.bosTokenId],
    ["pad_token_id", config.padTokenId],
    ...config.eosTokenIds.map((id) => ["eos_token_id", id] as const),
  ] as const) {
    if (id !== null && id >= vocabSize)
      f.fail(field, `token id ${id} is outside vocab_size ${vocabSize}`);
  }
  return config;
}

/** Reads and validates `DIR/config.json` (or a config file path ending in .json). */
export async function loadLmConfig(dirOrFile: string): Promise<LmConfig> {
  const file = dirOrFile.endsWith(".json") ? dirOrFile : join(dirOrFile, "config.json");
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    throw new ConfigError(
      file,
      null,
      `cannot read (${(error as NodeJS.ErrnoException).code ?? error})`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(file, null, `is not valid JSON (${(error as Error).message})`);
  }
  return parseLmConfig(json, file);
}

/** Per-token key/value width: num_key_value_heads × head_dim. */
export function kvDim(config: LmConfig): number {
  return config.numKvHeads * config.headDim;
}
