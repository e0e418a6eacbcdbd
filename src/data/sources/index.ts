// The source registry: `--source NAME` → loader.
import { DataError } from "../errors.js";
import type { Loaded, LoadOptions } from "../log.js";
import { loadAmazon } from "./amazon.js";
import { loadCsv } from "./csv.js";
import { loadGoodbooks } from "./goodbooks.js";
import { loadLastfmHetrec } from "./lastfm.js";
import { loadLlara } from "./llara.js";
import { loadMovielens1m, loadMovielens100k } from "./movielens.js";
import { loadSdpo } from "./sdpo.js";
import { loadSteam } from "./steam.js";
import { loadSynthFolder } from "./synth.js";

export const SOURCES = [
  "movielens-100k",
  "movielens-1m",
  "lastfm-hetrec",
  "goodbooks",
  "amazon",
  "steam",
  "csv",
  "sdpo",
  "llara",
  "synth",
] as const;
export type SourceName = (typeof SOURCES)[number];

/** Loads a source by name into interactions + catalog, or ready-made examples (sdpo, llara). */
export async function loadSource(name: string, opts: LoadOptions): Promise<Loaded> {
  switch (name as SourceName) {
    case "movielens-100k":
      return loadMovielens100k(opts);
    case "movielens-1m":
      return loadMovielens1m(opts);
    case "lastfm-hetrec":
      return loadLastfmHetrec(opts);
    case "goodbooks":
      return loadGoodbooks(opts);
    case "amazon":
      return loadAmazon(opts);
    case "steam":
      return loadSteam(opts);
    case "csv":
      return loadCsv(opts);
    case "sdpo":
      return loadSdpo(opts);
    case "llara":
      return loadLlara(opts);
    case "synth":
      return loadSynthFolder(opts);
    default:
      throw new DataError(
        `unknown source ${JSON.stringify(name)}; expected one of ${SOURCES.join(", ")}`,
      );
  }
}
