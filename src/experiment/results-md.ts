// The results.md of one experiment run: the metrics table of every method, the protocol, the
// training table and the exact configuration.

import YAML from "yaml";
import { metricsMarkdown, protocolNotes } from "../eval/evaluate.js";
import type { ExperimentConfig } from "./config.js";
import type { ResultRow } from "./run.js";

/** The results table, the training table, the protocol and the exact config. */
export function resultsMarkdown(config: ExperimentConfig, rows: readonly ResultRow[]): string {
  const f = (x: number | null | undefined, d = 4) =>
    x === null || x === undefined ? "–" : x.toFixed(d);
  const training =
    "| stage | objective / model | from | epochs | steps | examples | train s | examples/s | best valid loss | best valid HR@1 | eval s |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n" +
    rows
      .map(
        (r) =>
          `| ${r.stage} | ${r.objective} | ${r.init ?? "–"} | ${r.train.epochs ?? "–"} | ${r.train.steps} | ${r.train.examples} | ${f(r.train.seconds, 1)} | ${f(r.train.examplesPerSecond, 1)} | ${f(r.train.bestValidLoss)} | ${f(r.train.bestValidHr1)} | ${f(r.evalSeconds, 1)} |`,
      )
      .join("\n");
  const examples = rows[0]?.metrics.examples ?? 0;
  return [
    `# ${config.name}${config.description ? `: ${config.description}` : ""}`,
    "",
    metricsMarkdown(rows.map((r) => ({ name: r.stage, metrics: r.metrics }))),
    protocolNotes(
      examples,
      config.evaluation.maxNewTokens,
      rows.map((r) => r.metrics),
    ),
    "",
    "## Training",
    "",
    training,
    "",
    configurationSection(config),
  ].join("\n");
}

/** The "Configuration" section closing a results page: the config as YAML. */
export function configurationSection(config: unknown): string {
  return ["## Configuration", "", "```yaml", YAML.stringify(config).trimEnd(), "```", ""].join(
    "\n",
  );
}
