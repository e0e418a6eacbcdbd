// Batches as graph feeds: training windows (sequence models), training positions (Caser), and
// histories of prepared examples for scoring. Every random draw is a function of (seed, step).

import type { Feed } from "../graph/index.js";
import { createRng } from "../io/rng.js";
import type { Window } from "./sequences.js";

/** A training unit of Caser: position `t` of sequence `seq` (t ≥ 1). */
export interface Position {
  seq: number;
  t: number;
}

const tensor = <T extends BigInt64Array | Float32Array>(data: T, shape: number[]) => ({
  data,
  shape,
});

/**
 * Feeds of a batch of windows for SASRec/GRU4Rec: items left-aligned and padded with item 0
 * (padding sits after the real items, so the causal models never let it reach a real position),
 * targets −100 on padding. With `negatives`, one sampled item per target that the user never had.
 */
export function windowFeeds(
  sequences: readonly number[][],
  windows: readonly Window[],
  T: number,
  numItems: number,
  negatives: { seed: number; step: number } | null,
): Record<string, Feed> {
  const B = windows.length;
  const items = new BigInt64Array(B * T);
  const targets = new BigInt64Array(B * T).fill(-100n);
  const mask = new Float32Array(B * T);
  const neg = new BigInt64Array(B * T);
  const rng = negatives ? createRng(negatives.seed).fork(`negatives-${negatives.step}`) : null;
  let count = 0;
  windows.forEach((w, b) => {
    const s = sequences[w.seq];
    const seen = rng ? new Set(s) : null;
    for (let j = 0; j < w.end - w.start; j++) {
      items[b * T + j] = BigInt(s[w.start + j]);
      targets[b * T + j] = BigInt(s[w.start + j + 1]);
      mask[b * T + j] = 1;
      count++;
      if (rng && seen && seen.size < numItems) {
        let n = rng.int(numItems);
        while (seen.has(n)) n = rng.int(numItems);
        neg[b * T + j] = BigInt(n);
      }
    }
  });
  const feeds: Record<string, Feed> = {
    items: tensor(items, [B, T]),
    count: tensor(Float32Array.of(Math.max(1, count)), []),
  };
  if (negatives) {
    // The bce loss gathers target embeddings, so padding targets become item 0 (masked out).
    const safe = targets.map((v) => (v < 0n ? 0n : v));
    feeds.targets = tensor(safe, [B, T]);
    feeds.negatives = tensor(neg, [B, T]);
    feeds.mask = tensor(mask, [B, T]);
  } else {
    feeds.targets = tensor(targets, [B, T]);
  }
  return feeds;
}

/** Every training position of every sequence (Caser's units). */
export function allPositions(sequences: readonly number[][]): Position[] {
  const out: Position[] = [];
  sequences.forEach((s, seq) => {
    for (let t = 1; t < s.length; t++) out.push({ seq, t });
  });
  return out;
}

/** The last `L` items before an end, left-padded with `pad`. */
function windowRow(
  items: readonly number[],
  end: number,
  L: number,
  pad: number,
  out: BigInt64Array,
  at: number,
): void {
  for (let j = 0; j < L; j++) {
    const k = end - L + j;
    out[at + j] = BigInt(k >= 0 ? items[k] : pad);
  }
}

/** Feeds of a batch of Caser positions: windows [B, L] (padding id `numItems`), targets [B]. */
export function positionFeeds(
  sequences: readonly number[][],
  positions: readonly Position[],
  L: number,
  numItems: number,
): Record<string, Feed> {
  const B = positions.length;
  const items = new BigInt64Array(B * L);
  const targets = new BigInt64Array(B);
  positions.forEach((p, b) => {
    const s = sequences[p.seq];
    windowRow(s, p.t, L, numItems, items, b * L);
    targets[b] = BigInt(s[p.t]);
  });
  return {
    items: tensor(items, [B, L]),
    targets: tensor(targets, [B]),
    count: tensor(Float32Array.of(Math.max(1, B)), []),
  };
}

/**
 * Scoring feeds of histories (item ids, oldest first): sequence models get the last T items
 * left-aligned plus a one-hot `pick` of the last one; Caser gets the last L items left-padded.
 */
export function historyFeeds(
  histories: readonly (readonly number[])[],
  len: number,
  numItems: number,
  sequence: boolean,
): Record<string, Feed> {
  const B = histories.length;
  const items = new BigInt64Array(B * len);
  if (!sequence) {
    histories.forEach((h, b) => {
      windowRow(h, h.length, len, numItems, items, b * len);
    });
    return { items: tensor(items, [B, len]) };
  }
  const pick = new Float32Array(B * len);
  histories.forEach((h, b) => {
    const tail = h.slice(Math.max(0, h.length - len));
    tail.forEach((item, j) => {
      items[b * len + j] = BigInt(item);
    });
    if (tail.length > 0) pick[b * len + tail.length - 1] = 1;
  });
  return { items: tensor(items, [B, len]), pick: tensor(pick, [B, len]) };
}
