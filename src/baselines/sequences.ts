// Training sequences for the ID baselines, rebuilt from the train split's examples only (never
// valid/test), and cut into fixed-length windows for "every position" training.

import type { Example } from "../data/types.js";
import { createRng } from "../io/rng.js";

/**
 * One item sequence per training user, oldest first. Prepared examples are prefixes of a user's
 * sequence in file order; a run of rows continues while the user is the same and each history is
 * the previous row's history + target (possibly with its oldest items dropped: S-DPO keeps the
 * last 10). Works for files without user ids (S-DPO's) as well as with them.
 */
export function trainingSequences(train: readonly Example[]): number[][] {
  const out: number[][] = [];
  let current: number[] | null = null;
  let prev: Example | null = null;
  for (const e of train) {
    if (e.split !== "train") throw new Error(`${e.id}: not a training example (split ${e.split})`);
    const h = e.history.map((x) => x.item);
    if (current && prev && continues(prev, e, h)) {
      current.push(e.target.item);
    } else {
      current = [...h, e.target.item];
      out.push(current);
    }
    prev = e;
  }
  return out;
}

/**
 * Indices of each user's last example (the "one prompt per user" view of a test split). A run of
 * rows with the same user id is one user, even where a capped (subsampled) split left gaps in
 * it; files without user ids (S-DPO's) are read as in `trainingSequences`.
 */
export function lastPerUser(examples: readonly Example[]): number[] {
  const out: number[] = [];
  examples.forEach((e, i) => {
    const prev = i > 0 ? examples[i - 1] : null;
    const h = e.history.map((x) => x.item);
    const same = prev && (e.user !== "" ? prev.user === e.user : continues(prev, e, h));
    if (same) out[out.length - 1] = i;
    else out.push(i);
  });
  return out;
}

function continues(prev: Example, e: Example, h: readonly number[]): boolean {
  if (prev.user !== e.user) return false;
  const full = [...prev.history.map((x) => x.item), prev.target.item];
  if (h.length === 0 || h.length > full.length) return false;
  const tail = full.slice(full.length - h.length);
  return tail.every((v, i) => v === h[i]);
}

/** Item counts over the training sequences (Pop's scores). */
export function itemCounts(sequences: readonly number[][], numItems: number): Float64Array {
  const counts = new Float64Array(numItems);
  for (const s of sequences) for (const i of s) counts[i]++;
  return counts;
}

/** A window: inputs seq[start..end) predict seq[start+1..end+1). */
export interface Window {
  seq: number;
  start: number;
  end: number;
}

/**
 * The windows of one epoch: every position of every sequence predicted once, in windows of at
 * most `maxLen` inputs. The cut points shift by a seeded offset per epoch so that different
 * contexts are seen; the window order is shuffled with the same (seed, epoch).
 */
export function epochWindows(
  sequences: readonly number[][],
  maxLen: number,
  seed: number,
  epoch: number,
): Window[] {
  const rng = createRng(seed).fork(`windows-${epoch}`);
  const out: Window[] = [];
  sequences.forEach((s, seq) => {
    const n = s.length - 1; // positions that have a next item
    if (n <= 0) return;
    const offset = epoch === 0 ? 0 : rng.int(maxLen);
    let start = 0;
    let end = Math.min(n, offset > 0 ? offset : maxLen);
    while (start < n) {
      out.push({ seq, start, end });
      start = end;
      end = Math.min(n, start + maxLen);
    }
  });
  for (let i = out.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/**
 * How many windows `epochWindows` gives for this epoch, without building or shuffling them
 * (the trainer's step total: later epochs' shifted cuts can add a window per sequence).
 */
export function epochWindowCount(
  sequences: readonly number[][],
  maxLen: number,
  seed: number,
  epoch: number,
): number {
  // The same draws as epochWindows, in the same order (one offset per usable sequence).
  const rng = createRng(seed).fork(`windows-${epoch}`);
  let count = 0;
  for (const s of sequences) {
    const n = s.length - 1;
    if (n <= 0) continue;
    const offset = epoch === 0 ? 0 : rng.int(maxLen);
    const first = Math.min(n, offset > 0 ? offset : maxLen);
    count += 1 + Math.ceil((n - first) / maxLen);
  }
  return count;
}

/** The longest history among examples (the default input length). */
export function longestHistory(examples: readonly Example[]): number {
  let m = 1;
  for (const e of examples) m = Math.max(m, e.history.length);
  return m;
}
