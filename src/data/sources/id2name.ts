// Helpers shared by the S-DPO and LLaRA example formats: their `id::name` catalog file
// (id2name.txt) and the domain guessed from a file name.
import { badRow, DataError } from "../errors.js";
import { forEachLine } from "../lines.js";
import type { LoadOptions } from "../log.js";
import type { Domain, Item } from "../types.js";

/** Reads `id::name` lines; ids must be 0..N−1 in order (LLaRA's dense ids). */
export async function readId2Name(file: string, opts: LoadOptions): Promise<Item[]> {
  const items: Item[] = [];
  await forEachLine(file, (line, n) => {
    if (!line.trim()) return;
    const k = line.indexOf("::");
    if (k < 0) return badRow(opts.policy, file, n, 'expected "id::name"');
    const id = line.slice(0, k).trim();
    const title = line.slice(k + 2).trim();
    if (!/^\d+$/.test(id))
      return badRow(
        opts.policy,
        file,
        n,
        `field id: expected an integer, got ${JSON.stringify(id)}`,
      );
    if (Number(id) !== items.length)
      throw new DataError(
        `ids must be consecutive from 0: expected ${items.length}, got ${id}`,
        file,
        n,
      );
    if (!title) return badRow(opts.policy, file, n, "field name: empty title");
    items.push({ id, title });
  });
  return items;
}

/** Guesses the domain from a file prefix such as "lastfm-train.json". */
export function domainFromName(name: string): Domain {
  const n = name.toLowerCase();
  if (/lastfm|music|artist/.test(n)) return "music";
  if (/movie|ml-?\d|movielens/.test(n)) return "movie";
  if (/book|goodreads/.test(n)) return "book";
  if (/steam|game/.test(n)) return "game";
  if (/amazon|product/.test(n)) return "product";
  return "generic";
}
