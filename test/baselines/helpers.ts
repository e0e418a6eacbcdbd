// Hand-made examples for the baseline tests: every prefix of each user's sequence, with given
// candidate lists, in the prepared-example format.

import type { Example, SplitName } from "../../src/data/types.js";

const cand = (item: number) => ({
  item,
  title: `item ${item}`,
  rating: 3,
  position: 0,
  phi: 1,
  observed: false,
});

/** One example: history → target, candidates = target + the given others (target first). */
export function example(
  split: SplitName,
  n: number,
  user: string,
  history: number[],
  target: number,
  others: number[],
): Example {
  const candidates = [target, ...others.filter((o) => o !== target)].map(cand);
  return {
    id: `${split}-${n}`,
    split,
    user,
    history: history.map((item) => ({ item, title: `item ${item}` })),
    candidates,
    target: { ...cand(target), index: 0 },
    negatives: [],
    prompt: "",
    template: 0,
  };
}

/** Examples for every prefix (of length ≥ minHistory) of each sequence, histories capped at `maxHistory`. */
export function prefixExamples(
  split: SplitName,
  sequences: number[][],
  others: (seq: number, t: number) => number[],
  minHistory = 1,
  maxHistory = 10,
): Example[] {
  const out: Example[] = [];
  sequences.forEach((s, u) => {
    for (let t = minHistory; t < s.length; t++) {
      const history = s.slice(Math.max(0, t - maxHistory), t);
      out.push(example(split, out.length, `u${split}${u}`, history, s[t], others(u, t)));
    }
  });
  return out;
}
