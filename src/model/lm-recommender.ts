// The language model as a Recommender: a candidate's score is the log-likelihood of its answer
// (" " + title + EOS, or the item token + EOS…: see tokenizer/tokenize.ts) given the example's
// prompt, the prompt run once for all candidates (shared prefix). Summed over the answer tokens
// by default, per answer token with `variant: "mean"`. With item tokens (id, hybrid) the model
// also ranks the whole catalog: scoreAll = log p(item token | prompt), the LM head read at the
// item tokens' rows (the EOS that follows an id answer is left out: it would take one more pass
// per item).

import type { Example } from "../data/types.js";
import { UserError } from "../io/errors.js";
import type {
  Recommender,
  RecommenderDescription,
  ScoreCandidatesOptions,
} from "../recommender.js";
import type { LanguageModel } from "./lm.js";
import { type TokenizedExample, tokenizeExample } from "./tokenizer/tokenize.js";
import type { LmTokenizer } from "./tokenizer/tokenizer.js";

export interface LmRecommenderOptions {
  /** Longest prompt in tokens; longer prompts keep their end (default 512, as in training). */
  maxPromptTokens?: number;
  /** Shown by describe() (run directory, model directory…). */
  name?: string;
  /** Extra description fields (adapter, checkpoint…). */
  details?: Record<string, unknown>;
}

/** Checks a batch size before any loop relies on it (0 would never advance). */
export function checkBatchSize(batchSize: number, what = "batch size"): number {
  if (!Number.isSafeInteger(batchSize) || batchSize < 1)
    throw new UserError(`${what} must be a positive integer, got ${batchSize}`);
  return batchSize;
}

/** Wraps a LanguageModel and its tokenizer; the model and tokenizer stay the caller's to dispose. */
export class LmRecommender implements Recommender {
  readonly maxPromptTokens: number;
  /** Answer tokens by title, shared by every example (candidate titles repeat a lot). */
  private readonly answerCache = new Map<string, number[]>();
  /** Tokenized examples, by example object: the protocols of one evaluation share them. */
  private readonly exampleCache = new WeakMap<Example, TokenizedExample>();
  /** Examples tokenized so far and the item references among them read as `<item_unk>`. */
  private readonly unknown = { examples: 0, references: 0, withUnknown: 0 };

  constructor(
    readonly lm: LanguageModel,
    readonly tokenizer: LmTokenizer,
    private readonly options: LmRecommenderOptions = {},
  ) {
    this.maxPromptTokens = options.maxPromptTokens ?? 512;
  }

  describe(): RecommenderDescription {
    const items = this.tokenizer.representation;
    const vocab = this.tokenizer.items;
    return {
      kind: "lm",
      name: this.options.name ?? this.tokenizer.dir,
      items,
      fullCatalog: items !== "title" && vocab !== null,
      generates: true,
      details: {
        adapter: this.lm.adapter !== undefined,
        maxPromptTokens: this.maxPromptTokens,
        ...(vocab && items !== "title"
          ? {
              itemTokens: vocab.count,
              promptCandidates: vocab.candidates,
              // Items outside the model's catalog, read as <item_unk>, in the examples scored.
              unknownItems: { ...this.unknown },
            }
          : {}),
        ...this.options.details,
      },
    };
  }

  /** The examples in the model's prompt/answer format (the one shared with training). */
  tokenize(examples: readonly Example[]): TokenizedExample[] {
    // Served answers are arbitrary text: keep the title cache bounded (catalogs repeat titles).
    if (this.answerCache.size > 50_000) this.answerCache.clear();
    return examples.map((e) => {
      let t = this.exampleCache.get(e);
      if (!t) {
        t = tokenizeExample(
          this.tokenizer,
          e,
          { maxPromptTokens: this.maxPromptTokens },
          this.answerCache,
        );
        this.exampleCache.set(e, t);
        this.unknown.examples++;
        this.unknown.references += t.unknownItems;
        if (t.unknownItems > 0) this.unknown.withUnknown++;
      }
      return t;
    });
  }

  /** Answer lengths in tokens (title + EOS), per example and candidate: the per-token divisor. */
  answerLengths(examples: readonly Example[]): number[][] {
    return this.tokenize(examples).map((e) => e.candidates.map((c) => c.length));
  }

  /**
   * The text of a generated answer, as the generation protocols read it: decoded, with each item
   * token (id representation) replaced by its item's title when the example shows that item
   * (else left as `<item_N>`, which names no candidate). Hybrid answers carry their title.
   */
  answerText(tokens: readonly number[], example: Example): string {
    const vocab = this.tokenizer.items;
    if (this.tokenizer.representation !== "id" || vocab === null)
      return this.tokenizer.decode(tokens, { skipSpecialTokens: true }).trim();
    const titles = new Map<number, string>();
    for (const r of [...example.history, ...example.candidates]) titles.set(r.item, r.title);
    const parts: string[] = [];
    let run: number[] = [];
    const flush = () => {
      if (run.length > 0)
        parts.push(this.tokenizer.decode(run, { skipSpecialTokens: true }).trim());
      run = [];
    };
    for (const t of tokens) {
      const item = vocab.itemOf(t);
      if (item === null) run.push(t);
      else {
        flush();
        parts.push(titles.get(item) ?? vocab.textOf(item));
      }
    }
    flush();
    return parts.filter((p) => p.length > 0).join(" ");
  }

  /** Full-catalog scores (id, hybrid): log p(item token | prompt) for every item of the catalog. */
  async scoreAll(
    examples: readonly Example[],
    options: Omit<ScoreCandidatesOptions, "variant"> = {},
  ): Promise<Float32Array[]> {
    const vocab = this.tokenizer.items;
    if (!vocab || vocab.representation === "title")
      throw new UserError(
        `${this.tokenizer.dir}: a model without item tokens cannot rank the catalog`,
      );
    const batchSize = checkBatchSize(options.batchSize ?? 8);
    const tokenized = this.tokenize(examples);
    const rows: Float32Array[] = [];
    for (let start = 0; start < tokenized.length; start += batchSize) {
      const part = tokenized.slice(start, start + batchSize);
      const logits = await this.lm.nextTokenLogits(
        part.map((e) => e.prompt),
        { batchSize },
      );
      for (const row of logits) {
        let max = -Infinity;
        for (const x of row) if (x > max) max = x;
        let sum = 0;
        for (const x of row) sum += Math.exp(x - max);
        const logZ = max + Math.log(sum);
        rows.push(row.slice(vocab.firstId, vocab.firstId + vocab.count).map((x) => x - logZ));
      }
      options.onProgress?.(Math.min(start + batchSize, tokenized.length), tokenized.length);
    }
    return rows;
  }

  async scoreCandidates(
    examples: readonly Example[],
    options: ScoreCandidatesOptions = {},
  ): Promise<number[][]> {
    const batchSize = checkBatchSize(options.batchSize ?? 8);
    const tokenized = this.tokenize(examples);
    const rows: number[][] = [];
    for (let start = 0; start < tokenized.length; start += batchSize) {
      const part = tokenized.slice(start, start + batchSize);
      const { logpSum, tokenCount } = await this.lm.score(
        part.map((e) => e.prompt),
        part.map((e) => e.candidates),
        { batchSize },
      );
      for (const [j, sums] of logpSum.entries()) {
        rows.push(
          options.variant === "mean" ? sums.map((s, k) => s / Math.max(1, tokenCount[j][k])) : sums,
        );
      }
      options.onProgress?.(Math.min(start + batchSize, tokenized.length), tokenized.length);
    }
    return rows;
  }
}
