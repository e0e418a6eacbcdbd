// The results.md of a multi-seed experiment: one table per protocol with "mean ± std" cells over
// the seeds (n stated), the per-user view of the ranking protocol, the training table, what the
// seed changes, and the configuration.

import { type EvalMetrics, type Protocol, protocolNotes } from "../eval/evaluate.js";
import type { MethodSummary, SeedsAggregate, Stat } from "./aggregate.js";
import type { ExperimentConfig } from "./config.js";
import type { Margin } from "./margins.js";
import { configurationSection } from "./results-md.js";

type Column = [header: string, path: string];

const RANKING: Column[] = [
  ["HR@1", "hr.1"],
  ["HR@3", "hr.3"],
  ["HR@5", "hr.5"],
  ["HR@10", "hr.10"],
  ["NDCG@5", "ndcg.5"],
  ["NDCG@10", "ndcg.10"],
  ["MRR", "mrr"],
];

/** Each protocol's table: its title and columns (metric paths as in metrics.json). */
const TABLES: [Protocol, string, Column[]][] = [
  [
    "generation",
    "Generation (paper protocol)",
    [
      ["HR@1 (S-DPO)", "generation.sdpo.hr1"],
      ["ValidRatio (S-DPO)", "generation.sdpo.validRatio"],
      ["HR@1 (LLaRA)", "generation.llara.hr1"],
      ["ValidRatio (LLaRA)", "generation.llara.validRatio"],
    ],
  ],
  [
    "constrained",
    "Constrained generation",
    [
      ["HR@1", "constrained.hr1"],
      ["ValidRatio", "constrained.validRatio"],
    ],
  ],
  [
    "ranking",
    "Ranking over the candidates",
    [
      ...RANKING.map(([h, p]): Column => [h, `ranking.sum.${p}`]),
      ["HR@1 (per token)", "ranking.mean.hr.1"],
    ],
  ],
  [
    "catalog",
    "Full-catalog ranking",
    [
      ["HR@10", "catalog.hr10"],
      ["NDCG@10", "catalog.ndcg10"],
    ],
  ],
];

/** "mean ± std" (the mean alone for one run; "–" for none). */
export function formatStat(s: Stat | null | undefined, digits = 4): string {
  if (!s) return "–";
  const mean = s.mean.toFixed(digits);
  return s.n > 1 ? `${mean} ± ${s.std.toFixed(digits)}` : mean;
}

const runsOf = (m: MethodSummary) => m.train.steps?.n ?? 0;
const tableHead = (columns: string[]) =>
  `| ${columns.join(" | ")} |\n|${" --- |".repeat(columns.length)}`;
/** Seed values joined ("12/13/15"), or the one value when all are equal. */
const perSeed = (values: readonly (number | null)[], digits = 0) => {
  const shown = values.map((v) => (v === null ? "–" : v.toFixed(digits)));
  return new Set(shown).size === 1 ? shown[0] : shown.join("/");
};

function protocolTable(methods: readonly MethodSummary[], p: Protocol, cols: Column[]): string {
  const rows = methods.map((m) => {
    const cells = cols.map(([, path]) => {
      if (m.notApplicable.includes(p)) return "n/a";
      // Classic models rank by their own scores: no per-token variant.
      if (path.startsWith("ranking.mean.") && m.metrics["ranking.sum.mrr"] && !m.metrics[path])
        return "n/a";
      return formatStat(m.metrics[path]);
    });
    return `| ${m.stage} | ${runsOf(m)} | ${cells.join(" | ")} |`;
  });
  return `${tableHead(["method", "n", ...cols.map((c) => c[0])])}\n${rows.join("\n")}`;
}

function userViewTable(methods: readonly MethodSummary[]): string {
  const rows = methods.map((m) => {
    const v = m.lastPerUser;
    const cells = RANKING.map(([, path]) => (v ? formatStat(v.metrics[path]) : "–"));
    const users = v ? perSeed(v.users) : "–";
    return `| ${m.stage} | ${v ? (v.metrics.mrr?.n ?? 0) : 0} | ${users} | ${cells.join(" | ")} |`;
  });
  const head = tableHead(["method", "n", "users", ...RANKING.map((c) => c[0])]);
  return `${head}\n${rows.join("\n")}`;
}

function trainingTable(methods: readonly MethodSummary[]): string {
  const rows = methods.map((m) => {
    const t = m.train;
    const cells = [
      m.stage,
      m.objective,
      m.init ?? "–",
      String(runsOf(m)),
      formatStat(t.epochs, 2),
      formatStat(t.steps, 0),
      formatStat(t.seconds, 1),
      t.seconds ? perSeed(t.seconds.values, 1) : "–",
      formatStat(t.examplesPerSecond, 1),
      formatStat(t.bestValidLoss),
      formatStat(t.bestValidHr1),
      formatStat(t.evalSeconds, 1),
    ];
    return `| ${cells.join(" | ")} |`;
  });
  const head = tableHead([
    "stage",
    "objective / model",
    "from",
    "n",
    "epochs",
    "steps",
    "train s",
    "train s per seed",
    "examples/s",
    "best valid loss",
    "best valid HR@1",
    "eval s",
  ]);
  return `${head}\n${rows.join("\n")}`;
}

/** What the page shows of the config (all of it goes into the Configuration section). */
type Shown = Pick<ExperimentConfig, "name" | "description" | "data" | "evaluation">;

/** What the seed changes in each run, as far as this config lets it. */
function seedNote(config: Shown): string {
  const fixedData = (config.data.prepare as { seed?: number }).seed;
  const data =
    fixedData !== undefined
      ? `data preparation does not: \`data.prepare.seed: ${fixedData}\` gives every run the same prepared data`
      : "data preparation's sampling: the user split (`split: users`), capped subsamples (`maxTrain`/`maxValid`/`maxTest`), candidate lists for sources that sample them (S-DPO's files bring their own candidates and split), training negatives and prompt templates";
  return [
    "Run s sets `seed` and `model.seed` to s (its exact configuration: `seed-<s>/results.json`). The seed changes:",
    `- ${data};`,
    "- the order of the training data (language models and baselines);",
    "- initial weights (a model from a preset, LoRA adapters, baselines);",
    "- dropout masks.",
    ...(config.data.synth
      ? ["The synthetic world (`data.synth.seed`) is the same in every run."]
      : []),
  ].join("\n");
}

/** A margin cell: "+0.0059 ± 0.0047 (3/3)", the share of seeds where the method is ahead. */
function formatMargin(m: Margin["metrics"][string]): string {
  if (!m) return "–";
  const sign = (v: number) => `${v >= 0 ? "+" : "−"}${Math.abs(v).toFixed(4)}`;
  const spread = m.diff.n > 1 ? ` ± ${m.diff.std.toFixed(4)}` : "";
  return `${sign(m.diff.mean)}${spread} (${m.ahead}/${m.diff.n})`;
}

const RELATIONS: Record<Margin["relation"], string> = {
  init: "over its start",
  siblings: "same start",
  baseline: "vs baseline",
};

/** Paired margins on the papers' two ranking metrics (all five are in results.json). */
function marginsTable(margins: readonly Margin[]): string {
  const rows = margins.map(
    (m) =>
      `| ${m.method} − ${m.versus} | ${RELATIONS[m.relation]} | ${formatMargin(m.metrics["ranking.sum.hr.1"])} | ${formatMargin(m.metrics["ranking.sum.ndcg.5"])} |`,
  );
  return [tableHead(["margin", "pair", "HR@1", "NDCG@5"]), ...rows].join("\n");
}

/** The multi-seed results page. */
export function seedsMarkdown(
  config: Shown,
  agg: SeedsAggregate,
  metrics: readonly EvalMetrics[],
): string {
  const n = agg.seeds.length;
  const asked = config.evaluation.protocols;
  const parts = [
    `# ${config.name}${config.description ? `: ${config.description}` : ""}`,
    "",
    `Mean ± sample standard deviation over n = ${n} run${n === 1 ? "" : "s"} (seed${n === 1 ? "" : "s"} ${agg.seeds.join(", ")}); each run is a complete experiment in \`seed-<s>/\` with its own results.md. n/a: the protocol does not apply to the model; –: not measured.`,
  ];
  for (const [p, title, cols] of TABLES) {
    if (!asked.includes(p)) continue;
    if (p === "catalog" && !agg.methods.some((m) => m.metrics["catalog.hr10"])) continue;
    parts.push("", `## ${title}`, "", protocolTable(agg.methods, p, cols));
    if (p === "ranking" && agg.methods.some((m) => m.lastPerUser)) {
      const without = agg.methods.filter((m) => !m.lastPerUser).map((m) => m.stage);
      parts.push(
        "",
        "## Ranking, last prompt of each test user",
        "",
        `The same ranks, each test user's last evaluated prompt only (the S-DPO paper's view: one prompt per user), from every run's \`eval/<stage>/predictions.jsonl\`; users: per run. ${without.length ? `No per-example ranking for ${without.join(", ")} (–).` : "Every row has this view."}`,
        "",
        userViewTable(agg.methods),
      );
    }
    if (p === "ranking" && agg.margins.length > 0) {
      parts.push(
        "",
        "## Paired margins (ranking)",
        "",
        "Each seed's two methods on the same prompts, differenced, then mean ± std of the per-seed differences; in brackets the seeds where the first method is ahead. The papers' orderings (S-DPO > DPO > SFT) are judged on these.",
        "",
        marginsTable(agg.margins),
      );
    }
  }
  const examples = agg.methods[0]?.examples ?? [];
  return [
    ...parts,
    "",
    protocolNotes(examples[0] ?? 0, config.evaluation.maxNewTokens, metrics),
    "",
    "## Training",
    "",
    trainingTable(agg.methods),
    "",
    "Seconds are wall-clock on the machine that ran each seed (other load on it shows up there).",
    "",
    "## What varies with the seed",
    "",
    seedNote(config),
    "",
    configurationSection(config),
  ].join("\n");
}
