// LastFM HetRec 2011: play counts (mapped to a per-user 1–5 intensity) + first tag time as the clock.
import { join } from "node:path";
import { badRow } from "../errors.js";
import { exists, forEachLine, requireFile } from "../lines.js";
import { InteractionLog, type LoadedLog, type LoadOptions } from "../log.js";
import { checkColumns, numberField } from "../parse.js";
import type { Item } from "../types.js";

/**
 * Maps a user's play counts to 1–5 by per-user quintile of rank (ties share the lower rank), so
 * heavy and light listeners get comparable intensities: the top fifth of a user's artists is 5.
 */
export function playCountsToRatings(counts: readonly number[]): number[] {
  const n = counts.length;
  const order = counts.map((c, i) => [c, i] as const).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const out = new Array<number>(n);
  let r = 0;
  for (let k = 0; k < n; k++) {
    if (k > 0 && order[k][0] !== order[k - 1][0]) r = k;
    out[order[k][1]] = Math.min(5, 1 + Math.floor((5 * r) / n));
  }
  return out;
}

/** LastFM HetRec from a folder with user_artists.dat, artists.dat and optionally the tag timestamps. */
export async function loadLastfmHetrec(opts: LoadOptions): Promise<LoadedLog> {
  const uaFile = await requireFile(join(opts.path, "user_artists.dat"), "HetRec user_artists.dat", {
    name: "lastfm-hetrec",
  });
  const artistFile = await requireFile(join(opts.path, "artists.dat"), "HetRec artists.dat", {
    name: "lastfm-hetrec",
  });
  const tsFile = join(opts.path, "user_taggedartists-timestamps.dat");
  const catalog = new Map<string, Item>();
  await forEachLine(artistFile, (line, n) => {
    if (n === 1 || !line.trim()) return;
    const c = line.split("\t");
    if (!checkColumns(c, 2, artistFile, n, opts.policy, true)) return;
    if (!c[1].trim()) return badRow(opts.policy, artistFile, n, "field name: empty artist name");
    catalog.set(c[0], { id: c[0], title: c[1].trim() });
  });
  const firstTag = new Map<string, number>();
  const hasTime = await exists(tsFile);
  if (hasTime) {
    await forEachLine(
      tsFile,
      (line, n) => {
        if (n === 1 || !line.trim()) return;
        const c = line.split("\t");
        if (!checkColumns(c, 4, tsFile, n, opts.policy)) return;
        const t = numberField(c[3], "timestamp", tsFile, n, opts.policy);
        if (t === undefined) return;
        const key = `${c[0]}\t${c[1]}`;
        const prev = firstTag.get(key);
        if (prev === undefined || t / 1000 < prev) firstTag.set(key, t / 1000);
      },
      "utf8",
      !opts.quiet,
    );
  }
  const rows: { user: string; item: string; count: number }[] = [];
  await forEachLine(
    uaFile,
    (line, n) => {
      if (n === 1 || !line.trim()) return;
      const c = line.split("\t");
      if (!checkColumns(c, 3, uaFile, n, opts.policy)) return;
      const count = numberField(c[2], "weight", uaFile, n, opts.policy);
      if (count === undefined) return;
      if (!catalog.has(c[1]))
        return badRow(opts.policy, uaFile, n, `unknown artist id ${c[1]} (not in artists.dat)`);
      rows.push({ user: c[0], item: c[1], count });
    },
    "utf8",
    !opts.quiet,
  );
  const byUser = new Map<string, number[]>();
  rows.forEach((r, i) => {
    const list = byUser.get(r.user) ?? [];
    list.push(i);
    byUser.set(r.user, list);
  });
  const ratings = new Array<number>(rows.length);
  for (const idx of byUser.values()) {
    const rs = playCountsToRatings(idx.map((i) => rows[i].count));
    idx.forEach((i, k) => {
      ratings[i] = rs[k];
    });
  }
  const log = new InteractionLog();
  rows.forEach((r, i) => {
    log.add(r.user, r.item, ratings[i], firstTag.get(`${r.user}\t${r.item}`) ?? Number.NaN);
  });
  return {
    kind: "log",
    log,
    catalog,
    domain: "music",
    files: hasTime ? [uaFile, artistFile, tsFile] : [uaFile, artistFile],
    hasRatings: true,
    hasTime,
  };
}
