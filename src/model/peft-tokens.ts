// PEFT's trainable token rows (LoraConfig.trainable_token_indices, PEFT ≥ 0.15): selected rows
// of `embed_tokens` (and of an untied `lm_head`) trained beside LoRA, everything else frozen.
// Format, as read in huggingface/peft src/peft/tuners/trainable_tokens/layer.py and
// src/peft/utils/other.py (TrainableTokensWrapper.adapter_state_dict):
// - adapter_model.safetensors holds, per wrapped module, the rows themselves (not a difference:
//   PEFT's forward index_copy's them over the base weight) as
//   `base_model.model.<module>.token_adapter.trainable_tokens_delta`, shape [n, hidden];
// - adapter_config.json's `trainable_token_indices` is a list (the input embedding) or a dict
//   {module name: ids}; a head tied to the embedding shares its rows and has no tensor of its
//   own (PEFT's tied adapter saves nothing).

import type { LmConfig } from "./config.js";
import { resizeVocab } from "./resize.js";
import { float32Of, type NamedTensor, type Weights } from "./weights.js";

/** Rows that replace the listed token ids of a module's weight. */
export interface TokenRows {
  /** Token ids, in the order of `rows`. */
  indices: number[];
  /** The replacement rows [indices.length, hidden]. */
  rows: NamedTensor;
}

/** Trainable token rows by module path (`model.embed_tokens`, `lm_head`). */
export type TrainableTokens = Map<string, TokenRows>;

/** The modules that may have token rows: the input embedding and the LM head. */
export const TOKEN_MODULES = ["model.embed_tokens", "lm_head"] as const;

/** The PEFT key of a module's rows (the adapter name removed, as PEFT saves). */
export const tokenRowsKey = (module: string): string =>
  `base_model.model.${module}.token_adapter.trainable_tokens_delta`;

/** `…token_adapter.trainable_tokens_delta`, with PEFT's optional adapter name. */
export const TOKEN_ROWS_KEY =
  /^base_model\.model\.(.+)\.token_adapter\.trainable_tokens_delta(?:\.[^.]+)?$/;

/** Feed name of a module's rows in a graph. */
export const tokenRowsFeed = (module: string): string => `${module}.trainable_tokens_delta`;

/** The module path a `trainable_token_indices` key names (PEFT matches by suffix), or null. */
export function tokenModuleOf(key: string): string | null {
  return TOKEN_MODULES.find((m) => m === key || m.endsWith(`.${key}`)) ?? null;
}

/**
 * Reads `trainable_token_indices` (absent/null: none): module path → ids. Throws a message
 * naming what is wrong (the caller adds the file and field).
 */
export function parseTokenIndices(value: unknown): Map<string, number[]> | null {
  if (value === undefined || value === null) return null;
  const ids = (v: unknown, what: string): number[] => {
    if (!Array.isArray(v) || v.length === 0 || !v.every((x) => Number.isSafeInteger(x) && x >= 0))
      throw new Error(`${what} must be a non-empty list of token ids`);
    if (new Set(v).size !== v.length) throw new Error(`${what} lists a token id twice`);
    return v as number[];
  };
  if (Array.isArray(value)) return new Map([["model.embed_tokens", ids(value, "the list")]]);
  if (typeof value !== "object") throw new Error("must be a list of token ids or {module: ids}");
  const out = new Map<string, number[]>();
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    const module = tokenModuleOf(key);
    if (module === null)
      throw new Error(`module "${key}" is not one of embed_tokens, lm_head (other layers: no)`);
    out.set(module, ids(v, `"${key}"`));
  }
  return out;
}

/** The `trainable_token_indices` value written for `tokens`: {embed_tokens: ids[, lm_head: ids]}. */
export function tokenIndicesJson(tokens: TrainableTokens): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const module of TOKEN_MODULES) {
    const t = tokens.get(module);
    if (t) out[module.slice(module.lastIndexOf(".") + 1)] = [...t.indices];
  }
  return out;
}

/** The modules whose rows a run trains: the embedding, and the head unless tied to it. */
export function tokenModules(config: LmConfig): string[] {
  return config.tieWordEmbeddings ? ["model.embed_tokens"] : [...TOKEN_MODULES];
}

/** Fresh token rows as PEFT initializes them (init_weights=True): copies of the current rows. */
export function initTokenRows(
  config: LmConfig,
  weights: Weights,
  indices: readonly number[],
): TrainableTokens {
  const tokens: TrainableTokens = new Map();
  const d = config.hiddenSize;
  for (const module of tokenModules(config)) {
    const w = weights.get(`${module}.weight`);
    if (!w) throw new Error(`initTokenRows: the model has no ${module}.weight`);
    const all = float32Of(w);
    const rows = new Float32Array(indices.length * d);
    indices.forEach((id, r) => {
      rows.set(all.subarray(id * d, (id + 1) * d), r * d);
    });
    tokens.set(module, { indices: [...indices], rows: { shape: [indices.length, d], data: rows } });
  }
  return tokens;
}

/** A deep copy (a frozen reference must not follow trained rows). */
export function cloneTokens(tokens: TrainableTokens | undefined): TrainableTokens | undefined {
  if (!tokens) return undefined;
  const out: TrainableTokens = new Map();
  for (const [m, t] of tokens)
    out.set(m, {
      indices: [...t.indices],
      rows: { shape: [...t.rows.shape], data: t.rows.data.slice() },
    });
  return out;
}

/**
 * Why `tokens` cannot apply to a model with `config`, or null: known modules, a head row set only
 * on an untied head, ids inside the vocabulary, [n, hidden] rows.
 */
export function tokenRowsProblem(tokens: TrainableTokens, config: LmConfig): string | null {
  for (const [module, t] of tokens) {
    if (!(TOKEN_MODULES as readonly string[]).includes(module))
      return `${tokenRowsKey(module)}: ${module} is not embed_tokens or lm_head`;
    if (module === "lm_head" && config.tieWordEmbeddings)
      return `${tokenRowsKey(module)}: lm_head rows, but the model ties lm_head to embed_tokens`;
    const bad = t.indices.find((id) => id >= config.vocabSize);
    if (bad !== undefined)
      return `${tokenRowsKey(module)}: token id ${bad} ≥ the model's vocabulary (${config.vocabSize})`;
    const [n, d] = t.rows.shape;
    if (t.rows.shape.length !== 2 || n !== t.indices.length || d !== config.hiddenSize)
      return `${tokenRowsKey(module)}: shape [${t.rows.shape}], expected [${t.indices.length}, ${config.hiddenSize}]`;
  }
  return null;
}

/**
 * The model a set of token rows needs: the vocabulary grown (new rows seeded, as
 * transformers' resize_token_embeddings draws them) so every id fits; unchanged when it does.
 */
export function growForTokens(
  config: LmConfig,
  weights: Weights,
  tokens: TrainableTokens | undefined,
): { config: LmConfig; weights: Weights } {
  let needed = config.vocabSize;
  for (const t of tokens?.values() ?? [])
    for (const id of t.indices) needed = Math.max(needed, id + 1);
  return needed > config.vocabSize ? resizeVocab(config, weights, needed, 0) : { config, weights };
}

/** Weights with the token rows written in (PEFT's merge: index_copy); inputs are not modified. */
export function mergeTokenRows(
  weights: Weights,
  tokens: TrainableTokens,
  config: LmConfig,
): Weights {
  const merged: Weights = new Map(weights);
  const d = config.hiddenSize;
  for (const [module, t] of tokens) {
    const name = `${module}.weight`;
    const w = weights.get(name);
    if (!w) throw new Error(`token rows for ${module}, but the model has no ${name}`);
    const data = Float32Array.from(float32Of(w));
    t.indices.forEach((id, r) => {
      data.set(t.rows.data.subarray(r * d, (r + 1) * d), id * d);
    });
    merged.set(name, { shape: [...w.shape], data });
  }
  return merged;
}
