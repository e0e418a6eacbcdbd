// Full-catalog ranking: the target's rank among every item of the catalog, the items already in
// the user's history masked (they are not recommendations), the target never masked even when
// the user saw it before. Ties are broken against the target, as in candidate ranking.

import type { Example } from "../data/types.js";

/** 1-based rank of `example`'s target among all items not in its history, under `scores`. */
export function catalogRank(scores: ArrayLike<number>, example: Example): number {
  const target = example.target.item;
  if (target < 0 || target >= scores.length)
    throw new Error(
      `example ${example.id}: target item ${target} outside the scored catalog (${scores.length} items)`,
    );
  const masked = new Set(example.history.map((h) => h.item));
  masked.delete(target);
  const t = scores[target];
  const candidates = scores.length - masked.size;
  if (!Number.isFinite(t)) return candidates;
  let rank = 1;
  for (let i = 0; i < scores.length; i++) {
    if (i !== target && !masked.has(i) && scores[i] >= t) rank++;
  }
  return rank;
}
