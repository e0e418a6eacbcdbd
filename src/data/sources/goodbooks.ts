// goodbooks-10k: ratings.csv (file order is the time order, no timestamps) + books.csv titles.
import { join } from "node:path";
import { badRow, DataError } from "../errors.js";
import { forEachLine, requireFile } from "../lines.js";
import { InteractionLog, type LoadedLog, type LoadOptions } from "../log.js";
import { checkColumns, numberField, splitDelimited } from "../parse.js";
import type { Item } from "../types.js";

/** Reads goodbooks' books.csv (header with book_id, title, authors, original_publication_year). */
export async function readGoodbooksBooks(
  file: string,
  opts: LoadOptions,
): Promise<Map<string, Item>> {
  const catalog = new Map<string, Item>();
  let header: string[] = [];
  let idCol = -1;
  let titleCol = -1;
  let authorsCol = -1;
  let yearCol = -1;
  await forEachLine(file, (line, n) => {
    if (!line.trim()) return;
    const c = splitDelimited(line, ",");
    if (n === 1) {
      header = c.map((h) => h.trim());
      idCol = header.indexOf("book_id");
      titleCol = header.indexOf("title");
      authorsCol = header.indexOf("authors");
      yearCol = header.indexOf("original_publication_year");
      if (idCol < 0 || titleCol < 0)
        throw new DataError(
          `header must have columns book_id and title, got ${header.join(",")}`,
          file,
          1,
        );
      return;
    }
    if (!checkColumns(c, header.length, file, n, opts.policy)) return;
    const title = c[titleCol].trim();
    if (!title) return badRow(opts.policy, file, n, "field title: empty title");
    const attributes: Record<string, string | number> = {};
    if (authorsCol >= 0) attributes.authors = c[authorsCol];
    if (yearCol >= 0 && c[yearCol]) attributes.year = Math.trunc(Number(c[yearCol]));
    catalog.set(c[idCol], { id: c[idCol], title, attributes });
  });
  return catalog;
}

/** goodbooks-10k from a folder with ratings.csv and books.csv. */
export async function loadGoodbooks(opts: LoadOptions): Promise<LoadedLog> {
  const ratingsFile = await requireFile(join(opts.path, "ratings.csv"), "goodbooks ratings.csv", {
    name: "goodbooks",
  });
  const booksFile = await requireFile(join(opts.path, "books.csv"), "goodbooks books.csv", {
    name: "goodbooks",
  });
  const catalog = await readGoodbooksBooks(booksFile, opts);
  const log = new InteractionLog();
  let cols = { user: 0, item: 1, rating: 2 };
  await forEachLine(
    ratingsFile,
    (line, n) => {
      if (!line.trim()) return;
      const c = line.split(",");
      if (n === 1) {
        const h = c.map((x) => x.trim());
        cols = {
          user: h.indexOf("user_id"),
          item: h.indexOf("book_id"),
          rating: h.indexOf("rating"),
        };
        if (cols.user < 0 || cols.item < 0 || cols.rating < 0)
          throw new DataError(`header must be user_id,book_id,rating, got ${line}`, ratingsFile, 1);
        return;
      }
      if (!checkColumns(c, 3, ratingsFile, n, opts.policy)) return;
      const rating = numberField(c[cols.rating], "rating", ratingsFile, n, opts.policy);
      if (rating === undefined) return;
      const item = c[cols.item].trim();
      if (!catalog.has(item))
        return badRow(opts.policy, ratingsFile, n, `unknown book id ${item} (not in books.csv)`);
      log.add(c[cols.user].trim(), item, rating);
    },
    "utf8",
    !opts.quiet,
  );
  return {
    kind: "log",
    log,
    catalog,
    domain: "book",
    files: [ratingsFile, booksFile],
    hasRatings: true,
    hasTime: false,
  };
}
