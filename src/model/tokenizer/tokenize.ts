// How prompts and answers become tokens, in one place for training, evaluation, `prefrec model
// score|generate` and the server. Prompt = BOS + prompt text (its end kept when too long, as
// S-DPO's keep_end). The answer depends on the tokenizer's item representation:
//   title  — " " + title + EOS (the space S-DPO puts after "Answer:"), tokenized as text;
//   id     — the item's token + EOS (prompts show `<item_N>` in place of every title; with a
//            compact item vocabulary, the default for new ones, back to back without separators);
//   hybrid — the item's token, then " " + title, + EOS (prompts show "title <item_N>", LLaRA's
//            hybrid form; the token comes first in the answer so the first answer token ranks
//            the whole catalog, and the title still follows for the generation protocols).
// With `candidates: hidden` in the item vocabulary, id and hybrid prompts list no candidates.
// Scoring or constraining to answers in any other form gives different numbers than training
// saw, so every caller goes through answerTokens.

import { rerenderItems } from "../../data/prompts.js";
import type { Example, ItemRef } from "../../data/types.js";
import { UserError } from "../../io/errors.js";
import type { ItemVocab } from "./items.js";
import type { LmTokenizer } from "./tokenizer.js";

export interface TokenizedExample {
  id: string;
  prompt: number[];
  /** answers[0] is the target; then the negatives, in the example's order. */
  answers: number[][];
  /** RecPO utilities φ of the target and each negative. */
  phi: number[];
  /** Every candidate's answer tokens (for ranking evaluation) and the target's index. */
  candidates: number[][];
  targetIndex: number;
  /** Items of the history and candidates read as `<item_unk>` (outside the model's catalog). */
  unknownItems: number;
}

export interface TokenizeOptions {
  /** Longest prompt in tokens; longer prompts keep their end (default 512). */
  maxPromptTokens?: number;
}

/** The item vocabulary when the tokenizer shows items as tokens (id, hybrid), else null. */
function itemVocab(tokenizer: LmTokenizer): ItemVocab | null {
  const v = tokenizer.items;
  return v && v.representation !== "title" ? v : null;
}

/**
 * The answer text of an item: " " + title; with item tokens "<item_N>" (id) or
 * "<item_N> title" (hybrid). EOS follows as a token, never as text.
 */
export function answerText(title: string, item?: number, vocab?: ItemVocab | null): string {
  if (!vocab || vocab.representation === "title" || item === undefined) return ` ${title}`;
  return vocab.representation === "id" ? vocab.textOf(item) : `${vocab.textOf(item)} ${title}`;
}

/**
 * The answer tokens of an item (see the header). `item` is the dense item id; without it (free
 * text given to `model score`) the title is read as text. `eos: false` leaves EOS off (the
 * candidate trie of constrained decoding appends it itself; `model score --no-eos`).
 */
export function answerTokens(
  tokenizer: LmTokenizer,
  title: string,
  options: { eos?: boolean; item?: number } = {},
): number[] {
  const vocab = itemVocab(tokenizer);
  let body: number[];
  if (vocab && options.item !== undefined) {
    const token = vocab.tokenOf(options.item);
    body = vocab.representation === "id" ? [token] : [token, ...tokenizer.encode(` ${title}`)];
  } else body = tokenizer.encode(` ${title}`);
  if (options.eos === false) return body;
  const eos = tokenizer.eosId;
  if (eos === null)
    throw new UserError(`${tokenizer.dir}: the tokenizer has no eos token; answers end with EOS`);
  return [...body, eos];
}

/** The prompt tokens: BOS (when the tokenizer has one) + text, truncated from the left. */
export function promptTokens(tokenizer: LmTokenizer, text: string, maxTokens = 512): number[] {
  const body = tokenizer.encode(text);
  const bos = tokenizer.bosId === null ? [] : [tokenizer.bosId];
  const room = Math.max(1, maxTokens - bos.length);
  return [...bos, ...(body.length > room ? body.slice(body.length - room) : body)];
}

/** The prompt text of an example in the tokenizer's item representation. */
export function promptText(tokenizer: LmTokenizer, example: Example): string {
  const vocab = itemVocab(tokenizer);
  if (!vocab) return example.prompt;
  const show =
    vocab.representation === "id"
      ? (r: ItemRef) => vocab.textOf(r.item)
      : (r: ItemRef) => `${r.title} ${vocab.textOf(r.item)}`;
  return rerenderItems(example, show, {
    compact: vocab.representation === "id" && vocab.compact,
    hideCandidates: vocab.candidates === "hidden",
  });
}

/** Tokenizes an example for training and evaluation (answers shared across examples are cached). */
export function tokenizeExample(
  tokenizer: LmTokenizer,
  example: Example,
  options: TokenizeOptions = {},
  cache = new Map<string, number[]>(),
): TokenizedExample {
  const answer = (ref: ItemRef): number[] => {
    const key = `${ref.item}\t${ref.title}`;
    let t = cache.get(key);
    if (!t) {
      t = answerTokens(tokenizer, ref.title, { item: ref.item });
      cache.set(key, t);
    }
    return t;
  };
  const vocab = itemVocab(tokenizer);
  const unknownItems = vocab
    ? [...example.history, ...example.candidates].filter((r) => vocab.isUnknown(r.item)).length
    : 0;
  return {
    id: example.id,
    prompt: promptTokens(tokenizer, promptText(tokenizer, example), options.maxPromptTokens),
    answers: [answer(example.target), ...example.negatives.map(answer)],
    phi: [example.target.phi, ...example.negatives.map((n) => n.phi)],
    candidates: example.candidates.map(answer),
    targetIndex: example.target.index,
    unknownItems,
  };
}
