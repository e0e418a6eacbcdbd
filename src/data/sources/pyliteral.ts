import { badRow } from "../errors.js";
import { forEachLine } from "../lines.js";
import type { LoadOptions } from "../log.js";
// A parser for Python literal lines (dicts, lists, strings, numbers, True/False/None), the format
// of the UCSD Steam and older Amazon dumps, which are not JSON.

/** Parses one Python literal; throws an Error with the character offset on bad syntax. */
export function parsePyLiteral(text: string): unknown {
  let i = 0;
  const ws = () => {
    while (i < text.length && /\s/.test(text[i])) i++;
  };
  const fail = (what: string): never => {
    throw new Error(`${what} at character ${i + 1}`);
  };
  const str = (): string => {
    const q = text[i++];
    let out = "";
    while (i < text.length && text[i] !== q) {
      let c = text[i++];
      if (c === "\\") {
        c = text[i++];
        const esc: Record<string, string> = {
          n: "\n",
          t: "\t",
          r: "\r",
          "\\": "\\",
          "'": "'",
          '"': '"',
          "0": "\0",
        };
        if (c === "x") {
          out += String.fromCharCode(Number.parseInt(text.slice(i, i + 2), 16));
          i += 2;
        } else if (c === "u") {
          out += String.fromCharCode(Number.parseInt(text.slice(i, i + 4), 16));
          i += 4;
        } else if (c === "U") {
          out += String.fromCodePoint(Number.parseInt(text.slice(i, i + 8), 16));
          i += 8;
        } else if (c === "\n") {
          // line continuation
        } else out += esc[c] ?? `\\${c}`;
      } else out += c;
    }
    if (text[i] !== q) fail("unterminated string");
    i++;
    return out;
  };
  const value = (): unknown => {
    ws();
    const c = text[i];
    if (c === "{") {
      i++;
      const obj: Record<string, unknown> = {};
      ws();
      while (text[i] !== "}") {
        const k = value();
        ws();
        if (text[i++] !== ":") fail("expected ':'");
        obj[String(k)] = value();
        ws();
        if (text[i] === ",") i++;
        else if (text[i] !== "}") fail("expected ',' or '}'");
        ws();
      }
      i++;
      return obj;
    }
    if (c === "[" || c === "(") {
      const close = c === "[" ? "]" : ")";
      i++;
      const arr: unknown[] = [];
      ws();
      while (text[i] !== close) {
        arr.push(value());
        ws();
        if (text[i] === ",") i++;
        else if (text[i] !== close) fail(`expected ',' or '${close}'`);
        ws();
      }
      i++;
      return arr;
    }
    if (c === "'" || c === '"') return str();
    if ((c === "u" || c === "b" || c === "r") && (text[i + 1] === "'" || text[i + 1] === '"')) {
      i++;
      return str();
    }
    for (const [w, v] of [
      ["True", true],
      ["False", false],
      ["None", null],
    ] as const)
      if (text.startsWith(w, i)) {
        i += w.length;
        return v;
      }
    const m = /^-?(\d+\.?\d*(e[-+]?\d+)?|\.\d+|inf|nan)/i.exec(text.slice(i, i + 40));
    if (!m) return fail("unexpected token");
    i += m[0].length;
    return Number(m[0]);
  };
  const v = value();
  ws();
  if (i < text.length) fail("trailing characters");
  return v;
}

/** A JSON line or a Python-literal line, whichever the dump used. */
export function parseJsonOrPy(text: string): unknown {
  const t = text.trim();
  if (t.startsWith('{"') || t.startsWith("[")) {
    try {
      return JSON.parse(t);
    } catch {
      // fall through: some dumps mix quoting styles
    }
  }
  return parsePyLiteral(t);
}

/**
 * Calls `visit` with each non-empty line of a JSON-lines (or Python-literal lines) file parsed
 * to an object; an unparseable line is a bad row (`<what>: …`) under the load policy.
 */
export async function forEachRecord(
  file: string,
  opts: LoadOptions,
  what: string,
  visit: (record: Record<string, unknown>, lineNo: number) => void,
): Promise<void> {
  await forEachLine(
    file,
    (line, n) => {
      if (!line.trim()) return;
      let record: Record<string, unknown>;
      try {
        record = parseJsonOrPy(line) as Record<string, unknown>;
      } catch (e) {
        return badRow(opts.policy, file, n, `${what}: ${(e as Error).message}`);
      }
      visit(record, n);
    },
    "utf8",
    !opts.quiet,
  );
}
