// The published S-DPO prompt data: JSON arrays of {historyList "a::b", itemList [20], trueSelection}.
import { readdir, readFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { badRow, DataError } from "../errors.js";
import { exists } from "../lines.js";
import type { LoadedExamples, LoadOptions, ReadyExample } from "../log.js";
import type { Domain, Item } from "../types.js";
import { readId2Name } from "./llara.js";

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

/** Finds `<prefix>-train.json`, `<prefix>-val.json` (or -valid) and `<prefix>-test.json`. */
async function findSplitFiles(
  dir: string,
): Promise<Record<"train" | "valid" | "test", string | undefined>> {
  const entries = await readdir(dir).catch(() => {
    throw new DataError(
      "S-DPO source: expected a folder with *-train.json, *-val.json, *-test.json",
      dir,
    );
  });
  const find = (re: RegExp) => entries.filter((e) => re.test(e)).sort()[0];
  const files = {
    train: find(/-train\.json$/),
    valid: find(/-val(id)?\.json$/),
    test: find(/-test\.json$/),
  };
  if (!files.train && !files.valid && !files.test)
    throw new DataError("no *-train.json, *-val.json or *-test.json file in the folder", dir);
  return {
    train: files.train && join(dir, files.train),
    valid: files.valid && join(dir, files.valid),
    test: files.test && join(dir, files.test),
  };
}

/**
 * Loads S-DPO files as ready-made examples: history, the 20 candidates in the file's order and the
 * target are kept as is. Titles map to ids through id2name.txt (in the folder or --title-file) when
 * given, otherwise ids are assigned by first appearance (train, val, test; history before candidates).
 */
export async function loadSdpo(opts: LoadOptions): Promise<LoadedExamples> {
  const files = await findSplitFiles(opts.path);
  const id2nameFile =
    opts.titleFile ??
    ((await exists(join(opts.path, "id2name.txt"))) ? join(opts.path, "id2name.txt") : undefined);
  const items: Item[] = [];
  const byTitle = new Map<string, number>();
  if (id2nameFile) {
    for (const it of await readId2Name(id2nameFile, opts)) {
      if (!byTitle.has(it.title)) byTitle.set(it.title, items.length);
      items.push(it);
    }
  }
  const idOf = (title: string, file: string, rec: number): number | undefined => {
    let k = byTitle.get(title);
    if (k === undefined) {
      if (id2nameFile) {
        badRow(
          opts.policy,
          file,
          rec,
          `unknown title ${JSON.stringify(title)} (not in ${id2nameFile}) [record ${rec}]`,
        );
        return undefined;
      }
      k = items.length;
      items.push({ id: String(k), title });
      byTitle.set(title, k);
    }
    return k;
  };
  const splits: LoadedExamples["splits"] = { train: [], valid: [], test: [] };
  const used: string[] = [];
  for (const split of ["train", "valid", "test"] as const) {
    const file = files[split];
    if (!file) continue;
    used.push(file);
    let data: unknown;
    try {
      data = JSON.parse(await readFile(file, "utf8"));
    } catch (e) {
      throw new DataError(`invalid JSON: ${(e as Error).message}`, file);
    }
    if (!Array.isArray(data)) throw new DataError("expected a JSON array of S-DPO records", file);
    for (let i = 0; i < data.length; i++) {
      const rec: unknown = data[i];
      const r = rec as Record<string, unknown>;
      const where = i + 1;
      const bad = (m: string) => badRow(opts.policy, file, where, `${m} [record ${where}]`);
      if (!r || typeof r !== "object") {
        bad("expected an object");
        continue;
      }
      if (typeof r.historyList !== "string" || !r.historyList) {
        bad('field historyList: expected a non-empty string "a::b::c"');
        continue;
      }
      if (!Array.isArray(r.itemList) || !r.itemList.every((x) => typeof x === "string" && x)) {
        bad("field itemList: expected an array of non-empty title strings");
        continue;
      }
      if (typeof r.trueSelection !== "string" || !r.trueSelection) {
        bad("field trueSelection: expected a title string");
        continue;
      }
      const cands = r.itemList as string[];
      if (new Set(cands).size !== cands.length) {
        bad("field itemList: titles are not distinct");
        continue;
      }
      if (cands.filter((c) => c === r.trueSelection).length !== 1) {
        bad("field trueSelection: must appear exactly once in itemList");
        continue;
      }
      const history = (r.historyList as string).split("::").map((t) => idOf(t, file, where));
      const candidates = cands.map((t) => idOf(t, file, where));
      const target = idOf(r.trueSelection as string, file, where);
      if (history.includes(undefined) || candidates.includes(undefined) || target === undefined)
        continue;
      splits[split].push({
        user: "",
        history: history as number[],
        candidates: candidates as number[],
        target,
      } satisfies ReadyExample);
    }
  }
  const prefix = basename(files.train ?? files.valid ?? files.test ?? "");
  return {
    kind: "examples",
    items,
    splits,
    domain: opts.domain ?? domainFromName(prefix),
    files: id2nameFile ? [...used, id2nameFile] : used,
    defaultSampler: "given",
  };
}
