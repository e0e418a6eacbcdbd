// What the endpoints do, apart from HTTP: requests → Examples (via the catalog and the data
// layer's prompt code) → micro-batched Recommender calls → ranked items. Unknown-item rule:
// unknown history entries are dropped with a warning in the response (a history can be partial;
// 422 when none is left); unknown candidates are a 422 (a model cannot rank an item it doesn't know).

import type { HistoryEntry, ItemRef } from "../data/types.js";
import { type Recommender, scoresCatalog } from "../recommender.js";
import { MicroBatcher } from "./batcher.js";
import type { ServeCatalog } from "./catalog.js";
import { type RunBudget, scoreInRuns } from "./chunks.js";
import { HttpError } from "./errors.js";
import type { RecommendBody, ScoreBody } from "./schemas.js";

export interface BatchingOptions {
  /** Requests gathered into one batch (1 = no batching). */
  maxBatch: number;
  /** Longest engine run a batch is cut into, after sorting its requests by size (chunks.ts). */
  engineBatch: number;
  /** Longest a request waits for others to join its batch. */
  maxWaitMs: number;
  /** Requests waiting beyond this are refused (503). */
  maxQueue: number;
  /** Longest a request may take, queue included (504). */
  timeoutMs: number;
  /** Most padded answer tokens (candidates × longest answer) of one request (400 beyond) and
   *  of one engine run: bounds a run's memory and how long it holds the event loop. */
  maxAnswerTokens: number;
}

export const DEFAULT_BATCHING: BatchingOptions = {
  maxBatch: 32,
  engineBatch: 8,
  maxWaitMs: 5,
  maxQueue: 256,
  timeoutMs: 30_000,
  maxAnswerTokens: 16_384,
};

export interface Warning {
  path: string;
  message: string;
}

export interface Ranked {
  items: { item: number; title: string; score: number; rank: number }[];
  warnings: Warning[];
  batchSize: number;
}

export interface Scored {
  scores: { answer: string; logp: number }[];
  prompt: string;
  warnings: Warning[];
  batchSize: number;
}

type Example = ReturnType<ServeCatalog["example"]>;

/** Ranks `scores` (higher first, ties by position) and keeps the top k. */
export function topK(
  entries: readonly { ref: ItemRef; score: number }[],
  k: number,
): Ranked["items"] {
  return entries
    .map((e, i) => ({ ...e, i }))
    .filter((e) => Number.isFinite(e.score))
    .sort((a, b) => b.score - a.score || a.i - b.i)
    .slice(0, k)
    .map((e, r) => ({ item: e.ref.item, title: e.ref.title, score: e.score, rank: r + 1 }));
}

/** The serving logic over one Recommender and one catalog. */
export class RecommendService {
  private readonly candidates: MicroBatcher<Example, number[]>;
  private readonly catalogScores: MicroBatcher<Example, Float32Array>;
  private seq = 0;
  ready = false;

  constructor(
    readonly recommender: Recommender,
    readonly catalog: ServeCatalog,
    readonly batching: BatchingOptions = DEFAULT_BATCHING,
  ) {
    const common = {
      maxBatch: batching.maxBatch,
      maxWaitMs: batching.maxWaitMs,
      maxQueue: batching.maxQueue,
    };
    // A gathered batch runs as size-sorted engine runs of at most engineBatch requests each.
    const size = Math.max(1, batching.engineBatch);
    const budget: RunBudget = {
      shape: (e) => this.answerShape(e),
      maxTokens: batching.maxAnswerTokens,
    };
    this.candidates = new MicroBatcher({
      ...common,
      run: (examples) =>
        scoreInRuns(
          examples,
          size,
          (run) => recommender.scoreCandidates(run, { batchSize: run.length }),
          budget,
        ),
    });
    this.catalogScores = new MicroBatcher({
      ...common,
      run: (examples) =>
        scoreInRuns(examples, size, (run) => {
          if (!recommender.scoreAll) throw new Error("scoreAll is not available");
          return recommender.scoreAll(run, { batchSize: run.length });
        }),
    });
  }

  /** [candidates, longest answer in tokens] of an example (1 token per answer for models
   *  without answer lengths): the padded answer tokens scoring it costs. */
  answerShape(example: Example): [number, number] {
    // Asked once per request (its limit check) and again when its batch is cut into runs:
    // answerLengths tokenizes every answer, so the first answer is kept.
    const known = this.answerShapes.get(example);
    if (known) return known;
    const n = example.candidates.length;
    const shape: [number, number] =
      !n || !this.recommender.answerLengths
        ? [n, 1]
        : [n, Math.max(1, ...this.recommender.answerLengths([example])[0])];
    this.answerShapes.set(example, shape);
    return shape;
  }
  private readonly answerShapes = new WeakMap<Example, [number, number]>();

  /** Refuses (400) an example over the answer-token limit, naming the list. */
  private checkAnswerTokens(example: Example, field: string): void {
    const [n, tc] = this.answerShape(example);
    if (n * tc > this.batching.maxAnswerTokens)
      throw new HttpError(
        400,
        "too_many_answer_tokens",
        `${field}: ${n} answers of up to ${tc} tokens pad to ${n * tc} answer tokens, over the limit of ${this.batching.maxAnswerTokens} (fewer or shorter answers)`,
        field,
      );
  }

  /** The model's name for responses. */
  get model(): string {
    return this.recommender.describe().name;
  }

  /** Requests waiting in the queues (for /readyz and tests). */
  get waiting(): number {
    return this.candidates.waiting + this.catalogScores.waiting;
  }

  /** Batch sizes run so far (tests, bench). */
  get batchSizes(): number[] {
    return [...this.candidates.sizes, ...this.catalogScores.sizes];
  }

  /** Scores one small example so the first real request does not pay for session creation. */
  async warmUp(): Promise<void> {
    const n = this.catalog.items.length;
    if (n >= 2) {
      const ex = this.catalog.example(
        "warm-up",
        [this.catalog.ref(0)],
        [this.catalog.ref(1), this.catalog.ref(0)],
      );
      await this.recommender.scoreCandidates([ex], { batchSize: 1 });
      if (scoresCatalog(this.recommender)) await this.recommender.scoreAll([ex], { batchSize: 1 });
    }
    this.ready = true;
  }

  private history(entries: RecommendBody["history"], warnings: Warning[]): HistoryEntry[] {
    const out: HistoryEntry[] = [];
    entries.forEach((h, i) => {
      const item = this.catalog.resolve(h);
      if (item === null) {
        warnings.push({
          path: `history[${i}]`,
          message: `unknown item ${JSON.stringify(h.item ?? h.title)}; ignored`,
        });
        return;
      }
      out.push({
        ...this.catalog.ref(item),
        ...(h.rating !== undefined ? { rating: h.rating } : {}),
        ...(h.time !== undefined ? { time: h.time } : {}),
      });
    });
    if (!out.length)
      throw new HttpError(
        422,
        "unknown_items",
        "history: no entry names a catalog item",
        "history",
      );
    return out;
  }

  private refs(
    list: readonly { item?: number | string; title?: string }[],
    field: string,
  ): ItemRef[] {
    return list.map((c, i) => {
      const item = this.catalog.resolve(c);
      if (item === null)
        throw new HttpError(
          422,
          "unknown_item",
          `${field}[${i}]: unknown item ${JSON.stringify(c.item ?? c.title)}`,
          `${field}[${i}]`,
        );
      return this.catalog.ref(item);
    });
  }

  private checkTemplate(template: number | undefined): void {
    if (template !== undefined && template >= this.catalog.templates.length)
      throw new HttpError(
        400,
        "invalid_request",
        `template: expected an index below ${this.catalog.templates.length}`,
        "template",
      );
  }

  /** POST /v1/recommend. */
  async recommend(body: RecommendBody): Promise<Ranked> {
    const warnings: Warning[] = [];
    this.checkTemplate(body.template);
    const history = this.history(body.history, warnings);
    const k = body.k ?? 10;
    const seen =
      body.excludeSeen === false ? new Set<number>() : new Set(history.map((h) => h.item));
    const id = `request-${++this.seq}`;
    if (body.candidates) {
      const cands = this.refs(body.candidates, "candidates");
      const ex = this.catalog.example(id, history, cands, { template: body.template });
      this.checkAnswerTokens(ex, "candidates");
      const { output, batchSize } = await this.candidates.submit(ex, this.batching.timeoutMs);
      const entries = cands
        .map((ref, i) => ({ ref, score: output[i] }))
        .filter((e) => !seen.has(e.ref.item));
      return { items: topK(entries, k), warnings, batchSize };
    }
    const d = this.recommender.describe();
    if (!scoresCatalog(this.recommender))
      throw new HttpError(
        400,
        "candidates_required",
        `candidates: required for this model (${d.kind} cannot rank the whole catalog)`,
        "candidates",
      );
    const ex = this.catalog.example(id, history, [], { template: body.template });
    const { output, batchSize } = await this.catalogScores.submit(ex, this.batching.timeoutMs);
    const entries: { ref: ItemRef; score: number }[] = [];
    for (let item = 0; item < Math.min(output.length, this.catalog.items.length); item++)
      if (!seen.has(item)) entries.push({ ref: this.catalog.ref(item), score: output[item] });
    return { items: topK(entries, k), warnings, batchSize };
  }

  /** POST /v1/score: the log-likelihood of each answer (" " + answer + EOS) given the prompt. */
  async score(body: ScoreBody): Promise<Scored> {
    const d = this.recommender.describe();
    if (d.items === "none")
      throw new HttpError(
        400,
        "not_supported",
        `answers: ${d.kind} does not score free-text answers`,
        "answers",
      );
    this.checkTemplate(body.template);
    const warnings: Warning[] = [];
    const answers: ItemRef[] = body.answers.map((title) => ({
      item: this.catalog.resolve({ title }) ?? -1,
      title,
    }));
    let prompt = body.prompt;
    if (prompt === undefined) {
      const history = this.history(body.history ?? [], warnings);
      const shown = body.candidates ? this.refs(body.candidates, "candidates") : answers;
      prompt = this.catalog.prompt(
        history.slice(-this.catalog.historyWindow),
        shown,
        body.template ?? 0,
      );
    }
    const ex = this.catalog.example(`request-${++this.seq}`, [], answers, { prompt });
    this.checkAnswerTokens(ex, "answers");
    const { output, batchSize } = await this.candidates.submit(ex, this.batching.timeoutMs);
    return {
      scores: body.answers.map((answer, i) => ({ answer, logp: output[i] })),
      prompt,
      warnings,
      batchSize,
    };
  }
}
