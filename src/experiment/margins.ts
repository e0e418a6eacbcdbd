// Paired margins of a multi-seed experiment: the same seed's two methods on the same prompts,
// differenced per seed, then mean ± std over the seeds. A comparison such as "S-DPO > DPO > SFT"
// is judged on these (the seed's data and starting model cancel out), not on the gap between
// two separately averaged rows.

import { meanStd } from "../eval/views.js";
import type { MethodSummary, Stat } from "./aggregate.js";

/** Ranking metrics (paths as in metrics.json) whose margins are computed. */
export const MARGIN_METRICS = [
  "ranking.sum.hr.1",
  "ranking.sum.hr.5",
  "ranking.sum.ndcg.5",
  "ranking.sum.ndcg.10",
  "ranking.sum.mrr",
] as const;

/** One comparison: `method` − `versus`, per metric. */
export interface Margin {
  method: string;
  versus: string;
  /** Why the pair is compared: a stage against the stage it starts from, two stages from the
   *  same start, or a final language-model stage against a baseline. */
  relation: "init" | "siblings" | "baseline";
  /** Per metric: the per-seed differences' Stat and the seeds where `method` is ahead. */
  metrics: Record<string, { diff: Stat; ahead: number } | null>;
}

/**
 * The pairs worth comparing, in stage order: each trained stage against its `init`, stages that
 * start from the same stage against each other (later − earlier), and each final stage (one no
 * other stage starts from) against each baseline.
 */
export function marginPairs(
  methods: readonly MethodSummary[],
): [MethodSummary, MethodSummary, Margin["relation"]][] {
  const byStage = new Map(methods.map((m) => [m.stage, m]));
  const pairs: [MethodSummary, MethodSummary, Margin["relation"]][] = [];
  const trained = methods.filter((m) => m.kind !== "baseline");
  for (const m of trained) {
    const from = m.init ? byStage.get(m.init) : undefined;
    if (from) pairs.push([m, from, "init"]);
  }
  trained.forEach((m, i) => {
    for (const earlier of trained.slice(0, i))
      if (m.init !== null && earlier.init === m.init) pairs.push([m, earlier, "siblings"]);
  });
  const starts = new Set(trained.map((m) => m.init));
  const baselines = methods.filter((m) => m.kind === "baseline");
  for (const m of trained.filter((t) => !starts.has(t.stage)))
    for (const b of baselines) pairs.push([m, b, "baseline"]);
  return pairs;
}

/** Every pair's per-seed differences over the margin metrics (seeds missing either: left out). */
export function pairedMargins(methods: readonly MethodSummary[]): Margin[] {
  return marginPairs(methods).map(([m, v, relation]) => ({
    method: m.stage,
    versus: v.stage,
    relation,
    metrics: Object.fromEntries(
      MARGIN_METRICS.map((path) => {
        const a = m.metrics[path]?.values ?? [];
        const b = v.metrics[path]?.values ?? [];
        const diffs = a.map((x, i) => (x === null || b[i] == null ? null : x - (b[i] as number)));
        const present = diffs.filter((d): d is number => d !== null);
        if (present.length === 0) return [path, null];
        const diff: Stat = { ...meanStd(present), values: diffs };
        return [path, { diff, ahead: present.filter((d) => d > 0).length }];
      }),
    ),
  }));
}
