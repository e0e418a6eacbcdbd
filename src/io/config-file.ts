// The one reader of YAML/JSON settings files (training configs, experiments): file → plain object,
// with errors that name the file, line and column and say what was expected.
import { readFile } from "node:fs/promises";
import YAML from "yaml";
import { UserError } from "./errors.js";

/** Line and column (1-based) of character `offset` in `text`. */
function lineCol(text: string, offset: number): { line: number; col: number } {
  const before = text.slice(0, Math.max(0, Math.min(offset, text.length)));
  const line = before.split("\n").length;
  return { line, col: offset - before.lastIndexOf("\n") };
}

/** Parses settings text (`.json` by extension, YAML otherwise — YAML also reads JSON). */
export function parseConfigText(text: string, file: string): Record<string, unknown> {
  let parsed: unknown;
  if (file.endsWith(".json")) {
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      // Node 20's JSON errors carry no position; YAML (a superset of JSON) locates the mistake.
      const message = (error as Error).message.replace(
        /,? (?:\.\.\.)?"[\s\S]*$| in JSON at[\s\S]*$/,
        "",
      );
      const pos = YAML.parseDocument(text).errors[0]?.pos[0];
      const at =
        pos === undefined ? "" : (({ line, col }) => `:${line}:${col}`)(lineCol(text, pos));
      throw new UserError(`${file}${at}: not valid JSON (${message})`);
    }
  } else {
    const doc = YAML.parseDocument(text, { prettyErrors: false, uniqueKeys: true });
    const first = doc.errors[0];
    if (first) {
      const { line, col } = lineCol(text, first.pos[0]);
      const message = first.message.split("\n")[0].replace(/ at line \d+, column \d+:?$/, "");
      throw new UserError(`${file}:${line}:${col}: not valid YAML (${message})`);
    }
    parsed = doc.toJS();
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== "object" || Array.isArray(parsed))
    throw new UserError(
      `${file}: expected a mapping of settings (key: value), got ${Array.isArray(parsed) ? "a list" : typeof parsed}`,
    );
  return parsed as Record<string, unknown>;
}

/** Reads a YAML or JSON settings file into a plain object. */
export async function readConfigFile(file: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === "ENOENT"
        ? "no such file"
        : code === "EISDIR"
          ? "is a directory"
          : `cannot be read (${code})`;
    throw new UserError(`${file}: ${why}`);
  }
  return parseConfigText(text, file);
}
