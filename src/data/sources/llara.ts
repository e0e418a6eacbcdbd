// LLaRA splits exported from its pandas pickles to JSON lines: {seq, len_seq, next} + id2name.txt
// (or MovieLens' u.item). One-line export of a pickle:
//   python -c "import pandas as pd,sys; pd.read_pickle(sys.argv[1]).to_json(sys.argv[2], orient='records', lines=True)" Test_data.df test.jsonl
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { badRow, DataError } from "../errors.js";
import { exists, forEachLine } from "../lines.js";
import type { LoadedExamples, LoadOptions, ReadyExample } from "../log.js";
import type { Item } from "../types.js";
import { domainFromName, readId2Name } from "./id2name.js";
import { llaraMovieTitle, readMl100kItems } from "./movielens.js";

const entryId = (e: unknown): number => (Array.isArray(e) ? Number(e[0]) : Number(e));
const entryRating = (e: unknown): number | undefined =>
  Array.isArray(e) && e.length > 1 ? Number(e[1]) : undefined;

/** Loads LLaRA's train/val/test JSON lines as ready-made examples (candidates drawn in prepare). */
export async function loadLlara(opts: LoadOptions, minHistory = 1): Promise<LoadedExamples> {
  const entries = await readdir(opts.path).catch(() => {
    throw new DataError(
      "LLaRA source: expected a folder with train/val/test .jsonl and id2name.txt",
      opts.path,
    );
  });
  let items: Item[];
  let titleFile: string;
  if (opts.titleFile || entries.includes("id2name.txt")) {
    titleFile = opts.titleFile ?? join(opts.path, "id2name.txt");
    items = await readId2Name(titleFile, opts);
  } else if (entries.includes("u.item")) {
    titleFile = join(opts.path, "u.item");
    const cat = await readMl100kItems(titleFile, opts);
    items = [...cat.values()]
      .sort((a, b) => Number(a.id) - Number(b.id))
      .map((it, i) => ({
        id: String(i),
        title: llaraMovieTitle(it.title),
        attributes: it.attributes,
      }));
  } else throw new DataError("no id2name.txt (or u.item) in the folder to give titles", opts.path);
  const pad = items.length;
  const splitFile = (names: string[]) => names.find((n) => entries.includes(n));
  const files = {
    train: splitFile(["train.jsonl", "train_data.jsonl"]),
    valid: splitFile(["val.jsonl", "valid.jsonl", "Val_data.jsonl"]),
    test: splitFile(["test.jsonl", "Test_data.jsonl"]),
  };
  if (!files.train && !files.valid && !files.test)
    throw new DataError("no train.jsonl, val.jsonl or test.jsonl in the folder", opts.path);
  const splits: LoadedExamples["splits"] = { train: [], valid: [], test: [] };
  const used: string[] = [];
  for (const split of ["train", "valid", "test"] as const) {
    const name = files[split];
    if (!name) continue;
    const file = join(opts.path, name);
    used.push(file);
    let userNo = 0;
    let prevSeq: number[] | null = null;
    await forEachLine(
      file,
      (line, n) => {
        if (!line.trim()) return;
        let r: Record<string, unknown>;
        try {
          r = JSON.parse(line);
        } catch (e) {
          return badRow(opts.policy, file, n, `invalid JSON: ${(e as Error).message}`);
        }
        if (!Array.isArray(r.seq))
          return badRow(opts.policy, file, n, "field seq: expected an array of item ids");
        if (r.next === undefined) return badRow(opts.policy, file, n, "field next: missing");
        const seq = r.seq.filter((e) => entryId(e) !== pad);
        const ids = seq.map(entryId);
        const target = entryId(r.next);
        for (const id of [...ids, target])
          if (!Number.isInteger(id) || id < 0 || id >= pad)
            return badRow(
              opts.policy,
              file,
              n,
              `unknown item id ${id} (id2name has 0..${pad - 1}, padding ${pad})`,
            );
        // A new user starts when this history does not continue the previous row's history + next.
        const continues =
          prevSeq !== null &&
          ids.length > 0 &&
          ids.every((id, k) => id === prevSeq?.[prevSeq.length - ids.length + k]);
        if (!continues) userNo++;
        prevSeq = [...ids, target];
        const ratings = seq.map(entryRating);
        const targetRating = entryRating(r.next);
        if (ids.length < minHistory) return;
        splits[split].push({
          user: `${split}-${userNo}`,
          history: ids,
          historyRatings: ratings.every((x) => x !== undefined) ? (ratings as number[]) : undefined,
          target,
          targetRating,
        } satisfies ReadyExample);
      },
      "utf8",
      !opts.quiet,
    );
  }
  return {
    kind: "examples",
    items,
    splits,
    domain: opts.domain ?? (entries.includes("u.item") ? "movie" : domainFromName(opts.path)),
    files: [...used, titleFile],
    defaultSampler: "sdpo",
  };
}

/** Whether a folder looks like LLaRA output (used by `data prepare` to give a helpful message). */
export async function looksLikeLlara(dir: string): Promise<boolean> {
  return (await exists(join(dir, "id2name.txt"))) || (await exists(join(dir, "u.item")));
}
