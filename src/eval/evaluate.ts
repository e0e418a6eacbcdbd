// One evaluator for every model and protocol on the same examples and candidate lists:
// generation (paper protocol, S-DPO's and LLaRA's parsing), candidate-constrained generation,
// and ranking by answer log-likelihood (summed and per token).

import type { Example } from "../data/index.js";
import type { LanguageModel } from "../model/lm.js";
import { type TokenizedExample, tokenizeExample } from "../model/tokenizer/tokenize.js";
import type { LmTokenizer } from "../model/tokenizer/tokenizer.js";
import { llaraVerdict, sdpoVerdict } from "./parse.js";
import { RANK_CUTOFFS, type RankingMetrics, rankingMetrics, rankOf } from "./ranking.js";

export const PROTOCOLS = ["generation", "constrained", "ranking"] as const;
export type Protocol = (typeof PROTOCOLS)[number];

export interface EvalOptions {
  protocols?: readonly Protocol[];
  /** Greedy generation budget (S-DPO: 20 new tokens). */
  maxNewTokens?: number;
  batchSize?: number;
  maxPromptTokens?: number;
  onProgress?: (protocol: Protocol, done: number, total: number) => void;
}

/** One example's outcome under every protocol run (written as a JSON line). */
export interface Prediction {
  id: string;
  target: string;
  targetIndex: number;
  generation?: {
    answer: string;
    sdpo: { valid: boolean; hit: boolean; matched: string[] };
    llara: { valid: boolean; hit: boolean; matched: string[] };
  };
  constrained?: { answer: string; candidate: number; hit: boolean };
  ranking?: { rankSum: number; rankMean: number; logpSum: number[]; tokens: number[] };
}

export interface EvalMetrics {
  examples: number;
  generation?: {
    /** S-DPO evaluate_batch.py: HR@1 = valid & target found, over all prompts. */
    sdpo: { hr1: number; validRatio: number };
    /** LLaRA calculate_hr1 (first line, lower-cased): correct / all prompts. */
    llara: { hr1: number; validRatio: number };
  };
  constrained?: { hr1: number; validRatio: number };
  /** Candidates ranked by summed answer log-prob, and by log-prob per answer token. */
  ranking?: { sum: RankingMetrics; mean: RankingMetrics };
}

const mean = (xs: readonly boolean[]) =>
  xs.length === 0 ? 0 : xs.filter(Boolean).length / xs.length;

/** Evaluates a model on examples; returns metrics and per-example predictions. */
export async function evaluate(
  lm: LanguageModel,
  tokenizer: LmTokenizer,
  examples: readonly Example[],
  options: EvalOptions = {},
): Promise<{ metrics: EvalMetrics; predictions: Prediction[] }> {
  const protocols = options.protocols ?? PROTOCOLS;
  const batchSize = options.batchSize ?? 8;
  const cache = new Map<string, number[]>();
  const tokenized: TokenizedExample[] = examples.map((e) =>
    tokenizeExample(tokenizer, e, { maxPromptTokens: options.maxPromptTokens }, cache),
  );
  const predictions: Prediction[] = examples.map((e) => ({
    id: e.id,
    target: e.target.title,
    targetIndex: e.target.index,
  }));
  const titles = examples.map((e) => e.candidates.map((c) => c.title));
  const metrics: EvalMetrics = { examples: examples.length };

  const inBatches = async (
    protocol: Protocol,
    run: (start: number, end: number) => Promise<void>,
  ) => {
    for (let start = 0; start < examples.length; start += batchSize) {
      const end = Math.min(start + batchSize, examples.length);
      await run(start, end);
      options.onProgress?.(protocol, end, examples.length);
    }
  };

  if (protocols.includes("generation")) {
    await inBatches("generation", async (start, end) => {
      const out = await lm.generate(
        tokenized.slice(start, end).map((e) => e.prompt),
        { maxNewTokens: options.maxNewTokens ?? 20, batchSize },
      );
      out.forEach((g, j) => {
        const i = start + j;
        const answer = tokenizer.decode(g.tokens, { skipSpecialTokens: true }).trim();
        const s = sdpoVerdict(answer, titles[i], examples[i].target.index);
        const l = llaraVerdict(answer, titles[i], examples[i].target.index);
        predictions[i].generation = {
          answer,
          sdpo: { valid: s.valid, hit: s.hit, matched: s.matches.map((m) => titles[i][m]) },
          llara: { valid: l.valid, hit: l.hit, matched: l.matches.map((m) => titles[i][m]) },
        };
      });
    });
    const g = predictions.map((p) => p.generation!);
    metrics.generation = {
      sdpo: { hr1: mean(g.map((x) => x.sdpo.hit)), validRatio: mean(g.map((x) => x.sdpo.valid)) },
      llara: {
        hr1: mean(g.map((x) => x.llara.hit)),
        validRatio: mean(g.map((x) => x.llara.valid)),
      },
    };
  }

  if (protocols.includes("constrained")) {
    await inBatches("constrained", async (start, end) => {
      const part = tokenized.slice(start, end);
      const out = await lm.generate(
        part.map((e) => e.prompt),
        // Candidates without their EOS: the trie appends it.
        {
          maxNewTokens: 0,
          batchSize,
          candidates: part.map((e) => e.candidates.map((c) => c.slice(0, -1))),
        },
      );
      out.forEach((g, j) => {
        const i = start + j;
        const candidate = g.candidate ?? -1;
        predictions[i].constrained = {
          answer: candidate >= 0 ? titles[i][candidate] : "",
          candidate,
          hit: candidate === examples[i].target.index,
        };
      });
    });
    const c = predictions.map((p) => p.constrained!);
    metrics.constrained = {
      hr1: mean(c.map((x) => x.hit)),
      validRatio: mean(c.map((x) => x.candidate >= 0)),
    };
  }

  if (protocols.includes("ranking")) {
    await inBatches("ranking", async (start, end) => {
      const part = tokenized.slice(start, end);
      const { logpSum, tokenCount } = await lm.score(
        part.map((e) => e.prompt),
        part.map((e) => e.candidates),
        { batchSize },
      );
      part.forEach((e, j) => {
        const i = start + j;
        const perToken = logpSum[j].map((s, k) => s / Math.max(1, tokenCount[j][k]));
        predictions[i].ranking = {
          rankSum: rankOf(logpSum[j], e.targetIndex),
          rankMean: rankOf(perToken, e.targetIndex),
          logpSum: logpSum[j].map((v) => Number(v.toFixed(5))),
          tokens: tokenCount[j],
        };
      });
    });
    metrics.ranking = {
      sum: rankingMetrics(predictions.map((p) => p.ranking!.rankSum)),
      mean: rankingMetrics(predictions.map((p) => p.ranking!.rankMean)),
    };
  }
  return { metrics, predictions };
}

/** The metrics as a Markdown table with the protocol spelled out. */
export function metricsMarkdown(rows: readonly { name: string; metrics: EvalMetrics }[]): string {
  const f = (x: number | undefined) => (x === undefined ? "–" : x.toFixed(4));
  const header =
    "| method | HR@1 (S-DPO) | ValidRatio (S-DPO) | HR@1 (LLaRA) | ValidRatio (LLaRA) | HR@1 (constrained) | HR@1 (rank) | HR@3 | HR@5 | HR@10 | NDCG@5 | NDCG@10 | MRR | HR@1 (rank, per token) |\n" +
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n";
  const body = rows
    .map(({ name, metrics: m }) => {
      const r = m.ranking?.sum;
      return `| ${name} | ${f(m.generation?.sdpo.hr1)} | ${f(m.generation?.sdpo.validRatio)} | ${f(m.generation?.llara.hr1)} | ${f(m.generation?.llara.validRatio)} | ${f(m.constrained?.hr1)} | ${f(r?.hr["1"])} | ${f(r?.hr["3"])} | ${f(r?.hr["5"])} | ${f(r?.hr["10"])} | ${f(r?.ndcg["5"])} | ${f(r?.ndcg["10"])} | ${f(r?.mrr)} | ${f(m.ranking?.mean.hr["1"])} |`;
    })
    .join("\n");
  return `${header}${body}\n`;
}

/** How the numbers were computed, printed under every table. */
export function protocolNotes(examples: number, maxNewTokens: number): string {
  return [
    `Protocols, on the same ${examples} examples and candidate lists:`,
    `- Generation (S-DPO's evaluate_batch.py): greedy, up to ${maxNewTokens} new tokens; ValidRatio = share of answers containing exactly one candidate title (case-sensitive substring); HR@1 = share of all prompts whose answer is valid and contains the target.`,
    "- Generation (LLaRA's calculate_hr1): the same answers, first line only, lower-cased; HR@1 = valid and the matched candidate is the target, over all prompts.",
    "- Constrained: greedy decoding restricted by a prefix trie to the candidate titles + EOS (ValidRatio 1 by design).",
    `- Ranking: every candidate scored by the summed log-prob of " title" + EOS given the prompt (shared prefix); HR@{${RANK_CUTOFFS.join(",")}}, NDCG@{5,10}, MRR from the target's rank; a candidate scoring exactly as the target ranks above it (ties count against the model). "per token" ranks by mean log-prob per answer token.`,
  ].join("\n");
}
