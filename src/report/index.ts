// `writeReport(dir)`: the report of a training run or an experiment — report.html (inline SVG),
// one PNG per chart beside it and report.md linking them, every file written atomically.

import { existsSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { writeFileAtomic } from "../io/atomic.js";
import { type Chart, comparisonChart, hrCurveChart, runCharts, seedLossChart } from "./charts.js";
import { type RunLog, readResults, readRunLog, reportKind } from "./data.js";
import {
  type RenderedChart,
  reportHtml,
  reportMarkdown,
  resultsTable,
  type Section,
  type Table,
} from "./document.js";
import { specToSvg, svgToPng } from "./render.js";

export interface ReportOptions {
  /** Output directory (default: the run or experiment directory itself). */
  out?: string;
  /** PNG pixels per SVG pixel (default 2). */
  scale?: number;
}

/** What was written. */
export interface ReportFiles {
  html: string;
  markdown: string;
  pngs: string[];
}

/** Writes the report of the training run or experiment in `dir`. */
export async function writeReport(dir: string, options: ReportOptions = {}): Promise<ReportFiles> {
  const out = options.out ?? dir;
  const kind = reportKind(dir);
  const pngs: string[] = [];
  const render = async (charts: Chart[], prefix: string): Promise<RenderedChart[]> => {
    const done: RenderedChart[] = [];
    for (const c of charts) {
      const svg = await specToSvg(c.spec);
      const png = `${prefix}${c.id}.png`;
      await writeFileAtomic(join(out, png), svgToPng(svg, options.scale));
      pngs.push(join(out, png));
      done.push({ id: `${prefix}${c.id}`, title: c.title, svg, png });
    }
    return done;
  };

  let title: string;
  let table: Table | null = null;
  const sections: Section[] = [];
  if (kind === "run") {
    title = `Training run ${basename(resolve(dir))}`;
    const log = await readRunLog(dir);
    const charts = runCharts(log);
    sections.push({
      title: "Training",
      note: `${log.train.length} logged steps, ${log.valid.length} validation passes.`,
      charts: await render(charts, ""),
    });
  } else {
    const results = await readResults(dir);
    title = `Experiment ${results.name}`;
    table = resultsTable(results.runs);
    const compare = [comparisonChart(results.runs), hrCurveChart(results.runs)].filter(
      (c): c is Chart => c !== null,
    );
    sections.push({ title: "Methods", charts: await render(compare, "") });
    // Each trained stage's own curves, where its run directory is present; in a multi-seed
    // experiment (rows with seeds, runs in seed-<s>/), the loss of every seed in one chart.
    const stages = [...new Set(results.runs.map((r) => r.stage).filter((s): s is string => !!s))];
    const seeds = [...new Set(results.runs.map((r) => r.seed).filter((s) => s !== null))];
    for (const stage of stages) {
      const runDir = join(dir, "stages", stage);
      const prefix = `stage-${stage.replace(/[^\w.-]+/g, "_")}-`;
      if (existsSync(join(runDir, "metrics.jsonl"))) {
        const log = await readRunLog(runDir);
        sections.push({
          title: `Stage ${stage}: training`,
          note: `${log.train.length} logged steps, ${log.valid.length} validation passes.`,
          charts: await render(runCharts(log), prefix),
        });
        continue;
      }
      const logs: [number, RunLog][] = [];
      for (const seed of seeds) {
        const seedRun = join(dir, `seed-${seed}`, "stages", stage);
        if (existsSync(join(seedRun, "metrics.jsonl")))
          logs.push([seed, await readRunLog(seedRun)]);
      }
      const chart = seedLossChart("loss", `Stage ${stage}: loss per seed`, logs);
      if (!chart) continue;
      sections.push({
        title: `Stage ${stage}: training`,
        note: `Seeds ${logs.map(([s]) => s).join(", ")}; every chart of one seed: prefrec report ${join(dir, `seed-${logs[0][0]}`)}.`,
        charts: await render([chart], prefix),
      });
    }
  }
  const html = join(out, "report.html");
  const markdown = join(out, "report.md");
  await writeFileAtomic(html, reportHtml(title, sections, table));
  await writeFileAtomic(markdown, reportMarkdown(title, sections, table));
  return { html, markdown, pngs };
}
