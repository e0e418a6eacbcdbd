// Which prompt tokens carry SFT's optional prompt loss (`promptLoss`): a 0/1 target flag per
// prompt token (token t is predicted from t−1, so the first token is never a target), and the
// step program's feeds that gather those targets. `items` flags the history's item tokens: every item token
// of the prompt except the last C, which are the C candidates (truncation keeps a prompt's end,
// so the candidates are always there; a history cut short just loses its oldest items). Prompts
// that hide the candidates have none to skip.

import type { PromptLossMode } from "../objectives/index.js";

/** The item token ids of a tokenizer: [first, last] inclusive (items and `<item_unk>`). */
export interface ItemIdRange {
  first: number;
  last: number;
  /** Whether prompts end with the candidates' item tokens (false: `candidates: hidden`). */
  candidatesInPrompt: boolean;
}

/** The target flags of one prompt's tokens under `mode` (C = the example's candidate count). */
export function promptLossTargets(
  prompt: readonly number[],
  mode: PromptLossMode,
  items: ItemIdRange | null,
  candidates: number,
): number[] {
  const flags = new Array<number>(prompt.length).fill(0);
  if (mode === "all") {
    for (let t = 1; t < prompt.length; t++) flags[t] = 1;
  } else if (mode === "items") {
    if (!items) throw new Error("promptLoss items: the tokenizer has no item tokens");
    const positions: number[] = [];
    prompt.forEach((id, t) => {
      if (t >= 1 && id >= items.first && id <= items.last) positions.push(t);
    });
    const listed = items.candidatesInPrompt ? candidates : 0;
    for (const t of positions.slice(0, Math.max(0, positions.length - listed))) flags[t] = 1;
  }
  return flags;
}

/**
 * The step program's prompt-loss feeds for prompts left-padded to the longest (as packPrompts
 * "left"): for each flagged target t of example b, the flattened index of its predictor
 * (b·T + offset + t − 1), the target token, and a one-hot owner row. With no flagged target in
 * the batch, one dummy entry of owner weight 0 keeps M ≥ 1.
 */
export function promptLossFeeds(
  prompts: readonly (readonly number[])[],
  flags: readonly (readonly number[])[],
): {
  index: { data: BigInt64Array; shape: number[] };
  target: { data: BigInt64Array; shape: number[] };
  owner: { data: Float32Array; shape: number[] };
} {
  const B = prompts.length;
  const T = Math.max(...prompts.map((p) => p.length));
  const entries: [number, number, number][] = []; // [example, predictor index, target token]
  prompts.forEach((p, b) => {
    const offset = T - p.length;
    for (let t = 1; t < p.length; t++)
      if (flags[b][t]) entries.push([b, b * T + offset + t - 1, p[t]]);
  });
  const dummy = entries.length === 0;
  const M = dummy ? 1 : entries.length;
  const index = new BigInt64Array(M);
  const target = new BigInt64Array(M);
  const owner = new Float32Array(B * M);
  entries.forEach(([b, i, token], m) => {
    index[m] = BigInt(i);
    target[m] = BigInt(token);
    owner[b * M + m] = 1;
  });
  return {
    index: { data: index, shape: [M] },
    target: { data: target, shape: [M] },
    owner: { data: owner, shape: [B, M] },
  };
}
