// Generic CSV/TSV/JSONL logs with a column mapping, plus an optional title file.
import { badRow, DataError } from "../errors.js";
import { forEachLine } from "../lines.js";
import { InteractionLog, type LoadedLog, type LoadOptions } from "../log.js";
import { jsonLine, numberField, splitDelimited, timeField } from "../parse.js";
import type { Item } from "../types.js";
import { type ColumnRole, describeColumns, readHeader, resolveColumns } from "./columns.js";

type Row = (name: string) => string | number | undefined;

/** Which reader a file needs, by extension (a .gz suffix is looked through). */
export function tableFormat(file: string): "csv" | "tsv" | "jsonl" {
  const f = file.replace(/\.gz$/, "").toLowerCase();
  if (f.endsWith(".jsonl") || f.endsWith(".json") || f.endsWith(".ndjson")) return "jsonl";
  if (f.endsWith(".tsv") || f.endsWith(".tab") || f.endsWith(".dat") || f.endsWith(".txt"))
    return "tsv";
  return "csv";
}

/**
 * Streams a table (CSV/TSV with a header line, or JSON lines) and calls `onRow` with a field
 * getter; `need` lists the columns that must exist, checked against the header.
 */
export async function forEachRow(
  file: string,
  need: string[],
  opts: LoadOptions,
  onRow: (get: Row, line: number) => void,
): Promise<void> {
  const format = tableFormat(file);
  let header: Map<string, number> | undefined;
  await forEachLine(
    file,
    (line, n) => {
      if (!line.trim()) return;
      if (format === "jsonl") {
        const obj = jsonLine(line, file, n, opts.policy);
        if (!obj) return;
        onRow((k) => {
          const v = obj[k];
          return typeof v === "number" || typeof v === "string"
            ? v
            : v == null
              ? undefined
              : String(v);
        }, n);
        return;
      }
      const cols = splitDelimited(line, format === "tsv" ? "\t" : ",");
      if (!header) {
        header = new Map(cols.map((c, i) => [c.trim(), i]));
        const missing = need.filter((c) => !header?.has(c));
        if (missing.length)
          throw new DataError(
            `header lacks column(s) ${missing.join(", ")}; found ${[...header.keys()].join(", ")}`,
            file,
            1,
          );
        return;
      }
      if (cols.length !== header.size)
        return badRow(
          opts.policy,
          file,
          n,
          `wrong column count: expected ${header.size}, got ${cols.length}`,
        );
      const h = header;
      onRow((k) => {
        const i = h.get(k);
        return i === undefined ? undefined : cols[i];
      }, n);
    },
    "utf8",
    !opts.quiet,
  );
}

/** Reads a title file (CSV/TSV/JSONL with a title column and an id column: the first of `idCols` present). */
export async function readTitleFile(
  file: string,
  idCols: string[],
  titleCol: string,
  opts: LoadOptions,
): Promise<Map<string, Item>> {
  const catalog = new Map<string, Item>();
  await forEachRow(file, [titleCol], opts, (get, n) => {
    const idCol = idCols.find((k) => get(k) !== undefined) ?? idCols[0];
    const id = String(get(idCol) ?? "").trim();
    const title = String(get(titleCol) ?? "").trim();
    if (!id) return badRow(opts.policy, file, n, `field ${idCols.join(" or ")}: missing item id`);
    if (!title) return badRow(opts.policy, file, n, `field ${titleCol}: empty title`);
    catalog.set(id, { id, title });
  });
  return catalog;
}

/**
 * A generic log. Columns are those named by `opts.columns`, else detected from conventional
 * header names (columns.ts); the mapping used is returned for the manifest and said on stderr.
 */
export async function loadCsv(opts: LoadOptions): Promise<LoadedLog> {
  const given = Object.fromEntries(
    Object.entries(opts.columns ?? {}).filter(([, v]) => v !== undefined && v !== ""),
  ) as Partial<Record<ColumnRole, string>>;
  const c = resolveColumns(await readHeader(opts.path, tableFormat(opts.path)), given, opts.path);
  if (!opts.quiet) process.stderr.write(`${describeColumns(c)}\n`);
  const need = [c.user, c.item, ...(c.rating ? [c.rating] : []), ...(c.time ? [c.time] : [])];
  let catalog = new Map<string, Item>();
  const files = [opts.path];
  if (opts.titleFile) {
    catalog = await readTitleFile(opts.titleFile, ["id", c.item], "title", opts);
    files.push(opts.titleFile);
  }
  const log = new InteractionLog();
  await forEachRow(opts.path, need, opts, (get, n) => {
    const user = String(get(c.user) ?? "").trim();
    const item = String(get(c.item) ?? "").trim();
    if (!user) return badRow(opts.policy, opts.path, n, `field ${c.user}: empty user id`);
    if (!item) return badRow(opts.policy, opts.path, n, `field ${c.item}: empty item id`);
    let rating = Number.NaN;
    let time = Number.NaN;
    if (c.rating) {
      const r = numberField(String(get(c.rating) ?? ""), c.rating, opts.path, n, opts.policy);
      if (r === undefined) return;
      rating = r;
    }
    if (c.time) {
      const t = timeField(get(c.time), c.time, opts.path, n, opts.policy);
      if (t === undefined) return;
      time = t;
    }
    if (opts.titleFile && !catalog.has(item))
      return badRow(
        opts.policy,
        opts.path,
        n,
        `unknown item id ${item} (not in ${opts.titleFile})`,
      );
    log.add(user, item, rating, time);
  });
  return {
    kind: "log",
    log,
    catalog,
    domain: opts.domain ?? "generic",
    files,
    hasRatings: Boolean(c.rating),
    hasTime: Boolean(c.time),
    columns: c,
  };
}
