// Reading a prepared dataset: the API trainers, evaluators and baselines call.
import { createReadStream } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { DataError } from "./errors.js";
import { exists, forEachLine, sha256File } from "./lines.js";
import { DATASET_FORMAT, type Manifest } from "./prepare.js";
import type { Example, SplitName } from "./types.js";

/** A catalog row of items.jsonl: `item` is the dense id used everywhere in the examples. */
export interface CatalogItem {
  item: number;
  id: string;
  title: string;
  attributes?: Record<string, unknown>;
  /** Interactions of the item after filtering (log sources only). */
  count?: number;
}

/** A prepared dataset opened from disk. */
export interface PreparedDataset {
  dir: string;
  manifest: Manifest;
  items: CatalogItem[];
}

/** Reads manifest.json and items.jsonl, checking the format tag. */
export async function loadPrepared(dir: string): Promise<PreparedDataset> {
  const mf = join(dir, "manifest.json");
  if (!(await exists(mf)))
    throw new DataError(
      "not a prepared dataset (no manifest.json; run `prefrec data prepare`)",
      dir,
    );
  let manifest: Manifest;
  try {
    manifest = JSON.parse(await readFile(mf, "utf8")) as Manifest;
  } catch (e) {
    throw new DataError(`invalid JSON: ${(e as Error).message}`, mf);
  }
  if (manifest.format !== DATASET_FORMAT)
    throw new DataError(
      `field format: expected ${DATASET_FORMAT}, got ${JSON.stringify(manifest.format)}`,
      mf,
    );
  const items: CatalogItem[] = [];
  const itemsFile = join(dir, "items.jsonl");
  await forEachLine(itemsFile, (line, n) => {
    if (!line) return;
    const it = JSON.parse(line) as CatalogItem;
    if (it.item !== items.length)
      throw new DataError(`field item: expected ${items.length}, got ${it.item}`, itemsFile, n);
    items.push(it);
  });
  return { dir, manifest, items };
}

/** Streams the examples of one split in file order. */
export async function* readExamples(dir: string, split: SplitName): AsyncGenerator<Example> {
  const file = join(dir, `${split}.jsonl`);
  if (!(await exists(file))) throw new DataError(`missing ${split}.jsonl`, file);
  const lines = createInterface({
    input: createReadStream(file, { encoding: "utf8" }),
    crlfDelay: Number.POSITIVE_INFINITY,
  });
  let n = 0;
  for await (const line of lines) {
    n++;
    if (!line) continue;
    try {
      yield JSON.parse(line) as Example;
    } catch (e) {
      throw new DataError(`invalid JSON: ${(e as Error).message}`, file, n);
    }
  }
}

/** Loads all examples of a split into memory. */
export async function loadExamples(dir: string, split: SplitName): Promise<Example[]> {
  const out: Example[] = [];
  for await (const e of readExamples(dir, split)) out.push(e);
  return out;
}

/** Recomputes the output hashes and lists files whose content differs from the manifest. */
export async function verifyPrepared(dir: string): Promise<string[]> {
  const { manifest } = await loadPrepared(dir);
  const bad: string[] = [];
  for (const [f, h] of Object.entries(manifest.hashes))
    if ((await sha256File(join(dir, f))) !== h) bad.push(f);
  return bad;
}

/** What an LM trainer needs from an example: prompt, chosen title, negative titles and φ values. */
export interface PreferenceRecord {
  prompt: string;
  chosen: string;
  rejected: string[];
  chosenPhi: number;
  rejectedPhi: number[];
}

/** The S-DPO/RecPO preference view of an example (γ_k = λ·chosenPhi / rejectedPhi[k]). */
export function toPreference(e: Example): PreferenceRecord {
  return {
    prompt: e.prompt,
    chosen: e.target.title,
    rejected: e.negatives.map((n) => n.title),
    chosenPhi: e.target.phi,
    rejectedPhi: e.negatives.map((n) => n.phi),
  };
}

/** The id view of an example for classic baselines (SASRec, GRU4Rec, Caser, Pop). */
export function toIds(e: Example): {
  user: string;
  history: number[];
  candidates: number[];
  target: number;
} {
  return {
    user: e.user,
    history: e.history.map((h) => h.item),
    candidates: e.candidates.map((c) => c.item),
    target: e.target.item,
  };
}

/** S-DPO's own JSON record ({historyList, itemList, trueSelection}) for interoperability. */
export function toSdpoRecord(e: Example): {
  historyList: string;
  itemList: string[];
  trueSelection: string;
} {
  return {
    historyList: e.history.map((h) => h.title).join("::"),
    itemList: e.candidates.map((c) => c.title),
    trueSelection: e.target.title,
  };
}
