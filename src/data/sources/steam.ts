// Steam (UCSD, Kang & McAuley): review lines (Python literals) with hours played, plus game metadata.
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { badRow, DataError } from "../errors.js";
import { exists } from "../lines.js";
import { InteractionLog, type LoadedLog, type LoadOptions } from "../log.js";
import type { Item } from "../types.js";
import { forEachRecord } from "./pyliteral.js";

/** Hours played → a 1–5 intensity (<1 h: 1, <5: 2, <20: 3, <100: 4, else 5); NaN (no rating) when unknown. */
export function hoursToRating(hours: unknown): number {
  const h = Number(hours);
  if (hours === undefined || hours === null || !Number.isFinite(h)) return Number.NaN;
  return h < 1 ? 1 : h < 5 ? 2 : h < 20 ? 3 : h < 100 ? 4 : 5;
}

/** Steam from a folder with steam_reviews.json[.gz] and steam_games.json[.gz], or a review file. */
export async function loadSteam(opts: LoadOptions): Promise<LoadedLog> {
  if (!(await exists(opts.path))) throw new DataError("file or folder not found", opts.path);
  let reviews = opts.path;
  let meta = opts.metaFile ?? opts.titleFile;
  const entries = await readdir(opts.path).catch(() => null);
  if (entries) {
    const r = entries.filter((e) => /review/i.test(e)).sort();
    const g = entries.filter((e) => /games|meta/i.test(e)).sort();
    if (!r.length)
      throw new DataError("no review file (steam_reviews.json[.gz]) in the folder", opts.path);
    reviews = join(opts.path, r[0]);
    if (!meta && g.length) meta = join(opts.path, g[0]);
  }
  const catalog = new Map<string, Item>();
  if (meta) {
    const m = meta;
    await forEachRecord(m, opts, "invalid record", (o, _n) => {
      const id = o.id ?? o.product_id;
      const title = String(o.app_name ?? o.title ?? "").trim();
      if (id === undefined || !title) return; // games without an id or a name cannot be shown
      const attributes: Record<string, string[] | string> = {};
      if (Array.isArray(o.genres)) attributes.genres = o.genres.map(String);
      if (typeof o.developer === "string") attributes.developer = o.developer;
      catalog.set(String(id), { id: String(id), title, attributes });
    });
  }
  const log = new InteractionLog();
  let untitled = 0;
  await forEachRecord(reviews, opts, "invalid record", (o, n) => {
    const user = o.user_id ?? o.username;
    const item = o.product_id ?? o.item_id;
    if (user === undefined || user === "")
      return badRow(opts.policy, reviews, n, "field username/user_id: missing");
    if (item === undefined) return badRow(opts.policy, reviews, n, "field product_id: missing");
    const t = Date.parse(String(o.date ?? ""));
    if (meta && !catalog.has(String(item))) {
      untitled++;
      return;
    }
    log.add(
      String(user),
      String(item),
      hoursToRating(o.hours),
      Number.isFinite(t) ? t / 1000 : Number.NaN,
    );
  });
  return {
    kind: "log",
    log,
    catalog,
    domain: "game",
    files: meta ? [reviews, meta] : [reviews],
    hasRatings: true,
    hasTime: true,
    dropped: untitled
      ? [{ reason: "reviews of games without a name in the metadata", count: untitled }]
      : undefined,
  };
}
