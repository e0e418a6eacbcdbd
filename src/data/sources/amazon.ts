// Amazon reviews, 2018 (reviewerID, asin, overall, unixReviewTime) and 2023 (user_id, parent_asin,
// rating, timestamp in ms) JSON lines, with metadata (asin/parent_asin → title) for titles.
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { badRow, DataError } from "../errors.js";
import { exists } from "../lines.js";
import { InteractionLog, type LoadedLog, type LoadOptions } from "../log.js";
import type { Item } from "../types.js";
import { forEachRecord } from "./pyliteral.js";

const pick = (o: Record<string, unknown>, keys: string[]): unknown => {
  for (const k of keys) if (o[k] !== undefined && o[k] !== null && o[k] !== "") return o[k];
  return undefined;
};

/** Finds the review and metadata files: `path` may be a review file or a folder with both. */
async function locate(opts: LoadOptions): Promise<{ reviews: string; meta?: string }> {
  if (!(await exists(opts.path))) throw new DataError("file or folder not found", opts.path);
  let reviews = opts.path;
  let meta = opts.metaFile ?? opts.titleFile;
  const entries = await readdir(opts.path).catch(() => null);
  if (entries) {
    const json = entries.filter((e) => /\.(jsonl?|json\.gz|jsonl\.gz)$/i.test(e)).sort();
    const metas = json.filter((e) => e.toLowerCase().startsWith("meta"));
    const revs = json.filter((e) => !e.toLowerCase().startsWith("meta"));
    if (revs.length !== 1)
      throw new DataError(
        `expected exactly one review file (*.jsonl[.gz], not starting with "meta") in the folder, found ${revs.length}`,
        opts.path,
      );
    reviews = join(opts.path, revs[0]);
    if (!meta && metas.length) meta = join(opts.path, metas[0]);
  }
  return { reviews, meta };
}

/** Reads Amazon metadata lines into a catalog (title required; brand/category kept as attributes). */
async function readMeta(file: string, opts: LoadOptions): Promise<Map<string, Item>> {
  const catalog = new Map<string, Item>();
  await forEachRecord(file, opts, "invalid JSON", (o, n) => {
    const id = pick(o, ["parent_asin", "asin"]);
    const title = String(pick(o, ["title"]) ?? "").trim();
    if (id === undefined) return badRow(opts.policy, file, n, "field asin/parent_asin: missing");
    if (!title) return; // metadata without a title: the item keeps a fallback title if it is used
    const attributes: Record<string, string> = {};
    const cat = pick(o, ["main_category", "main_cat"]);
    if (typeof cat === "string") attributes.category = cat;
    const brand = pick(o, ["brand", "store"]);
    if (typeof brand === "string") attributes.brand = brand;
    catalog.set(String(id), { id: String(id), title, attributes });
  });
  return catalog;
}

/** Amazon reviews (2018 or 2023 layout, detected per line). */
export async function loadAmazon(opts: LoadOptions): Promise<LoadedLog> {
  const { reviews, meta } = await locate(opts);
  const catalog = meta ? await readMeta(meta, opts) : new Map<string, Item>();
  const log = new InteractionLog();
  let untitled = 0;
  await forEachRecord(reviews, opts, "invalid JSON", (o, n) => {
    const user = pick(o, ["user_id", "reviewerID"]);
    const item = pick(o, ["parent_asin", "asin"]);
    const rating = Number(pick(o, ["rating", "overall"]));
    const rawTime = pick(o, ["timestamp", "unixReviewTime"]);
    const time =
      typeof rawTime === "number" ? (rawTime > 1e11 ? rawTime / 1000 : rawTime) : Number(rawTime);
    if (user === undefined)
      return badRow(opts.policy, reviews, n, "field user_id/reviewerID: missing");
    if (item === undefined)
      return badRow(opts.policy, reviews, n, "field parent_asin/asin: missing");
    if (!Number.isFinite(rating))
      return badRow(opts.policy, reviews, n, "field rating/overall: expected a number");
    if (!Number.isFinite(time))
      return badRow(opts.policy, reviews, n, "field timestamp/unixReviewTime: expected a number");
    if (meta && !catalog.has(String(item))) {
      untitled++;
      return;
    }
    log.add(String(user), String(item), rating, time);
  });
  return {
    kind: "log",
    log,
    catalog,
    domain: opts.domain ?? "product",
    files: meta ? [reviews, meta] : [reviews],
    hasRatings: true,
    hasTime: true,
    dropped: untitled
      ? [{ reason: "reviews of items without a titled metadata entry", count: untitled }]
      : undefined,
  };
}
