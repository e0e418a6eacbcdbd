// The language model as a Recommender: a candidate's score is the log-likelihood of its answer
// (" " + title + EOS) given the example's prompt, the prompt run once for all candidates (shared
// prefix). Summed over the answer tokens by default, per answer token with `variant: "mean"`.

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

  constructor(
    readonly lm: LanguageModel,
    readonly tokenizer: LmTokenizer,
    private readonly options: LmRecommenderOptions = {},
  ) {
    this.maxPromptTokens = options.maxPromptTokens ?? 512;
  }

  describe(): RecommenderDescription {
    return {
      kind: "lm",
      name: this.options.name ?? this.tokenizer.dir,
      items: "title",
      fullCatalog: false,
      generates: true,
      details: {
        adapter: this.lm.adapter !== undefined,
        maxPromptTokens: this.maxPromptTokens,
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
      }
      return t;
    });
  }

  /** Answer lengths in tokens (title + EOS), per example and candidate: the per-token divisor. */
  answerLengths(examples: readonly Example[]): number[][] {
    return this.tokenize(examples).map((e) => e.candidates.map((c) => c.length));
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
