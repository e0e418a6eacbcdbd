// Writes an evaluation: metrics.json (machines), metrics.md (people), predictions.jsonl (audits).

import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { writeFileAtomic } from "../io/atomic.js";
import { type EvalMetrics, metricsMarkdown, type Prediction, protocolNotes } from "./evaluate.js";

export interface EvalReport {
  name: string;
  model: { dir: string; adapter: string | null };
  data: string;
  split: string;
  maxNewTokens: number;
  metrics: EvalMetrics;
  /** Wall time of the evaluation, when measured. */
  seconds?: number;
}

/** Writes the three files into `dir`; returns the Markdown. */
export async function writeEvalReport(
  dir: string,
  report: EvalReport,
  predictions: readonly Prediction[],
): Promise<string> {
  await mkdir(dir, { recursive: true });
  const md = `# Evaluation: ${report.name}\n\nModel \`${report.model.dir}\`${report.model.adapter ? ` + adapter \`${report.model.adapter}\`` : ""}, data \`${report.data}\` (${report.split}).\n\n${metricsMarkdown([{ name: report.name, metrics: report.metrics }])}\n${protocolNotes(report.metrics.examples, report.maxNewTokens)}\n`;
  await writeFileAtomic(join(dir, "metrics.json"), `${JSON.stringify(report, null, 2)}\n`);
  await writeFileAtomic(join(dir, "metrics.md"), md);
  await writeFileAtomic(
    join(dir, "predictions.jsonl"),
    `${predictions.map((p) => JSON.stringify(p)).join("\n")}\n`,
  );
  return md;
}
