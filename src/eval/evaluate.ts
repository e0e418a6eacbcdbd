// One evaluator over the Recommender contract, for every model and protocol on the same examples
// and candidate lists: ranking by the recommender's candidate scores (any model), full-catalog
// ranking (models with scoreAll), and, for language models, generation (paper protocol, S-DPO's
// and LLaRA's parsing) and candidate-constrained generation.

import type { Example } from "../data/index.js";
import { checkBatchSize, LmRecommender } from "../model/lm-recommender.js";
import type { TokenizedExample } from "../model/tokenizer/tokenize.js";
import { type Recommender, scoresCatalog } from "../recommender.js";
import { catalogRank } from "./catalog.js";
import { llaraVerdict, sdpoVerdict } from "./parse.js";
import { RANK_CUTOFFS, type RankingMetrics, rankingMetrics, rankOf } from "./ranking.js";

export const PROTOCOLS = ["generation", "constrained", "ranking", "catalog"] as const;
export type Protocol = (typeof PROTOCOLS)[number];

export interface EvalOptions {
  /** Protocols to run (default: all that apply to the model). */
  protocols?: readonly Protocol[];
  /** Greedy generation budget (S-DPO: 20 new tokens). */
  maxNewTokens?: number;
  /** Examples per engine run (≥ 1). */
  batchSize?: number;
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
  /** rankMean and tokens: language models (per-answer-token ranking). */
  ranking?: { rankSum: number; rankMean?: number; logpSum: number[]; tokens?: number[] };
  /** Rank of the target among all items not in the history. */
  catalog?: { rank: number };
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
  /** Candidates ranked by summed answer log-prob (any model's score), and per answer token (LMs). */
  ranking?: { sum: RankingMetrics; mean?: RankingMetrics };
  /** Full-catalog ranking (history masked, target never): HR@10, NDCG@10. */
  catalog?: { hr10: number; ndcg10: number };
  /** Protocols asked for that do not apply to this model (e.g. generation for an ID model). */
  notApplicable?: Protocol[];
}

const mean = (xs: readonly boolean[]) =>
  xs.length === 0 ? 0 : xs.filter(Boolean).length / xs.length;

/** Whether a protocol can run on this recommender. */
export function applies(recommender: Recommender, protocol: Protocol): boolean {
  if (protocol === "generation" || protocol === "constrained")
    return recommender.describe().generates && recommender instanceof LmRecommender;
  if (protocol === "catalog") return scoresCatalog(recommender);
  return true;
}

/**
 * Evaluates a recommender on examples; returns metrics and per-example predictions. Protocols
 * that do not apply to the model are listed in `metrics.notApplicable` instead of failing.
 */
export async function evaluate(
  recommender: Recommender,
  examples: readonly Example[],
  options: EvalOptions = {},
): Promise<{ metrics: EvalMetrics; predictions: Prediction[] }> {
  const asked = options.protocols ?? PROTOCOLS;
  const batchSize = checkBatchSize(options.batchSize ?? 8);
  const protocols = asked.filter((p) => applies(recommender, p));
  const notApplicable = asked.filter((p) => !applies(recommender, p));
  // Full-catalog ranking runs wherever scoreAll exists; elsewhere it is skipped without a mark
  // (every table would otherwise carry it for every language model).
  const reported = notApplicable.filter((p) => p !== "catalog");
  const predictions: Prediction[] = examples.map((e) => ({
    id: e.id,
    target: e.target.title,
    targetIndex: e.target.index,
  }));
  const metrics: EvalMetrics = { examples: examples.length };
  if (reported.length > 0) metrics.notApplicable = reported;

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

  if (recommender instanceof LmRecommender) {
    const lm = recommender;
    const tokenized = protocols.some((p) => p === "generation" || p === "constrained")
      ? lm.tokenize(examples)
      : [];
    if (protocols.includes("generation"))
      metrics.generation = await generation(
        lm,
        examples,
        tokenized,
        predictions,
        options,
        inBatches,
      );
    if (protocols.includes("constrained"))
      metrics.constrained = await constrained(lm, examples, tokenized, predictions, inBatches);
  }

  if (protocols.includes("ranking")) {
    const lengths =
      recommender instanceof LmRecommender ? recommender.answerLengths(examples) : undefined;
    await inBatches("ranking", async (start, end) => {
      const scores = await recommender.scoreCandidates(examples.slice(start, end), { batchSize });
      if (scores.length !== end - start)
        throw new Error(
          `scoreCandidates returned ${scores.length} rows for ${end - start} examples`,
        );
      scores.forEach((row, j) => {
        const i = start + j;
        const target = examples[i].target.index;
        const ranking: NonNullable<Prediction["ranking"]> = {
          rankSum: rankOf(row, target),
          logpSum: row.map((v) => Number(v.toFixed(5))),
        };
        if (lengths) {
          const perToken = row.map((s, k) => s / Math.max(1, lengths[i][k]));
          ranking.rankMean = rankOf(perToken, target);
          ranking.tokens = lengths[i];
        }
        predictions[i].ranking = ranking;
      });
    });
    metrics.ranking = { sum: rankingMetrics(predictions.map((p) => p.ranking!.rankSum)) };
    if (lengths)
      metrics.ranking.mean = rankingMetrics(predictions.map((p) => p.ranking!.rankMean!));
  }

  if (protocols.includes("catalog")) {
    const scoreAll = recommender.scoreAll!.bind(recommender);
    await inBatches("catalog", async (start, end) => {
      const part = examples.slice(start, end);
      const rows = await scoreAll(part, { batchSize });
      rows.forEach((row, j) => {
        predictions[start + j].catalog = { rank: catalogRank(row, part[j]) };
      });
    });
    const m = rankingMetrics(predictions.map((p) => p.catalog!.rank));
    metrics.catalog = { hr10: m.hr["10"], ndcg10: m.ndcg["10"] };
  }
  return { metrics, predictions };
}

type InBatches = (
  protocol: Protocol,
  run: (start: number, end: number) => Promise<void>,
) => Promise<void>;

/** Paper protocol: greedy free generation, read by S-DPO's and LLaRA's rules. */
async function generation(
  model: LmRecommender,
  examples: readonly Example[],
  tokenized: readonly TokenizedExample[],
  predictions: Prediction[],
  options: EvalOptions,
  inBatches: InBatches,
): Promise<NonNullable<EvalMetrics["generation"]>> {
  const batchSize = options.batchSize ?? 8;
  const titles = examples.map((e) => e.candidates.map((c) => c.title));
  await inBatches("generation", async (start, end) => {
    const out = await model.lm.generate(
      tokenized.slice(start, end).map((e) => e.prompt),
      { maxNewTokens: options.maxNewTokens ?? 20, batchSize },
    );
    out.forEach((g, j) => {
      const i = start + j;
      const answer = model.answerText(g.tokens, examples[i]);
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
  return {
    sdpo: { hr1: mean(g.map((x) => x.sdpo.hit)), validRatio: mean(g.map((x) => x.sdpo.valid)) },
    llara: { hr1: mean(g.map((x) => x.llara.hit)), validRatio: mean(g.map((x) => x.llara.valid)) },
  };
}

/** Greedy decoding constrained by a prefix trie to the candidates' answers. */
async function constrained(
  model: LmRecommender,
  examples: readonly Example[],
  tokenized: readonly TokenizedExample[],
  predictions: Prediction[],
  inBatches: InBatches,
): Promise<NonNullable<EvalMetrics["constrained"]>> {
  await inBatches("constrained", async (start, end) => {
    const part = tokenized.slice(start, end);
    const out = await model.lm.generate(
      part.map((e) => e.prompt),
      // Candidates without their EOS: the trie appends it.
      {
        maxNewTokens: 0,
        batchSize: end - start,
        candidates: part.map((e) => e.candidates.map((c) => c.slice(0, -1))),
      },
    );
    out.forEach((g, j) => {
      const i = start + j;
      const candidate = g.candidate ?? -1;
      predictions[i].constrained = {
        answer: candidate >= 0 ? examples[i].candidates[candidate].title : "",
        candidate,
        hit: candidate === examples[i].target.index,
      };
    });
  });
  const c = predictions.map((p) => p.constrained!);
  return { hr1: mean(c.map((x) => x.hit)), validRatio: mean(c.map((x) => x.candidate >= 0)) };
}

/** The metrics as a Markdown table with the protocol spelled out ("n/a": not for this model). */
export function metricsMarkdown(rows: readonly { name: string; metrics: EvalMetrics }[]): string {
  const f = (x: number | undefined) => (x === undefined ? "–" : x.toFixed(4));
  // Full-catalog columns only when some row has them (the candidate-list tables stay as they were).
  const catalog = rows.some((r) => r.metrics.catalog !== undefined);
  const columns = [
    "method",
    "HR@1 (S-DPO)",
    "ValidRatio (S-DPO)",
    "HR@1 (LLaRA)",
    "ValidRatio (LLaRA)",
    "HR@1 (constrained)",
    "HR@1 (rank)",
    "HR@3",
    "HR@5",
    "HR@10",
    "NDCG@5",
    "NDCG@10",
    "MRR",
    "HR@1 (rank, per token)",
    ...(catalog ? ["HR@10 (catalog)", "NDCG@10 (catalog)"] : []),
  ];
  const header = `| ${columns.join(" | ")} |\n|${" --- |".repeat(columns.length)}\n`;
  const body = rows
    .map(({ name, metrics: m }) => {
      const na = (p: Protocol, x: number | undefined) =>
        m.notApplicable?.includes(p) ? "n/a" : f(x);
      const r = m.ranking?.sum;
      const cells = [
        name,
        na("generation", m.generation?.sdpo.hr1),
        na("generation", m.generation?.sdpo.validRatio),
        na("generation", m.generation?.llara.hr1),
        na("generation", m.generation?.llara.validRatio),
        na("constrained", m.constrained?.hr1),
        f(r?.hr["1"]),
        f(r?.hr["3"]),
        f(r?.hr["5"]),
        f(r?.hr["10"]),
        f(r?.ndcg["5"]),
        f(r?.ndcg["10"]),
        f(r?.mrr),
        m.ranking && !m.ranking.mean ? "n/a" : f(m.ranking?.mean?.hr["1"]),
        ...(catalog ? [f(m.catalog?.hr10), f(m.catalog?.ndcg10)] : []),
      ];
      return `| ${cells.join(" | ")} |`;
    })
    .join("\n");
  return `${header}${body}\n`;
}

/** How the numbers were computed, printed under every table. */
export function protocolNotes(
  examples: number,
  maxNewTokens: number,
  metrics: readonly EvalMetrics[] = [],
): string {
  return [
    `Protocols, on the same ${examples} examples and candidate lists:`,
    `- Generation (S-DPO's evaluate_batch.py): greedy, up to ${maxNewTokens} new tokens; ValidRatio = share of answers containing exactly one candidate title (case-sensitive substring); HR@1 = share of all prompts whose answer is valid and contains the target.`,
    "- Generation (LLaRA's calculate_hr1): the same answers, first line only, lower-cased; HR@1 = valid and the matched candidate is the target, over all prompts.",
    "- Constrained: greedy decoding restricted by a prefix trie to the candidates' answers + EOS (ValidRatio 1 by design).",
    `- Ranking: every candidate scored by the summed log-prob of its answer (" title" + EOS; item-token models: the item token + EOS, hybrid: item token + " title" + EOS) given the prompt (shared prefix); HR@{${RANK_CUTOFFS.join(",")}}, NDCG@{5,10}, MRR from the target's rank; a candidate scoring exactly as the target ranks above it (ties count against the model). "per token" ranks by mean log-prob per answer token.`,
    ...(metrics.some((m) => m.notApplicable || (m.ranking && !m.ranking.mean))
      ? [
          "- Models that are not language models rank candidates by their own scores; n/a marks a protocol that does not apply to the model (generation needs a model that writes text).",
        ]
      : []),
    ...(metrics.some((m) => m.catalog)
      ? [
          "- Catalog (models that score every item): the target's rank among all items, the user's history masked (the target never, ties against the target); HR@10, NDCG@10. A language model whose prompts list the candidates (promptCandidates: shown, the default) reads the target among them, so its catalog figures are not comparable with other models'; promptCandidates: hidden removes the list.",
        ]
      : []),
  ].join("\n");
}
