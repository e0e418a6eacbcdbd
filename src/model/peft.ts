// LoRA adapters in PEFT's format: adapter_config.json + adapter_model.safetensors with keys
// `base_model.model.<module>.lora_A.weight` ([r, in]) and `...lora_B.weight` ([out, r]), plus
// trainable token rows (peft-tokens.ts) and, when the vocabulary grew, the tokenizer files.
import { existsSync } from "node:fs";
import { copyFile, readFile } from "node:fs/promises";
import { join } from "node:path";
import { withAtomicDir, writeFileAtomic } from "../io/atomic.js";
import { UserError } from "../io/errors.js";
import { SafetensorsError, withSafetensors, writeSafetensors } from "../io/safetensors.js";
import type { LmConfig } from "./config.js";
import { PROJECTIONS, type Projection, projectionModule, projectionShape } from "./names.js";
import {
  parseTokenIndices,
  TOKEN_ROWS_KEY,
  type TokenRows,
  type TrainableTokens,
  tokenIndicesJson,
  tokenRowsKey,
} from "./peft-tokens.js";
import { TOKENIZER_FILES } from "./tokenizer/items.js";
import { type NamedTensor, sameShape } from "./weights.js";

/** One adapted module's low-rank factors: ΔW = scaling · B·A. */
export interface LoraPair {
  A: NamedTensor; // [r, in]
  B: NamedTensor; // [out, r]
}

/** LoRA factors keyed by module path, e.g. `model.layers.0.self_attn.q_proj`. */
export type LoraWeights = Map<string, LoraPair>;

/** The adapter_config.json fields this project reads and writes. */
export interface LoraAdapterConfig {
  r: number;
  loraAlpha: number;
  loraDropout: number;
  /** Module name suffixes, e.g. ["q_proj", "v_proj"]. */
  targetModules: string[];
  baseModelNameOrPath: string | null;
  /** rsLoRA scaling alpha/√r instead of alpha/r. */
  useRslora: boolean;
  /** Other fields of a loaded adapter_config.json, written back unchanged. */
  extra: Record<string, unknown>;
}

/** A bad adapter file, naming the file and the key or field. */
export class PeftError extends UserError {
  constructor(
    readonly file: string,
    message: string,
    readonly key?: string,
  ) {
    super(`${file}${key === undefined ? "" : `: "${key}"`}: ${message}`);
    this.name = "PeftError";
  }
}

const PREFIX = "base_model.model.";
/** `<module>.lora_A.weight`, with PEFT's optional adapter name (`lora_A.default.weight`). */
const KEY = /^base_model\.model\.(.+)\.lora_([AB])(?:\.[^.]+)?\.weight$/;

/** The multiplier of B·A: alpha/r (or alpha/√r with rsLoRA). */
export function loraScaling(
  config: Pick<LoraAdapterConfig, "r" | "loraAlpha" | "useRslora">,
): number {
  return config.useRslora ? config.loraAlpha / Math.sqrt(config.r) : config.loraAlpha / config.r;
}

/** PEFT key names of a module's factors, exactly as PEFT saves them. */
export function peftKeys(module: string): { A: string; B: string } {
  return { A: `${PREFIX}${module}.lora_A.weight`, B: `${PREFIX}${module}.lora_B.weight` };
}

/** The adapter_config.json object (keys understood by PEFT's LoraConfig). */
export function adapterConfigToJson(
  config: LoraAdapterConfig,
  tokens?: TrainableTokens,
): Record<string, unknown> {
  return {
    alpha_pattern: {},
    auto_mapping: null,
    base_model_name_or_path: config.baseModelNameOrPath,
    bias: "none",
    fan_in_fan_out: false,
    inference_mode: true,
    init_lora_weights: true,
    layers_pattern: null,
    layers_to_transform: null,
    modules_to_save: null,
    rank_pattern: {},
    revision: null,
    use_dora: false,
    ...config.extra,
    peft_type: "LORA",
    task_type: "CAUSAL_LM",
    r: config.r,
    lora_alpha: config.loraAlpha,
    lora_dropout: config.loraDropout,
    target_modules: [...config.targetModules],
    use_rslora: config.useRslora,
    trainable_token_indices: tokens && tokens.size > 0 ? tokenIndicesJson(tokens) : null,
  };
}

/** Validates an adapter_config.json object; unsupported LoRA variants are errors naming the field. */
export function parseAdapterConfig(json: unknown, file = "adapter_config.json"): LoraAdapterConfig {
  if (json === null || typeof json !== "object" || Array.isArray(json))
    throw new PeftError(file, "is not a JSON object");
  const j = json as Record<string, unknown>;
  const fail = (field: string, message: string): never => {
    throw new PeftError(file, message, field);
  };
  if (j.peft_type !== "LORA")
    fail("peft_type", `must be "LORA", got ${JSON.stringify(j.peft_type)}`);
  if (!Number.isInteger(j.r) || (j.r as number) <= 0)
    fail("r", `must be a positive integer, got ${JSON.stringify(j.r)}`);
  const alpha = j.lora_alpha ?? 8;
  if (typeof alpha !== "number" || !(alpha > 0))
    fail("lora_alpha", `must be a positive number, got ${JSON.stringify(alpha)}`);
  const dropout = j.lora_dropout ?? 0;
  if (typeof dropout !== "number" || dropout < 0 || dropout >= 1)
    fail("lora_dropout", `must be in [0, 1), got ${JSON.stringify(dropout)}`);
  const bias = j.bias ?? "none";
  if (bias !== "none") fail("bias", `only "none" is supported, got ${JSON.stringify(bias)}`);
  if (j.fan_in_fan_out === true) fail("fan_in_fan_out", "must be false for LLaMA-family models");
  if (j.use_dora === true) fail("use_dora", "DoRA adapters are not supported");
  for (const field of ["rank_pattern", "alpha_pattern"]) {
    const v = j[field];
    if (v != null && (typeof v !== "object" || Object.keys(v as object).length > 0))
      fail(field, "per-module ranks/alphas are not supported");
  }
  if (j.task_type != null && j.task_type !== "CAUSAL_LM")
    fail("task_type", `must be "CAUSAL_LM", got ${JSON.stringify(j.task_type)}`);
  let targets: string[];
  if (typeof j.target_modules === "string") targets = [j.target_modules];
  else if (Array.isArray(j.target_modules) && j.target_modules.every((t) => typeof t === "string"))
    targets = j.target_modules as string[];
  else
    targets = fail(
      "target_modules",
      `must be a list of module names, got ${JSON.stringify(j.target_modules)}`,
    );
  const base = j.base_model_name_or_path ?? null;
  if (base !== null && typeof base !== "string")
    fail("base_model_name_or_path", "must be a string or null");
  try {
    parseTokenIndices(j.trainable_token_indices);
  } catch (error) {
    fail("trainable_token_indices", (error as Error).message);
  }
  const mts = j.modules_to_save;
  if (mts != null && (!Array.isArray(mts) || mts.length > 0)) {
    fail("modules_to_save", "fully trained extra modules are not supported");
  }
  // Fields checked above or fixed on writing; the rest is carried along in `extra`.
  const known = new Set([
    "peft_type",
    "task_type",
    "r",
    "lora_alpha",
    "lora_dropout",
    "target_modules",
    "use_rslora",
    "base_model_name_or_path",
    "bias",
    "fan_in_fan_out",
    "use_dora",
    "rank_pattern",
    "alpha_pattern",
    "modules_to_save",
    "trainable_token_indices",
  ]);
  return {
    r: j.r as number,
    loraAlpha: alpha as number,
    loraDropout: dropout as number,
    targetModules: targets,
    baseModelNameOrPath: base as string | null,
    useRslora: j.use_rslora === true,
    extra: Object.fromEntries(Object.entries(j).filter(([k]) => !known.has(k))),
  };
}

function checkPair(file: string, module: string, pair: LoraPair, r: number): void {
  const keys = peftKeys(module);
  if (pair.A.shape.length !== 2 || pair.A.shape[0] !== r)
    throw new PeftError(file, `shape [${pair.A.shape}] is not [r=${r}, in]`, keys.A);
  if (pair.B.shape.length !== 2 || pair.B.shape[1] !== r)
    throw new PeftError(file, `shape [${pair.B.shape}] is not [out, r=${r}]`, keys.B);
  for (const [key, t] of [
    [keys.A, pair.A],
    [keys.B, pair.B],
  ] as const) {
    if (t.data.length !== t.shape[0] * t.shape[1])
      throw new PeftError(file, `has ${t.data.length} values for shape [${t.shape}]`, key);
  }
}

/**
 * Writes adapter_config.json and adapter_model.safetensors (F32, sorted keys) into `dir`
 * atomically; with `tokens`, their rows too, and with `tokenizerDir` its tokenizer files (an
 * adapter over a grown vocabulary is only usable with the tokenizer that grew it).
 */
export async function saveLoraAdapter(
  dir: string,
  config: LoraAdapterConfig,
  weights: LoraWeights,
  options: { overwrite?: boolean; tokens?: TrainableTokens; tokenizerDir?: string } = {},
): Promise<void> {
  const file = join(dir, "adapter_model.safetensors");
  const tensors: [string, NamedTensor][] = [];
  for (const module of [...weights.keys()].sort()) {
    const pair = weights.get(module)!;
    checkPair(file, module, pair, config.r);
    const keys = peftKeys(module);
    tensors.push([keys.A, pair.A], [keys.B, pair.B]);
  }
  for (const [module, t] of options.tokens ?? []) tensors.push([tokenRowsKey(module), t.rows]);
  tensors.sort((a, b) => (a[0] < b[0] ? -1 : 1));
  await withAtomicDir(
    dir,
    async (tmp) => {
      await writeFileAtomic(
        join(tmp, "adapter_config.json"),
        `${JSON.stringify(adapterConfigToJson(config, options.tokens), null, 2)}\n`,
      );
      await writeSafetensors(join(tmp, "adapter_model.safetensors"), tensors, { format: "pt" });
      const from = options.tokenizerDir;
      for (const name of from ? TOKENIZER_FILES : []) {
        if (existsSync(join(from!, name))) await copyFile(join(from!, name), join(tmp, name));
      }
    },
    { replace: options.overwrite ?? false },
  );
}

/** Reads an adapter directory; F16/BF16 factors are converted to float32. */
export async function loadLoraAdapter(
  dir: string,
): Promise<{ config: LoraAdapterConfig; weights: LoraWeights; tokens?: TrainableTokens }> {
  const configFile = join(dir, "adapter_config.json");
  let json: unknown;
  try {
    json = JSON.parse(await readFile(configFile, "utf8"));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new PeftError(
      configFile,
      code === "ENOENT" ? "does not exist" : `cannot be read (${(error as Error).message})`,
    );
  }
  const config = parseAdapterConfig(json, configFile);
  const file = join(dir, "adapter_model.safetensors");
  const parts = new Map<string, Partial<LoraPair>>();
  const indices = parseTokenIndices((json as Record<string, unknown>).trainable_token_indices);
  const rows = new Map<string, NamedTensor>();
  await withSafetensors(file, async (st) => {
    for (const key of st.names()) {
      const t = TOKEN_ROWS_KEY.exec(key);
      if (t !== null) {
        if (!indices?.has(t[1]))
          throw new PeftError(file, "token rows the config's trainable_token_indices lacks", key);
        rows.set(t[1], await st.readF32(key));
        continue;
      }
      const m = KEY.exec(key);
      if (m === null)
        throw new PeftError(
          file,
          "is not a LoRA key of the form base_model.model.<module>.lora_{A,B}.weight",
          key,
        );
      const [, module, which] = m;
      const part = parts.get(module) ?? {};
      if (part[which as "A" | "B"] !== undefined)
        throw new PeftError(file, `duplicate lora_${which} for module ${module}`, key);
      try {
        part[which as "A" | "B"] = await st.readF32(key);
      } catch (error) {
        if (error instanceof SafetensorsError) throw new PeftError(file, error.message, key);
        throw error;
      }
      parts.set(module, part);
    }
  }).catch((error) => {
    if (error instanceof SafetensorsError) throw new PeftError(file, error.message, error.tensor);
    throw error;
  });
  const weights: LoraWeights = new Map();
  for (const [module, part] of [...parts.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    const keys = peftKeys(module);
    if (part.A === undefined)
      throw new PeftError(file, `is missing (module ${module} has only lora_B)`, keys.A);
    if (part.B === undefined)
      throw new PeftError(file, `is missing (module ${module} has only lora_A)`, keys.B);
    const pair = { A: part.A, B: part.B };
    checkPair(file, module, pair, config.r);
    weights.set(module, pair);
  }
  if (!indices) return { config, weights };
  const tokens: TrainableTokens = new Map();
  for (const [module, ids] of indices) {
    const t = rows.get(module);
    // A head tied to the embedding has no tensor: PEFT's tied adapter saves nothing.
    if (t === undefined) {
      if (module === "lm_head" && indices.has("model.embed_tokens")) continue;
      throw new PeftError(
        file,
        "is missing (listed in trainable_token_indices)",
        tokenRowsKey(module),
      );
    }
    if (t.shape.length !== 2 || t.shape[0] !== ids.length)
      throw new PeftError(
        file,
        `shape [${t.shape}] is not [${ids.length}, hidden]`,
        tokenRowsKey(module),
      );
    tokens.set(module, { indices: ids, rows: t } satisfies TokenRows);
  }
  return { config, weights, tokens };
}

/** The projection a module path ends with, or null (e.g. `model.layers.3.mlp.up_proj` → up_proj). */
export function moduleProjection(module: string): Projection | null {
  const last = module.slice(module.lastIndexOf(".") + 1);
  return (PROJECTIONS as readonly string[]).includes(last) ? (last as Projection) : null;
}

/** Checks adapter factors against a model config: known modules, layer range, [r, in] / [out, r] shapes. */
export function validateLoraForModel(
  weights: LoraWeights,
  model: LmConfig,
  file = "adapter_model.safetensors",
): void {
  for (const [module, pair] of weights) {
    const keys = peftKeys(module);
    const m = /^model\.layers\.(\d+)\.(self_attn|mlp)\.(\w+)$/.exec(module);
    const projection = moduleProjection(module);
    if (
      m === null ||
      projection === null ||
      module !== projectionModule(Number(m[1]), projection)
    ) {
      throw new PeftError(file, `module ${module} is not a LLaMA projection`, keys.A);
    }
    const layer = Number(m[1]);
    if (layer >= model.numLayers)
      throw new PeftError(file, `layer ${layer} ≥ num_hidden_layers ${model.numLayers}`, keys.A);
    const [out, inp] = projectionShape(model, projection);
    const r = pair.A.shape[0];
    if (!sameShape(pair.A.shape, [r, inp]))
      throw new PeftError(file, `shape [${pair.A.shape}], the model needs [${r}, ${inp}]`, keys.A);
    if (!sameShape(pair.B.shape, [out, r]))
      throw new PeftError(file, `shape [${pair.B.shape}], the model needs [${out}, ${r}]`, keys.B);
  }
}
