// Option schemas: zod building blocks with one-line messages (counts, rates), and validation that
// turns zod's issues into one line naming the key's path, what was expected and, for an unknown
// key, the closest valid one. Every option set (prepare, train, eval, runtime) is built from these.

import { z } from "zod";
import { UserError } from "./errors.js";

/** A number; a missing one is reported as required. */
export const num = () =>
  z.number({
    error: (issue) => (issue.input === undefined ? "required (a number)" : "expected a number"),
  });

/** A whole number ≥ 1 (batch sizes, steps, examples, negatives, threads, tokens…). */
export const count = () =>
  num()
    .int({ error: "expected a whole number ≥ 1" })
    .min(1, { error: "expected a whole number ≥ 1" });

/** A whole number ≥ 0 (0 keeps a documented meaning such as "only at the end"). */
export const countOrZero = () =>
  num()
    .int({ error: "expected a whole number ≥ 0" })
    .min(0, { error: "expected a whole number ≥ 0" });

/** A number > 0. */
export const positive = () => num().positive({ error: "expected a number > 0" });

/** A number ≥ 0. */
export const nonNegative = () => num().min(0, { error: "expected a number ≥ 0" });

/** Levenshtein distance (insertions, deletions, substitutions). */
export function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j];
      const same = a[i - 1].toLowerCase() === b[j - 1].toLowerCase();
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, diagonal + (same ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length];
}

/** The candidate closest to `key` by edit distance (ties: the first), or undefined if none. */
export function closest(key: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const c of candidates) {
    const d = editDistance(key, c);
    if (d < bestDistance) [best, bestDistance] = [c, d];
  }
  return best;
}

/** "unknown key "x" (did you mean "y"?)" — the shared wording of every unknown-key error. */
export function unknownKeyMessage(key: string, valid: Iterable<string>): string {
  const suggestion = closest(key, valid);
  return `unknown key "${key}"${suggestion ? ` (did you mean "${suggestion}"?)` : ""}`;
}

type AnySchema = z.core.$ZodType;

/** The schema found at `path` under `schema` (through defaults, optionals, pipes, arrays). */
function schemaAt(
  schema: AnySchema | undefined,
  path: readonly PropertyKey[],
): AnySchema | undefined {
  let s = schema;
  for (let i = 0; s && i <= path.length; ) {
    const def = s._zod.def as unknown as Record<string, unknown> & { type: string };
    if (["default", "optional", "nullable", "prefault", "catch", "readonly"].includes(def.type)) {
      s = def.innerType as AnySchema;
    } else if (def.type === "pipe") {
      s = def.in as AnySchema;
    } else if (def.type === "union") {
      // The first alternative that has an object at the rest of the path.
      for (const option of def.options as AnySchema[]) {
        const found = schemaAt(option, path.slice(i));
        if (found && (found._zod.def as { type: string }).type === "object") return found;
      }
      return undefined;
    } else if (i === path.length) {
      return s;
    } else if (def.type === "object") {
      s = (def.shape as Record<string, AnySchema>)[String(path[i++])];
    } else if (def.type === "array") {
      s = def.element as AnySchema;
      i++;
    } else if (def.type === "record") {
      s = def.valueType as AnySchema;
      i++;
    } else {
      return undefined;
    }
  }
  return s;
}

/** A dotted path as written in a config file: `stages[1].lr`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const p of path) out += typeof p === "number" ? `[${p}]` : `${out ? "." : ""}${String(p)}`;
  return out;
}

/** One line per zod error: every issue, its path, and for unknown keys the closest valid key. */
export function describeIssues(error: z.ZodError, schema?: AnySchema): string {
  const parts: string[] = [];
  for (const issue of error.issues) {
    const at = formatPath(issue.path);
    if (issue.code === "unrecognized_keys") {
      const target = schemaAt(schema, issue.path);
      const def = target?._zod.def as { type?: string; shape?: Record<string, unknown> };
      const valid = def?.type === "object" && def.shape ? Object.keys(def.shape) : [];
      for (const key of issue.keys) {
        const full = formatPath([...issue.path, key]);
        parts.push(`${full}: ${unknownKeyMessage(key, valid)}`);
      }
    } else {
      parts.push(`${at ? `${at}: ` : ""}${issue.message}`);
    }
  }
  return parts.join("; ");
}

/**
 * Parses `input` with `schema`; on failure throws a UserError "`where`: issue; issue…" on one
 * line (`where` names the file or the option set).
 */
export function parseOptions<S extends AnySchema>(
  schema: S,
  input: unknown,
  where: string,
): z.output<S> {
  const result = z.safeParse(schema, input);
  if (!result.success) throw new UserError(`${where}: ${describeIssues(result.error, schema)}`);
  return result.data;
}

/** The same fields, each optional and without its default: only what a file states is kept. */
export function withoutDefaults<T extends Record<string, z.ZodType>>(
  shape: T,
): { [K in keyof T]: z.ZodOptional<z.ZodType<Exclude<z.output<T[K]>, undefined>>> } {
  const out: Record<string, z.ZodType> = {};
  for (const [key, field] of Object.entries(shape)) {
    const def = field._zod.def as unknown as { type: string; innerType?: z.ZodType };
    out[key] = (def.type === "default" ? (def.innerType as z.ZodType) : field).optional();
  }
  return out as never;
}

/** The same fields with their defaults removed: a config must state each one. */
export function withoutDefaultValues(shape: Record<string, z.ZodType>): Record<string, z.ZodType> {
  const out: Record<string, z.ZodType> = {};
  for (const [key, field] of Object.entries(shape)) {
    const def = field._zod.def as unknown as { type: string; innerType?: z.ZodType };
    out[key] = def.type === "default" ? (def.innerType as z.ZodType) : field;
  }
  return out;
}
