// Which columns of a generic CSV/TSV/JSONL log hold the user, item, rating and time: the ones
// named by --user/--item/--rating/--time, else the first conventional name found in the header.
import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import { createGunzip } from "node:zlib";
import { DataError } from "../errors.js";
import { splitDelimited } from "../parse.js";

/** The column roles of an interaction log. */
export type ColumnRole = "user" | "item" | "rating" | "time";

/** Conventional header names per role, in order of preference (matched case-insensitively). */
export const CONVENTIONAL_COLUMNS: Record<ColumnRole, readonly string[]> = {
  user: ["user", "user_id", "userid", "uid", "customer_id", "reviewerid", "visitorid"],
  item: [
    "item",
    "item_id",
    "itemid",
    "iid",
    "movie_id",
    "movieid",
    "product_id",
    "asin",
    "book_id",
    "track_id",
    "song_id",
    "game_id",
    "app_id",
  ],
  rating: ["rating", "ratings", "score", "stars", "overall", "rate"],
  time: [
    "time",
    "timestamp",
    "ts",
    "datetime",
    "date",
    "unixreviewtime",
    "unix_time",
    "created_at",
  ],
};

/** The mapping used: each role's column (null when absent) and whether it was given or detected. */
export interface ColumnMapping {
  user: string;
  item: string;
  rating: string | null;
  time: string | null;
  detected: ColumnRole[];
}

/** The header of a table file: the first non-empty line's fields, or the first JSON object's keys. */
export async function readHeader(file: string, format: "csv" | "tsv" | "jsonl"): Promise<string[]> {
  let input: NodeJS.ReadableStream = createReadStream(file);
  if (file.endsWith(".gz")) input = input.pipe(createGunzip());
  const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  try {
    for await (const line of lines) {
      if (!line.trim()) continue;
      if (format !== "jsonl")
        return splitDelimited(line, format === "tsv" ? "\t" : ",").map((c) => c.trim());
      try {
        const obj = JSON.parse(line) as unknown;
        if (obj && typeof obj === "object" && !Array.isArray(obj)) return Object.keys(obj);
      } catch {
        // The row reader reports the bad line with its number.
      }
      return [];
    }
  } finally {
    lines.close();
  }
  throw new DataError("empty file: expected a header line naming the columns", file);
}

/** Resolves the column mapping against a header; a given name must exist, user and item must be found. */
export function resolveColumns(
  header: readonly string[],
  given: Partial<Record<ColumnRole, string>>,
  file: string,
): ColumnMapping {
  const lower = new Map(header.map((h) => [h.toLowerCase(), h]));
  const detected: ColumnRole[] = [];
  const pick = (role: ColumnRole): string | null => {
    const name = given[role];
    if (name !== undefined) {
      if (!header.includes(name))
        throw new DataError(
          `header lacks column ${name} (--${role}); found ${header.join(", ")}`,
          file,
          1,
        );
      return name;
    }
    for (const conventional of CONVENTIONAL_COLUMNS[role]) {
      const found = lower.get(conventional);
      if (found !== undefined) {
        detected.push(role);
        return found;
      }
    }
    return null;
  };
  const user = pick("user");
  const item = pick("item");
  const rating = pick("rating");
  const time = pick("time");
  for (const [role, value] of [
    ["user", user],
    ["item", item],
  ] as const)
    if (value === null)
      throw new DataError(
        `no ${role} column: none of ${CONVENTIONAL_COLUMNS[role].join(", ")} in the header (${header.join(", ")}); name it with --${role}`,
        file,
        1,
      );
  return { user: user as string, item: item as string, rating, time, detected };
}

/** One line saying which mapping was used, and what a missing time column means for order. */
export function describeColumns(m: ColumnMapping): string {
  const show = (role: ColumnRole, col: string | null) =>
    col === null
      ? `${role}: none`
      : `${role}=${col}${m.detected.includes(role) ? " (detected)" : ""}`;
  const parts = [
    show("user", m.user),
    show("item", m.item),
    show("rating", m.rating),
    show("time", m.time),
  ];
  const order =
    m.time === null
      ? "; no time column: each user's history is in file order"
      : "; histories ordered by time";
  return `columns ${parts.join(", ")}${order}`;
}
