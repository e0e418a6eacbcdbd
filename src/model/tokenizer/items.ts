// Item tokens: one added token per catalog item (`<item_0>` … `<item_{n-1}>`, by the item's dense
// id, the line of the prepared dataset's items.jsonl) and a shared `<item_unk>` for items outside
// that catalog. They live in tokenizer.json's `added_tokens` (special: false, single tokens), so
// the directory still loads in Hugging Face tokenizers; item_tokens.json beside it records the
// representation (title | id | hybrid) and where the item ids start, and whether `id` prompts are
// compact: item tokens written back to back, without the dataset's ", " separators (an item
// token is one unit already, and each separator costs the prompt one or two BPE tokens),
// and whether prompts list the candidates (`candidates: hidden`: the history only).

import { copyFile, mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { UserError } from "../../io/errors.js";
import { addedToken } from "./bpe-files.js";

/** How a language model sees items: titles (the papers), one token each, or title + token. */
export const ITEM_REPRESENTATIONS = ["title", "id", "hybrid"] as const;
export type ItemRepresentation = (typeof ITEM_REPRESENTATIONS)[number];

/** Whether a model's prompts list the example's candidates (the papers) or not. */
export const CANDIDATE_DISPLAYS = ["shown", "hidden"] as const;
export type CandidateDisplay = (typeof CANDIDATE_DISPLAYS)[number];

/** The file beside tokenizer.json that records the item vocabulary. */
export const ITEM_TOKENS_FILE = "item_tokens.json";
/** Files copied from a tokenizer directory into a saved model directory, when present. */
export const TOKENIZER_FILES = [
  "tokenizer.json",
  "tokenizer_config.json",
  "special_tokens_map.json",
  ITEM_TOKENS_FILE,
];
/** The shared token of items outside the model's catalog. */
export const UNK_ITEM_TOKEN = "<item_unk>";
/** The token string of the item with dense id `item`. */
export const itemToken = (item: number): string => `<item_${item}>`;

/** Contents of item_tokens.json. */
export interface ItemTokensFile {
  representation: ItemRepresentation;
  /** Catalog size: items 0..count-1 have tokens firstId..firstId+count-1. */
  count: number;
  firstId: number;
  /** Id of `<item_unk>` (firstId + count). */
  unkId: number;
  /**
   * `id` prompts list bare item tokens with no separator between them (absent in files written
   * before the option: false, so their runs keep reading the prompts they were trained on).
   */
  compact?: boolean;
  /**
   * `hidden`: prompts leave the candidate list empty, so the model reads the history alone and
   * candidates are only scored (absent: shown, as in files written before the option).
   */
  candidates?: CandidateDisplay;
}

/** The item vocabulary of a tokenizer: dense item id ↔ token id. */
export class ItemVocab {
  constructor(
    readonly representation: ItemRepresentation,
    readonly count: number,
    readonly firstId: number,
    readonly unkId: number,
    /** See ItemTokensFile.compact. */
    readonly compact = false,
    /** See ItemTokensFile.candidates. */
    readonly candidates: CandidateDisplay = "shown",
  ) {}

  /** Whether the model has no token for `item` (it is read as `<item_unk>`). */
  isUnknown(item: number): boolean {
    return !Number.isInteger(item) || item < 0 || item >= this.count;
  }

  /** The token id of an item (`<item_unk>`'s for an item outside the catalog). */
  tokenOf(item: number): number {
    return this.isUnknown(item) ? this.unkId : this.firstId + item;
  }

  /** The token string of an item as it is written into prompt text. */
  textOf(item: number): string {
    return this.isUnknown(item) ? UNK_ITEM_TOKEN : itemToken(item);
  }

  /** The dense item id of a token id, or null (not an item token, or `<item_unk>`). */
  itemOf(tokenId: number): number | null {
    const i = tokenId - this.firstId;
    return i >= 0 && i < this.count ? i : null;
  }

  /** The same tokens read under another representation or candidate display. */
  with(change: { representation?: ItemRepresentation; candidates?: CandidateDisplay }): ItemVocab {
    return new ItemVocab(
      change.representation ?? this.representation,
      this.count,
      this.firstId,
      this.unkId,
      this.compact,
      change.candidates ?? this.candidates,
    );
  }

  toJSON(): ItemTokensFile {
    const { representation, count, firstId, unkId, compact, candidates } = this;
    return {
      representation,
      count,
      firstId,
      unkId,
      ...(compact ? { compact } : {}),
      ...(candidates === "hidden" ? { candidates } : {}),
    };
  }
}

/** Parses item_tokens.json; `tokenId` checks that the tokenizer really has those tokens. */
export function parseItemTokens(
  value: unknown,
  file: string,
  tokenId: (token: string) => number | null,
): ItemVocab {
  const v = value as Partial<ItemTokensFile> | null;
  const int = (x: unknown) => Number.isSafeInteger(x) && (x as number) >= 0;
  if (
    !v ||
    typeof v !== "object" ||
    !ITEM_REPRESENTATIONS.includes(v.representation as ItemRepresentation) ||
    !int(v.count) ||
    !int(v.firstId) ||
    !int(v.unkId) ||
    (v.compact !== undefined && typeof v.compact !== "boolean") ||
    (v.candidates !== undefined && !CANDIDATE_DISPLAYS.includes(v.candidates))
  )
    throw new UserError(
      `${file}: expected {representation: title|id|hybrid, count, firstId, unkId (non-negative integers), compact?: boolean, candidates?: shown|hidden}`,
    );
  const vocab = new ItemVocab(
    v.representation!,
    v.count!,
    v.firstId!,
    v.unkId!,
    v.compact,
    v.candidates,
  );
  const checks: [string, number][] = [[UNK_ITEM_TOKEN, vocab.unkId]];
  if (vocab.count > 0)
    checks.push(
      [itemToken(0), vocab.firstId],
      [itemToken(vocab.count - 1), vocab.tokenOf(vocab.count - 1)],
    );
  for (const [token, id] of checks) {
    if (tokenId(token) !== id)
      throw new UserError(
        `${file}: says ${token} is token ${id}, but tokenizer.json has ${tokenId(token) ?? "no such token"}`,
      );
  }
  return vocab;
}

/**
 * Writes a tokenizer directory `outDir` = the one in `srcDir` plus `count` item tokens and
 * `<item_unk>`, ids from `firstId` on (at least the source's size: existing ids never move);
 * `compact` (default true) makes `id` prompts list item tokens without separators;
 * `candidates` (default shown) whether prompts list the candidates.
 * Other files of the tokenizer are copied as they are. Written to a temporary folder, renamed.
 */
export async function writeItemTokenizer(
  srcDir: string,
  outDir: string,
  options: {
    count: number;
    firstId: number;
    representation: ItemRepresentation;
    compact?: boolean;
    candidates?: CandidateDisplay;
  },
): Promise<ItemVocab> {
  const file = join(srcDir, "tokenizer.json");
  const json = JSON.parse(await readFile(file, "utf8")) as Record<string, unknown>;
  const added = (Array.isArray(json.added_tokens) ? json.added_tokens : []) as {
    id: number;
    content: string;
  }[];
  if (added.some((t) => t.content === UNK_ITEM_TOKEN))
    throw new UserError(`${file}: already has item tokens (${UNK_ITEM_TOKEN})`);
  const { count, firstId, representation } = options;
  const taken = added.filter((t) => t.id >= firstId);
  if (taken.length > 0)
    throw new UserError(`${file}: token id ${taken[0].id} collides with the item tokens' ids`);
  for (let i = 0; i < count; i++) added.push(addedToken(firstId + i, itemToken(i), false));
  added.push(addedToken(firstId + count, UNK_ITEM_TOKEN, false));
  json.added_tokens = added;
  const vocab = new ItemVocab(
    representation,
    count,
    firstId,
    firstId + count,
    options.compact ?? true,
    options.candidates,
  );
  const tmp = `${outDir}.tmp-${process.pid}`;
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true });
  await writeFile(join(tmp, "tokenizer.json"), JSON.stringify(json));
  for (const name of ["tokenizer_config.json", "special_tokens_map.json"])
    await copyFile(join(srcDir, name), join(tmp, name)).catch(() => undefined);
  await writeFile(join(tmp, ITEM_TOKENS_FILE), `${JSON.stringify(vocab, null, 2)}\n`);
  await rm(outDir, { recursive: true, force: true });
  await rename(tmp, outDir);
  return vocab;
}

/** Copies a tokenizer directory that already has item tokens, recording another representation. */
export async function writeRepresentation(
  srcDir: string,
  outDir: string,
  vocab: ItemVocab,
): Promise<void> {
  const tmp = `${outDir}.tmp-${process.pid}`;
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true });
  for (const name of ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"])
    await copyFile(join(srcDir, name), join(tmp, name)).catch(() => undefined);
  await writeFile(join(tmp, ITEM_TOKENS_FILE), `${JSON.stringify(vocab, null, 2)}\n`);
  await rm(outDir, { recursive: true, force: true });
  await rename(tmp, outDir);
}
