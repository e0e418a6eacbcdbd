// A loaded language model: weights (+ optional LoRA adapter) with its compiled programs, for
// logits, completion scoring (shared prefix), and greedy or candidate-constrained generation.

import type { CompiledGraph } from "../graph/index.js";
import { Runtime, type Tensor } from "../graph/index.js";
import { type PaddingSide, packCompletions, packPrompts } from "./batch.js";
import { loadCheckpoint, type WeightsDtype } from "./checkpoint.js";
import type { LmConfig } from "./config.js";
import type { BindOptions, ItemProjection } from "./graph/params.js";
import {
  decodeStepProgram,
  forwardProgram,
  type Program,
  sharedPrefixProgram,
} from "./graph/programs.js";
import {
  type LoraAdapterConfig,
  type LoraWeights,
  loadLoraAdapter,
  loraScaling,
  PeftError,
  validateLoraForModel,
} from "./peft.js";
import { growForTokens, type TrainableTokens, tokenRowsProblem } from "./peft-tokens.js";
import { argmax, argmaxAmong, CandidateTrie, type TrieCursor } from "./trie.js";
import type { Weights } from "./weights.js";

export interface Adapter {
  weights: LoraWeights;
  config: LoraAdapterConfig;
  /** PEFT trainable token rows (trainable_token_indices), if any. */
  tokens?: TrainableTokens;
}

export interface LanguageModelOptions {
  runtime?: Runtime;
  adapter?: Adapter;
  /** How frozen tensors enter the graphs, on every provider: `constant` (default) keeps them
   *  resident in each compiled graph; `input` feeds them at every run and stays live (a trainer
   *  updating the arrays in place is seen by the next call). 16-bit stored weights are always
   *  resident. */
  weightsAs?: "constant" | "input";
  /** A training run's item projection (its arrays are read at every call, like `input`). */
  projection?: ItemProjection;
}

export interface ScoreResult {
  /** Σ log p(completion tokens | prompt), [prompt][completion]. */
  logpSum: number[][];
  /** Number of completion tokens, [prompt][completion]. */
  tokenCount: number[][];
}

export interface GenerateOptions {
  maxNewTokens: number;
  /** Generation stops at any of these (default: the config's eos ids). */
  eosIds?: readonly number[];
  /** Per prompt, tokenized candidates: decoding then always yields exactly one of them (whole,
   *  whatever maxNewTokens says). */
  candidates?: readonly (readonly (readonly number[])[])[];
  batchSize?: number;
}

export interface Generation {
  tokens: number[];
  /** Why decoding stopped. */
  stop: "eos" | "length";
  /** With candidates: the index of the candidate produced. */
  candidate?: number;
}

interface Compiled {
  program: Program;
  graph: CompiledGraph;
}

/** A language model ready to run: lazily compiles each program once. */
export class LanguageModel {
  readonly runtime: Runtime;
  readonly adapter?: Adapter;
  private readonly weightsAs: "constant" | "input";
  private readonly projection?: ItemProjection;
  private readonly compiled = new Map<string, Promise<Compiled>>();

  constructor(
    readonly config: LmConfig,
    readonly weights: Weights,
    options: LanguageModelOptions = {},
  ) {
    this.runtime = options.runtime ?? new Runtime();
    this.adapter = options.adapter;
    this.weightsAs = options.weightsAs ?? "constant";
    this.projection = options.projection;
    if (this.adapter) validateLoraForModel(this.adapter.weights, config);
    const problem = this.adapter?.tokens && tokenRowsProblem(this.adapter.tokens, config);
    if (problem) throw new PeftError("adapter_model.safetensors", problem);
  }

  /** Loads a Hugging Face model directory, and optionally a PEFT adapter directory. */
  static async load(
    dir: string,
    options: { adapter?: string; runtime?: Runtime; weightsDtype?: WeightsDtype } = {},
  ): Promise<LanguageModel> {
    const loaded = await loadCheckpoint(dir, { weightsDtype: options.weightsDtype ?? "stored" });
    const adapter = options.adapter ? await loadLoraAdapter(options.adapter) : undefined;
    // Token rows past the base's vocabulary: grow it first, as PEFT users call
    // resize_token_embeddings before loading such an adapter.
    const { config, weights } = growForTokens(loaded.config, loaded.weights, adapter?.tokens);
    return new LanguageModel(config, weights, { runtime: options.runtime, adapter });
  }

  /** Padding id used in batches (pad, else eos, else 0: padded positions are masked anyway). */
  get padId(): number {
    return this.config.padTokenId ?? this.config.eosTokenIds[0] ?? 0;
  }

  private bindOptions(): BindOptions {
    const lora = this.adapter
      ? { weights: this.adapter.weights, scaling: loraScaling(this.adapter.config) }
      : undefined;
    return {
      frozenAs: this.weightsAs,
      lora,
      tokens: this.adapter?.tokens,
      projection: this.projection,
    };
  }

  /** Releases every compiled program (each holds its own copy of the resident weights); the
   *  next call compiles again. Keeps the number of live graphs small on large models. */
  async releasePrograms(): Promise<void> {
    const entries = [...this.compiled.values()];
    this.compiled.clear();
    for (const entry of entries) await this.runtime.release((await entry).graph);
  }

  private program(key: string, build: () => Program): Promise<Compiled> {
    let entry = this.compiled.get(key);
    if (!entry) {
      entry = (async () => {
        const program = build();
        return { program, graph: await this.runtime.compile(program.graph, program.outputs) };
      })();
      this.compiled.set(key, entry);
    }
    return entry;
  }

  /** Logits [T, V] of one token sequence. */
  async logits(ids: readonly number[]): Promise<Tensor> {
    const { program, graph } = await this.program("forward", () =>
      forwardProgram(this.config, this.weights, this.bindOptions()),
    );
    const T = ids.length;
    if (T === 0) throw new Error("logits: no token ids");
    const out = await graph.run({
      ...program.model.feeds,
      ids: { data: BigInt64Array.from(ids.map(BigInt)), shape: [1, T] },
      positions: { data: BigInt64Array.from(ids.map((_, i) => BigInt(i))), shape: [1, T] },
      mask: { data: new Float32Array(T).fill(1), shape: [1, T] },
    });
    return { data: out.logits.data, shape: [T, this.config.vocabSize] };
  }

  /** Logits of the token after each prompt (one [V] row per prompt; the last position only). */
  async nextTokenLogits(
    prompts: readonly (readonly number[])[],
    options: { batchSize?: number } = {},
  ): Promise<Float32Array[]> {
    const { program, graph } = await this.program("last", () =>
      forwardProgram(this.config, this.weights, { ...this.bindOptions(), lastOnly: true }),
    );
    const V = this.config.vocabSize;
    const batchSize = options.batchSize ?? 8;
    const rows: Float32Array[] = [];
    for (let start = 0; start < prompts.length; start += batchSize) {
      // Left padding puts every prompt's last token at T−1.
      const packed = packPrompts(prompts.slice(start, start + batchSize), "left", this.padId);
      const out = await graph.run({
        ...program.model.feeds,
        ids: packed.prompt_ids,
        positions: packed.prompt_positions,
        mask: packed.prompt_mask,
      });
      const data = out.logits.data as Float32Array;
      for (let b = 0; b < packed.lengths.length; b++) rows.push(data.slice(b * V, (b + 1) * V));
    }
    return rows;
  }

  /** Log-probs of completions given prompts, each prompt run once for all its completions. */
  async score(
    prompts: readonly (readonly number[])[],
    completions: readonly (readonly (readonly number[])[])[],
    options: { batchSize?: number; padding?: PaddingSide } = {},
  ): Promise<ScoreResult> {
    if (prompts.length !== completions.length) {
      throw new Error(
        `score: ${prompts.length} prompts but ${completions.length} completion lists`,
      );
    }
    const { program, graph } = await this.program("score", () =>
      sharedPrefixProgram(this.config, this.weights, this.bindOptions()),
    );
    const batchSize = options.batchSize ?? 8;
    const result: ScoreResult = { logpSum: [], tokenCount: [] };
    for (let start = 0; start < prompts.length; start += batchSize) {
      const ps = prompts.slice(start, start + batchSize);
      const cs = completions.slice(start, start + batchSize);
      const packed = packPrompts(ps, options.padding ?? "left", this.padId);
      const { lengths, ...promptFeeds } = packed;
      const out = await graph.run({
        ...program.model.feeds,
        ...promptFeeds,
        ...packCompletions(cs, lengths, this.padId),
      });
      const N = out.logp_sum.shape[1];
      cs.forEach((list, b) => {
        const sums = out.logp_sum.data as Float32Array;
        const counts = out.token_count.data as Float32Array;
        result.logpSum.push(Array.from(sums.subarray(b * N, b * N + list.length)));
        result.tokenCount.push(Array.from(counts.subarray(b * N, b * N + list.length)));
      });
    }
    return result;
  }

  /** Greedy decoding with a KV cache; with candidates, constrained to them by a prefix trie. */
  async generate(
    prompts: readonly (readonly number[])[],
    options: GenerateOptions,
  ): Promise<Generation[]> {
    const batchSize = options.batchSize ?? 8;
    const out: Generation[] = [];
    for (let start = 0; start < prompts.length; start += batchSize) {
      out.push(
        ...(await this.generateBatch(
          prompts.slice(start, start + batchSize),
          options.candidates?.slice(start, start + batchSize),
          options,
        )),
      );
    }
    return out;
  }

  private async generateBatch(
    prompts: readonly (readonly number[])[],
    candidates: readonly (readonly (readonly number[])[])[] | undefined,
    options: GenerateOptions,
  ): Promise<Generation[]> {
    const c = this.config;
    const V = c.vocabSize;
    const eosIds = options.eosIds ?? c.eosTokenIds;
    if (eosIds.length === 0 && candidates) throw new Error("generate: candidates need an EOS id");
    const B = prompts.length;
    const cursors: (TrieCursor | null)[] = prompts.map((_, b) =>
      candidates ? new CandidateTrie(candidates[b], eosIds[0]).start() : null,
    );
    const results: Generation[] = prompts.map(() => ({ tokens: [], stop: "length" }));
    const done = new Array<boolean>(B).fill(false);

    // Settles a sequence whose cursor admits one path only: the rest is forced, no model call needed.
    const settleForced = (b: number) => {
      const cursor = cursors[b];
      if (!cursor || done[b]) return;
      const rest = cursor.forcedRest();
      if (rest === null) return;
      results[b].tokens.push(...rest);
      results[b].stop = "eos";
      results[b].candidate = cursor.remaining()[0];
      done[b] = true;
    };
    const choose = (b: number, logits: ArrayLike<number>, offset: number) => {
      const cursor = cursors[b];
      const token = cursor
        ? argmaxAmong(logits, offset, cursor.allowed())
        : argmax(logits, offset, V);
      cursor?.advance(token);
      if (eosIds.includes(token)) {
        results[b].stop = "eos";
        if (cursor) results[b].candidate = cursor.remaining()[0];
        done[b] = true;
      } else {
        results[b].tokens.push(token);
        // A candidate is never cut short: the limit applies to free generation only.
        if (!cursor && results[b].tokens.length >= options.maxNewTokens) done[b] = true;
      }
      return token;
    };

    for (let b = 0; b < B; b++) settleForced(b);
    if (done.every(Boolean) || (!candidates && options.maxNewTokens <= 0)) return results;

    // Prefill: left padding puts every prompt's last token at T−1.
    const prefill = await this.program("prefill", () =>
      forwardProgram(c, this.weights, { ...this.bindOptions(), keyValues: true, lastOnly: true }),
    );
    const packed = packPrompts(prompts, "left", this.padId);
    let out = await prefill.graph.run({
      ...prefill.program.model.feeds,
      ids: packed.prompt_ids,
      positions: packed.prompt_positions,
      mask: packed.prompt_mask,
    });
    const step = await this.program("decode", () =>
      decodeStepProgram(c, this.weights, this.bindOptions()),
    );
    let pastMask = packed.prompt_mask.data as Float32Array;
    let P = packed.prompt_ids.shape[1];
    const next = new BigInt64Array(B);
    const logits = out.logits.data as Float32Array;
    for (let b = 0; b < B; b++) {
      if (done[b]) continue;
      next[b] = BigInt(choose(b, logits, b * V));
      settleForced(b);
    }
    while (!done.every(Boolean)) {
      const cache: Record<string, Tensor> = {};
      for (let l = 0; l < c.numLayers; l++) {
        cache[`past_key.${l}`] = out[`key.${l}`];
        cache[`past_value.${l}`] = out[`value.${l}`];
      }
      const positions = BigInt64Array.from(prompts, (p, b) =>
        BigInt(p.length + results[b].tokens.length - 1),
      );
      // A finished sequence keeps running with its last token (results ignored): batch shapes stay fixed.
      out = await step.graph.run({
        ...step.program.model.feeds,
        ids: { data: next, shape: [B, 1] },
        positions: { data: positions, shape: [B, 1] },
        past_mask: { data: pastMask, shape: [B, P] },
        ...cache,
      });
      // The token just fed joins the cache.
      const grown = new Float32Array(B * (P + 1));
      for (let b = 0; b < B; b++) {
        grown.set(pastMask.subarray(b * P, (b + 1) * P), b * (P + 1));
        grown[b * (P + 1) + P] = 1;
      }
      pastMask = grown;
      P += 1;
      const stepLogits = out.logits.data as Float32Array;
      for (let b = 0; b < B; b++) {
        if (done[b]) continue;
        next[b] = BigInt(choose(b, stepLogits, b * V));
        settleForced(b);
      }
    }
    return results;
  }
}
