// Composes report.html (self-contained: inline SVG and CSS, nothing fetched) and report.md
// (linking the PNGs) from rendered charts and the results table.

import { byMethod } from "./charts.js";
import { type MethodRun, meanStd } from "./data.js";

/** A rendered chart placed in a report section. */
export interface RenderedChart {
  id: string;
  title: string;
  svg: string;
  png: string; // file name beside the report
}

/** A titled group of charts (a training run, an experiment stage). */
export interface Section {
  title: string;
  note?: string;
  charts: RenderedChart[];
}

/** A results table: header cells and rows of text cells. */
export interface Table {
  header: string[];
  rows: string[][];
}

const COLUMNS: [string, (r: MethodRun) => number | null | undefined][] = [
  ["HR@1 (generation)", (r) => r.generationHr1],
  ["HR@1", (r) => r.ranking?.hr["1"]],
  ["HR@3", (r) => r.ranking?.hr["3"]],
  ["HR@5", (r) => r.ranking?.hr["5"]],
  ["HR@10", (r) => r.ranking?.hr["10"]],
  ["NDCG@5", (r) => r.ranking?.ndcg["5"]],
  ["NDCG@10", (r) => r.ranking?.ndcg["10"]],
  ["MRR", (r) => r.ranking?.mrr],
];

/** Every method's metrics, mean ± sample std over its seeds ("–" where not measured). */
export function resultsTable(runs: readonly MethodRun[]): Table {
  const rows: string[][] = [];
  for (const [method, list] of byMethod(runs)) {
    const cells = COLUMNS.map(([, read]) => {
      const values = list.map(read).filter((v): v is number => typeof v === "number");
      if (!values.length) return "–";
      const s = meanStd(values);
      return s.n > 1 ? `${s.mean.toFixed(4)} ± ${s.std.toFixed(4)}` : s.mean.toFixed(4);
    });
    rows.push([method, String(list.length), ...cells]);
  }
  return { header: ["method", "seeds", ...COLUMNS.map((c) => c[0])], rows };
}

const escapeHtml = (s: string) =>
  s
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;");
const escapeMd = (s: string) => s.replaceAll("|", "\\|");

/** The HTML page. */
export function reportHtml(
  title: string,
  sections: readonly Section[],
  table: Table | null,
): string {
  const parts: string[] = [
    "<!doctype html>",
    '<html lang="en"><head><meta charset="utf-8">',
    `<title>${escapeHtml(title)}</title>`,
    "<style>body{font-family:'DejaVu Sans',sans-serif;margin:2em;max-width:1100px;color:#222}" +
      "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}" +
      "td:first-child,th:first-child{text-align:left}figure{margin:1em 0}figcaption{font-size:90%;color:#555}</style>",
    "</head><body>",
    `<h1>${escapeHtml(title)}</h1>`,
  ];
  if (table) {
    parts.push("<h2>Results</h2><table><thead><tr>");
    parts.push(...table.header.map((h) => `<th>${escapeHtml(h)}</th>`), "</tr></thead><tbody>");
    for (const row of table.rows)
      parts.push(`<tr>${row.map((c) => `<td>${escapeHtml(c)}</td>`).join("")}</tr>`);
    parts.push(
      "</tbody></table><p>Ranking protocol: every candidate scored by its answer log-likelihood; ± is the sample standard deviation over seeds.</p>",
    );
  }
  for (const s of sections) {
    parts.push(`<h2>${escapeHtml(s.title)}</h2>`);
    if (s.note) parts.push(`<p>${escapeHtml(s.note)}</p>`);
    for (const c of s.charts)
      parts.push(
        `<figure id="${c.id}">${c.svg}<figcaption>${escapeHtml(c.title)} (<a href="${c.png}">PNG</a>)</figcaption></figure>`,
      );
  }
  parts.push("</body></html>", "");
  return parts.join("\n");
}

/** The Markdown page: the table and the PNGs. */
export function reportMarkdown(
  title: string,
  sections: readonly Section[],
  table: Table | null,
): string {
  const lines = [`# ${title}`, ""];
  if (table) {
    lines.push("## Results", "", `| ${table.header.map(escapeMd).join(" | ")} |`);
    lines.push(`| ${table.header.map(() => "---").join(" | ")} |`);
    for (const row of table.rows) lines.push(`| ${row.map(escapeMd).join(" | ")} |`);
    lines.push("", "± is the sample standard deviation over seeds.", "");
  }
  for (const s of sections) {
    lines.push(`## ${s.title}`, "");
    if (s.note) lines.push(s.note, "");
    for (const c of s.charts) lines.push(`![${c.title}](${c.png})`, "");
  }
  return lines.join("\n");
}
