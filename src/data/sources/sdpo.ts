// The published S-DPO prompt data: JSON arrays of {historyList "a::b", itemList [20], trueSelection}.
import { readdir, readFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { badRow, DataError } from "../errors.js";
import { exists } from "../lines.js";
import type { LoadedExamples, LoadOptions, ReadyExample } from "../log.js";
import type { Item } from "../types.js";
import { domainFromName, readId2Name } from "./id2name.js";

/**
 * Splits S-DPO's "a::b::c" history. Titles may themselves contain "::" (":wumpscut:"), so when a
 * plain split yields unknown titles, the split points are chosen to give the most known titles.
 */
export function splitHistory(text: string, known: ReadonlySet<string>): string[] {
  const plain = text.split("::");
  if (plain.every((t) => known.has(t))) return plain;
  const seps: number[] = [];
  for (let j = text.indexOf("::"); j >= 0; j = text.indexOf("::", j + 1)) seps.push(j);
  // Most known parts wins; ties go to more parts (the plain split keeps unknown titles apart).
  type Best = { parts: string[]; known: number };
  const better = (x: Best, y: Best) =>
    x.known !== y.known ? x.known > y.known : x.parts.length > y.parts.length;
  const memo = new Map<number, Best>();
  const solve = (i: number): Best => {
    const hit = memo.get(i);
    if (hit) return hit;
    const last = text.slice(i);
    let best: Best = { parts: [last], known: known.has(last) ? 1 : 0 };
    for (let k = seps.length - 1; k >= 0; k--) {
      const j = seps[k];
      if (j < i) break;
      const part = text.slice(i, j);
      const rest = solve(j + 2);
      const cand = { parts: [part, ...rest.parts], known: (known.has(part) ? 1 : 0) + rest.known };
      if (!better(best, cand)) best = cand;
    }
    memo.set(i, best);
    return best;
  };
  return solve(0).parts;
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
  const parsed: { split: "train" | "valid" | "test"; file: string; data: unknown[] }[] = [];
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
    parsed.push({ split, file, data });
  }
  // Titles seen as candidates or targets are unambiguous; they resolve "::" inside history titles.
  const known = new Set<string>(byTitle.keys());
  for (const { data } of parsed)
    for (const r of data as Record<string, unknown>[]) {
      if (Array.isArray(r?.itemList))
        for (const t of r.itemList) if (typeof t === "string") known.add(t);
      if (typeof r?.trueSelection === "string") known.add(r.trueSelection);
    }
  for (const { split, file, data } of parsed) {
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
      const history = splitHistory(r.historyList as string, known).map((t) => idOf(t, file, where));
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
