// MovieLens 100K (u.data, u.item) and 1M (ratings.dat, movies.dat): explicit 1–5 ratings, Unix times.
import { join } from "node:path";
import { badRow } from "../errors.js";
import { forEachLine, requireFile } from "../lines.js";
import { InteractionLog, type LoadedLog, type LoadOptions } from "../log.js";
import { checkColumns, numberField } from "../parse.js";
import type { Item } from "../types.js";

const ML100K_GENRES = [
  "unknown",
  "Action",
  "Adventure",
  "Animation",
  "Children's",
  "Comedy",
  "Crime",
  "Documentary",
  "Drama",
  "Fantasy",
  "Film-Noir",
  "Horror",
  "Musical",
  "Mystery",
  "Romance",
  "Sci-Fi",
  "Thriller",
  "War",
  "Western",
];

/** LLaRA's title rule: drop " (YYYY)" and move a trailing ", The"/", A"/", An" to the front. */
export function llaraMovieTitle(raw: string): string {
  let t = raw.trim().replace(/\s*\(\d{4}\)$/, "");
  const m = /^(.*), (The|A|An)$/.exec(t);
  if (m) t = `${m[2]} ${m[1]}`;
  return t;
}

/** u.item's placeholder for a movie without a title (item 267): not a real candidate. */
export const ML100K_PLACEHOLDER_TITLE = "unknown";

/**
 * Reads a u.item-style catalog (Latin-1, `|`-separated). With `placeholders`, items titled
 * "unknown" go there instead of into the catalog (LLaRA's published splits keep them).
 */
export async function readMl100kItems(
  file: string,
  opts: LoadOptions,
  placeholders?: Set<string>,
): Promise<Map<string, Item>> {
  const catalog = new Map<string, Item>();
  await forEachLine(
    file,
    (line, n) => {
      if (!line.trim()) return;
      const c = line.split("|");
      if (!checkColumns(c, 5, file, n, opts.policy, true)) return;
      if (!c[1].trim()) return badRow(opts.policy, file, n, "field title: empty title");
      if (placeholders && c[1].trim() === ML100K_PLACEHOLDER_TITLE) {
        placeholders.add(c[0].trim());
        return;
      }
      const genres = c.slice(5).flatMap((f, g) => (f === "1" ? [ML100K_GENRES[g] ?? `g${g}`] : []));
      catalog.set(c[0].trim(), {
        id: c[0].trim(),
        title: c[1].trim(),
        attributes: { genres, released: c[2] },
      });
    },
    "latin1",
  );
  return catalog;
}

/** MovieLens 100K from a folder with u.data and u.item. */
export async function loadMovielens100k(opts: LoadOptions): Promise<LoadedLog> {
  const data = await requireFile(join(opts.path, "u.data"), "MovieLens 100K ratings u.data", {
    name: "movielens-100k",
  });
  const itemFile = await requireFile(join(opts.path, "u.item"), "MovieLens 100K catalog u.item", {
    name: "movielens-100k",
  });
  const placeholders = new Set<string>();
  const catalog = await readMl100kItems(itemFile, opts, placeholders);
  return ratingsLog(data, "\t", catalog, itemFile, "u.item", opts, placeholders);
}

/** MovieLens 1M from a folder with ratings.dat and movies.dat (`::`-separated, Latin-1). */
export async function loadMovielens1m(opts: LoadOptions): Promise<LoadedLog> {
  const data = await requireFile(join(opts.path, "ratings.dat"), "MovieLens 1M ratings.dat", {
    name: "movielens-1m",
  });
  const itemFile = await requireFile(join(opts.path, "movies.dat"), "MovieLens 1M movies.dat", {
    name: "movielens-1m",
  });
  const catalog = new Map<string, Item>();
  await forEachLine(
    itemFile,
    (line, n) => {
      if (!line.trim()) return;
      const c = line.split("::");
      if (!checkColumns(c, 3, itemFile, n, opts.policy)) return;
      if (!c[1].trim()) return badRow(opts.policy, itemFile, n, "field title: empty title");
      catalog.set(c[0], { id: c[0], title: c[1].trim(), attributes: { genres: c[2].split("|") } });
    },
    "latin1",
  );
  return ratingsLog(data, "::", catalog, itemFile, "movies.dat", opts);
}

/** Both MovieLens ratings files: user, item, rating, timestamp rows, items checked against the catalog. */
async function ratingsLog(
  data: string,
  separator: string,
  catalog: Map<string, Item>,
  itemFile: string,
  itemFileName: string,
  opts: LoadOptions,
  placeholders = new Set<string>(),
): Promise<LoadedLog> {
  const log = new InteractionLog();
  let placeholderRows = 0;
  await forEachLine(
    data,
    (line, n) => {
      if (!line.trim()) return;
      const c = line.split(separator);
      if (!checkColumns(c, 4, data, n, opts.policy)) return;
      const rating = numberField(c[2], "rating", data, n, opts.policy);
      const time = numberField(c[3], "timestamp", data, n, opts.policy);
      if (rating === undefined || time === undefined) return;
      if (placeholders.has(c[1])) {
        placeholderRows++;
        return;
      }
      if (!catalog.has(c[1]))
        return badRow(opts.policy, data, n, `unknown item id ${c[1]} (not in ${itemFileName})`);
      log.add(c[0], c[1], rating, time);
    },
    "utf8",
    !opts.quiet,
  );
  return {
    kind: "log",
    log,
    catalog,
    domain: "movie",
    files: [data, itemFile],
    hasRatings: true,
    hasTime: true,
    dropped: placeholderRows
      ? [
          {
            reason: `ratings of ${itemFileName}'s placeholder title "${ML100K_PLACEHOLDER_TITLE}" (item ${[...placeholders].join(", ")})`,
            count: placeholderRows,
          },
        ]
      : undefined,
  };
}
