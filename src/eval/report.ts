// Writes an evaluation: metrics.json (machines), metrics.md (people), predictions.jsonl (audits);
// and checks, before any evaluation starts, that the report folder can be written.

import { mkdir, open, readdir, rm, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import { tempSibling, writeFileAtomic } from "../io/atomic.js";
import { UserError } from "../io/errors.js";
import type { RecommenderDescription } from "../recommender.js";
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
  /** What was evaluated (the recommender's own description). */
  recommender?: RecommenderDescription;
}

/**
 * Fails fast (before hours of evaluation) when `dir` cannot receive a report: it holds files
 * and `force` is off, or neither it nor its nearest existing parent can be written.
 */
export async function checkReportDir(dir: string, force: boolean): Promise<void> {
  const existing = await stat(dir).catch(() => null);
  if (existing && !existing.isDirectory())
    throw new UserError(`${dir} exists and is not a directory; choose another --out`);
  if (existing && !force && (await readdir(dir)).length > 0)
    throw new UserError(`${dir} already holds files; pass --force to replace the report there`);
  let parent = dir;
  let info = existing;
  while (!info) {
    const up = dirname(parent);
    if (up === parent) break;
    parent = up;
    info = await stat(parent).catch(() => null);
  }
  if (!info?.isDirectory())
    throw new UserError(`${dir}: cannot create it (${parent} is not a directory)`);
  // A probe file, not access(): it also catches read-only mounts and runs as root.
  const probe = tempSibling(join(parent, "probe"), "write-check");
  try {
    await (await open(probe, "wx")).close();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new UserError(`${dir}: cannot write there (${code} in ${parent})`);
  }
  await rm(probe, { force: true });
}

/** Writes the three files into `dir`; returns the Markdown. */
export async function writeEvalReport(
  dir: string,
  report: EvalReport,
  predictions: readonly Prediction[],
): Promise<string> {
  await mkdir(dir, { recursive: true });
  const md = `# Evaluation: ${report.name}\n\nModel \`${report.model.dir}\`${report.model.adapter ? ` + adapter \`${report.model.adapter}\`` : ""}, data \`${report.data}\` (${report.split}).\n\n${metricsMarkdown([{ name: report.name, metrics: report.metrics }])}\n${protocolNotes(report.metrics.examples, report.maxNewTokens, [report.metrics])}\n`;
  await writeFileAtomic(join(dir, "metrics.json"), `${JSON.stringify(report, null, 2)}\n`);
  await writeFileAtomic(join(dir, "metrics.md"), md);
  await writeFileAtomic(
    join(dir, "predictions.jsonl"),
    `${predictions.map((p) => JSON.stringify(p)).join("\n")}\n`,
  );
  return md;
}
