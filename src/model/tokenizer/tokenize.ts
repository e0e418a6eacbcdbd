// How prompts and answers become tokens, in one place for training, evaluation, `prefrec model
// score|generate` and the server: prompt = BOS + prompt text (its end kept when too long, as
// S-DPO's keep_end), answer = " " + title + EOS (the space S-DPO puts after "Answer:"),
// tokenized separately. Scoring or constraining to answers in any other form gives different
// numbers than training saw, so every caller goes through answerTokens.

import type { Example } from "../../data/index.js";
import { UserError } from "../../io/errors.js";
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
}

export interface TokenizeOptions {
  /** Longest prompt in tokens; longer prompts keep their end (default 512). */
  maxPromptTokens?: number;
}

/** The answer text of an item title: " " + title (EOS follows as a token, never as text). */
export function answerText(title: string): string {
  return ` ${title}`;
}

/**
 * The answer tokens of a title: " " + title + EOS. `eos: false` leaves EOS off (the candidate
 * trie of constrained decoding appends it itself; `model score --no-eos`).
 */
export function answerTokens(
  tokenizer: LmTokenizer,
  title: string,
  options: { eos?: boolean } = {},
): number[] {
  const body = tokenizer.encode(answerText(title));
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

/** Tokenizes an example for training and evaluation (titles shared across candidates are cached). */
export function tokenizeExample(
  tokenizer: LmTokenizer,
  example: Example,
  options: TokenizeOptions = {},
  cache = new Map<string, number[]>(),
): TokenizedExample {
  const answer = (title: string): number[] => {
    let t = cache.get(title);
    if (!t) {
      t = answerTokens(tokenizer, title);
      cache.set(title, t);
    }
    return t;
  };
  return {
    id: example.id,
    prompt: promptTokens(tokenizer, example.prompt, options.maxPromptTokens),
    answers: [answer(example.target.title), ...example.negatives.map((n) => answer(n.title))],
    phi: [example.target.phi, ...example.negatives.map((n) => n.phi)],
    candidates: example.candidates.map((c) => answer(c.title)),
    targetIndex: example.target.index,
  };
}
