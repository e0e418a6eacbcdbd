// Small field parsers shared by the loaders; each reports the file, line and field on failure.
import { type BadRowPolicy, badRow } from "./errors.js";

/** Splits one CSV/TSV line, honouring double quotes ("" escapes a quote). */
export function splitDelimited(line: string, delim: string): string[] {
  if (!line.includes('"')) return line.split(delim);
  const out: string[] = [];
  let cur = "";
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"') {
        if (line[i + 1] === '"') {
          cur += '"';
          i++;
        } else quoted = false;
      } else cur += c;
    } else if (c === '"' && cur === "") quoted = true;
    else if (c === delim) {
      out.push(cur);
      cur = "";
    } else cur += c;
  }
  out.push(cur);
  return out;
}

/** Parses a number field; a bad value is a bad row (thrown or counted), returning undefined. */
export function numberField(
  value: string | undefined,
  field: string,
  file: string,
  line: number,
  policy: BadRowPolicy,
): number | undefined {
  const v = value?.trim() ?? "";
  const x = v === "" ? Number.NaN : Number(v);
  if (!Number.isFinite(x)) {
    badRow(
      policy,
      file,
      line,
      `field ${field}: expected a number, got ${JSON.stringify(value ?? "")}`,
    );
    return undefined;
  }
  return x;
}

/** Parses a time: Unix seconds (numbers; milliseconds above 1e11 are scaled) or an ISO date. */
export function timeField(
  value: string | number | undefined,
  field: string,
  file: string,
  line: number,
  policy: BadRowPolicy,
): number | undefined {
  if (typeof value === "number" && Number.isFinite(value))
    return value > 1e11 ? value / 1000 : value;
  const v = String(value ?? "").trim();
  const n = Number(v);
  if (v !== "" && Number.isFinite(n)) return n > 1e11 ? n / 1000 : n;
  const d = Date.parse(v);
  if (v !== "" && Number.isFinite(d)) return d / 1000;
  badRow(
    policy,
    file,
    line,
    `field ${field}: expected a Unix time or a date, got ${JSON.stringify(value ?? "")}`,
  );
  return undefined;
}

/** Checks the column count of a delimited row. */
export function checkColumns(
  cols: string[],
  expected: number,
  file: string,
  line: number,
  policy: BadRowPolicy,
  atLeast = false,
): boolean {
  if (atLeast ? cols.length >= expected : cols.length === expected) return true;
  badRow(
    policy,
    file,
    line,
    `wrong column count: expected ${atLeast ? "at least " : ""}${expected}, got ${cols.length}`,
  );
  return false;
}

/** Parses one JSON line, reporting a bad row on syntax errors or non-objects. */
export function jsonLine(
  text: string,
  file: string,
  line: number,
  policy: BadRowPolicy,
): Record<string, unknown> | undefined {
  try {
    const v = JSON.parse(text);
    if (v && typeof v === "object" && !Array.isArray(v)) return v as Record<string, unknown>;
    badRow(policy, file, line, "expected a JSON object");
  } catch (e) {
    badRow(policy, file, line, `invalid JSON: ${(e as Error).message}`);
  }
  return undefined;
}
