// Reading a prepared dataset: the API trainers, evaluators and baselines call.
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { readFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { StringDecoder } from "node:string_decoder";
import { DataError } from "./errors.js";
import { exists, sha256File } from "./lines.js";
import { DATASET_FORMAT, type Manifest } from "./manifest.js";
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

/** How much of a prepared dataset to check on load: counts always, sha256 unless verify=false. */
export interface LoadOptions {
  /** Recompute each file's sha256 while reading it and compare with the manifest (default true). */
  verify?: boolean;
}

const DAMAGED = "the dataset is damaged or was edited; prepare it again";

/** Reads and checks manifest.json of a prepared dataset. */
export async function readManifest(dir: string): Promise<Manifest> {
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
      `field format: expected ${DATASET_FORMAT}, got ${JSON.stringify(manifest.format)} (prepared by another version; run \`prefrec data prepare\` again)`,
      mf,
    );
  return manifest;
}

/** Reads manifest.json and items.jsonl, checking the format tag, the item count and the hash. */
export async function loadPrepared(
  dir: string,
  options: LoadOptions = {},
): Promise<PreparedDataset> {
  const manifest = await readManifest(dir);
  const items: CatalogItem[] = [];
  const itemsFile = join(dir, "items.jsonl");
  const checkCount = () => {
    if (typeof manifest.items === "number" && items.length !== manifest.items)
      throw new DataError(
        `holds ${items.length} items, the manifest says ${manifest.items}; ${DAMAGED}`,
        itemsFile,
      );
  };
  for await (const { line, n } of checkedLines(itemsFile, manifest, options, checkCount)) {
    let it: CatalogItem;
    try {
      it = JSON.parse(line) as CatalogItem;
    } catch (e) {
      throw new DataError(`invalid JSON (${(e as Error).message}); ${DAMAGED}`, itemsFile, n);
    }
    if (it.item !== items.length)
      throw new DataError(`field item: expected ${items.length}, got ${it.item}`, itemsFile, n);
    items.push(it);
  }
  return { dir, manifest, items };
}

/**
 * The non-empty lines of a dataset file with their line numbers; once the whole file is read,
 * its sha256 (unless verify=false) is compared with the manifest's.
 */
async function* checkedLines(
  file: string,
  manifest: Manifest,
  options: LoadOptions,
  checkCount: () => void = () => {},
): AsyncGenerator<{ line: string; n: number }> {
  if (!(await exists(file))) throw new DataError(`missing ${basename(file)}`, file);
  const expected = manifest.hashes?.[basename(file)];
  const hash = options.verify !== false && expected ? createHash("sha256") : null;
  const decoder = new StringDecoder("utf8");
  let rest = "";
  let n = 0;
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) {
    hash?.update(chunk as Buffer);
    const text = rest + decoder.write(chunk as Buffer);
    const lines = text.split("\n");
    rest = lines.pop() ?? "";
    for (const raw of lines) {
      n++;
      const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
      if (line) yield { line, n };
    }
  }
  rest += decoder.end();
  if (rest) yield { line: rest, n: n + 1 };
  // A wrong count says more than a wrong hash, so it is checked first.
  checkCount();
  if (hash && hash.digest("hex") !== expected)
    throw new DataError(
      `sha256 differs from the manifest's; ${DAMAGED} (--no-verify skips this check)`,
      file,
    );
}

/**
 * Streams the examples of one split in file order. At the end the number of examples is
 * checked against the manifest (always) and the file's sha256 (unless verify=false).
 */
export async function* readExamples(
  dir: string,
  split: SplitName,
  options: LoadOptions = {},
): AsyncGenerator<Example> {
  const manifest = await readManifest(dir);
  const file = join(dir, `${split}.jsonl`);
  let count = 0;
  const expected = manifest.counts?.[split];
  const checkCount = () => {
    if (typeof expected === "number" && count !== expected)
      throw new DataError(
        `holds ${count} examples, the manifest says ${expected}; ${DAMAGED}`,
        file,
      );
  };
  for await (const { line, n } of checkedLines(file, manifest, options, checkCount)) {
    let example: Example;
    try {
      example = JSON.parse(line) as Example;
    } catch (e) {
      throw new DataError(`invalid JSON (${(e as Error).message}); ${DAMAGED}`, file, n);
    }
    count++;
    yield example;
  }
}

/** Loads all examples of a split into memory (checked as readExamples does). */
export async function loadExamples(
  dir: string,
  split: SplitName,
  options: LoadOptions = {},
): Promise<Example[]> {
  const out: Example[] = [];
  for await (const e of readExamples(dir, split, options)) out.push(e);
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
