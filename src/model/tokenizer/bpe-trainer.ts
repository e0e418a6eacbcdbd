// Byte-level BPE training (GPT-2 style): words from the GPT-2 pre-tokenizer, the 256 byte
// symbols as the base alphabet, then merges of the most frequent adjacent pair, with pair counts
// updated incrementally. Ties go to the smallest (left id, right id) pair, as in HF tokenizers.
import { BYTE_TO_CHAR, preTokenize } from "./byte-level.js";

/** Options for training. */
export interface BpeTrainOptions {
  /** Final vocabulary size, special tokens and the 256 byte symbols included. */
  vocabSize: number;
  /** A pair must occur at least this often (weighted by word counts) to be merged. Default 2. */
  minFrequency?: number;
  /** Special tokens, given ids 0, 1, … in this order. */
  specialTokens?: readonly string[];
  /** Called every `progressEvery` merges. */
  onProgress?: (merges: number, vocabSize: number) => void;
  progressEvery?: number;
}

/** The result: id → token string, and the merges in rank order. */
export interface TrainedBpe {
  vocab: string[];
  merges: [string, string][];
  specialTokens: string[];
}

/** Default special tokens: padding, begin and end of sequence. */
export const DEFAULT_SPECIAL_TOKENS = ["<pad>", "<s>", "</s>"] as const;

/** Counts pre-tokenized words (as byte-level strings) across texts; special tokens are cut out first. */
export class WordCounter {
  readonly counts = new Map<string, number>();
  private readonly splitter: RegExp | null;

  constructor(specialTokens: readonly string[] = DEFAULT_SPECIAL_TOKENS) {
    this.splitter =
      specialTokens.length === 0
        ? null
        : new RegExp(
            specialTokens.map((t) => t.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("|"),
            "u",
          );
  }

  /** Adds the words of one text. */
  add(text: string): void {
    const pieces = this.splitter === null ? [text] : text.split(this.splitter);
    for (const piece of pieces) {
      for (const word of preTokenize(piece))
        this.counts.set(word, (this.counts.get(word) ?? 0) + 1);
    }
  }
}

const SHIFT = 2 ** 21; // pair key = left * SHIFT + right; ids stay below 2^21

/** A max-heap of (count, pair key): highest count first, then smallest key. */
class PairHeap {
  private counts: number[] = [];
  private keys: number[] = [];

  get size(): number {
    return this.keys.length;
  }

  private better(i: number, j: number): boolean {
    const ci = this.counts[i];
    const cj = this.counts[j];
    return ci > cj || (ci === cj && this.keys[i] < this.keys[j]);
  }

  private swap(i: number, j: number): void {
    const c = this.counts[i];
    this.counts[i] = this.counts[j];
    this.counts[j] = c;
    const k = this.keys[i];
    this.keys[i] = this.keys[j];
    this.keys[j] = k;
  }

  push(count: number, key: number): void {
    this.counts.push(count);
    this.keys.push(key);
    let i = this.keys.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.better(i, parent)) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  pop(): { count: number; key: number } | null {
    if (this.keys.length === 0) return null;
    const top = { count: this.counts[0], key: this.keys[0] };
    const lastCount = this.counts.pop()!;
    const lastKey = this.keys.pop()!;
    if (this.keys.length > 0) {
      this.counts[0] = lastCount;
      this.keys[0] = lastKey;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let best = i;
        if (l < this.keys.length && this.better(l, best)) best = l;
        if (r < this.keys.length && this.better(r, best)) best = r;
        if (best === i) break;
        this.swap(i, best);
        i = best;
      }
    }
    return top;
  }
}

/** Learns merges from counted words (byte-level strings → counts). Deterministic for equal inputs. */
export function trainBpeFromCounts(
  wordCounts: Map<string, number>,
  options: BpeTrainOptions,
): TrainedBpe {
  const specialTokens = [...(options.specialTokens ?? DEFAULT_SPECIAL_TOKENS)];
  const minFrequency = options.minFrequency ?? 2;
  if (new Set(specialTokens).size !== specialTokens.length)
    throw new Error("special tokens must be distinct");
  const base = specialTokens.length + 256;
  if (!Number.isInteger(options.vocabSize) || options.vocabSize < base) {
    throw new Error(
      `vocab size must be an integer ≥ ${base} (special tokens + 256 bytes), got ${options.vocabSize}`,
    );
  }
  if (options.vocabSize >= SHIFT) throw new Error(`vocab size must be below ${SHIFT}`);

  const vocab: string[] = [...specialTokens];
  const ids = new Map<string, number>();
  for (const [i, t] of specialTokens.entries()) ids.set(t, i);
  // The byte alphabet, ordered by code point as HF's trainer orders its initial alphabet.
  for (const ch of [...BYTE_TO_CHAR].sort((x, y) => x.codePointAt(0)! - y.codePointAt(0)!)) {
    if (ids.has(ch))
      throw new Error(`special token ${JSON.stringify(ch)} collides with a byte symbol`);
    ids.set(ch, vocab.length);
    vocab.push(ch);
  }

  // Sorted words keep the result independent of corpus order among equal counts.
  const sortedWords = [...wordCounts.entries()].sort((x, y) =>
    x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0,
  );
  const words: number[][] = [];
  const freqs: number[] = [];
  for (const [word, count] of sortedWords) {
    const symbols: number[] = [];
    for (const ch of word) {
      const id = ids.get(ch);
      if (id === undefined)
        throw new Error(`word ${JSON.stringify(word)} is not byte-level encoded`);
      symbols.push(id);
    }
    if (symbols.length > 1) {
      words.push(symbols);
      freqs.push(count);
    }
  }

  const pairCounts = new Map<number, number>();
  const where = new Map<number, Set<number>>();
  const add = (key: number, delta: number, word: number): void => {
    pairCounts.set(key, (pairCounts.get(key) ?? 0) + delta);
    if (delta > 0) {
      let set = where.get(key);
      if (set === undefined) {
        set = new Set();
        where.set(key, set);
      }
      set.add(word);
    }
  };
  for (let w = 0; w < words.length; w++) {
    const s = words[w];
    for (let i = 0; i + 1 < s.length; i++) add(s[i] * SHIFT + s[i + 1], freqs[w], w);
  }
  const heap = new PairHeap();
  for (const [key, count] of pairCounts) if (count > 0) heap.push(count, key);

  const merges: [string, string][] = [];
  const every = options.progressEvery ?? 500;
  while (vocab.length < options.vocabSize && heap.size > 0) {
    const top = heap.pop()!;
    const current = pairCounts.get(top.key) ?? 0;
    if (current !== top.count) {
      // Stale entry: counts only fall for pairs already queued, so re-queue with the true count.
      if (current > 0) heap.push(current, top.key);
      continue;
    }
    if (current < minFrequency) break;
    const a = Math.floor(top.key / SHIFT);
    const b = top.key - a * SHIFT;
    const merged = vocab[a] + vocab[b];
    let c = ids.get(merged);
    if (c === undefined) {
      c = vocab.length;
      ids.set(merged, c);
      vocab.push(merged);
    }
    merges.push([vocab[a], vocab[b]]);

    const increased = new Set<number>();
    const inc = (key: number, delta: number, w: number) => {
      add(key, delta, w);
      increased.add(key);
    };
    for (const w of where.get(top.key) ?? []) {
      const s = words[w];
      const f = freqs[w];
      for (let i = 0; i + 1 < s.length; i++) {
        if (s[i] !== a || s[i + 1] !== b) continue;
        if (i > 0) {
          add(s[i - 1] * SHIFT + a, -f, w);
          inc(s[i - 1] * SHIFT + c, f, w);
        }
        if (i + 2 < s.length) {
          add(b * SHIFT + s[i + 2], -f, w);
          inc(c * SHIFT + s[i + 2], f, w);
        }
        s.splice(i, 2, c);
      }
    }
    pairCounts.delete(top.key);
    where.delete(top.key);
    for (const key of increased) {
      const count = pairCounts.get(key) ?? 0;
      if (count > 0) heap.push(count, key);
    }
    if (options.onProgress && merges.length % every === 0)
      options.onProgress(merges.length, vocab.length);
  }
  return { vocab, merges, specialTokens };
}

/** Trains a byte-level BPE on texts (each text is pre-tokenized on its own). */
export function trainBpe(texts: Iterable<string>, options: BpeTrainOptions): TrainedBpe {
  const counter = new WordCounter(options.specialTokens ?? DEFAULT_SPECIAL_TOKENS);
  for (const text of texts) counter.add(text);
  return trainBpeFromCounts(byteLevelCounts(counter.counts), options);
}

/** Converts raw word counts to byte-level word counts (words with equal UTF-8 bytes are summed). */
export function byteLevelCounts(raw: Map<string, number>): Map<string, number> {
  const out = new Map<string, number>();
  const encoder = new TextEncoder();
  for (const [word, count] of raw) {
    let s = "";
    for (const byte of encoder.encode(word)) s += BYTE_TO_CHAR[byte];
    out.set(s, (out.get(s) ?? 0) + count);
  }
  return out;
}
