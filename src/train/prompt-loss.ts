// Which prompt tokens carry SFT's optional prompt loss (`promptLoss`): a 0/1 target flag per
// prompt token, fed to the step program as `prompt_loss_mask` (token t is predicted from t−1, so
// the first token is never a target). `items` flags the history's item tokens: every item token
// of the prompt except the last C, which are the C candidates (truncation keeps a prompt's end,
// so the candidates are always there; a history cut short just loses its oldest items).

import type { PromptLossMode } from "../objectives/index.js";

/** The item token ids of a tokenizer: [first, last] inclusive (items and `<item_unk>`). */
export interface ItemIdRange {
  first: number;
  last: number;
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
    for (const t of positions.slice(0, Math.max(0, positions.length - candidates))) flags[t] = 1;
  }
  return flags;
}

/** `prompt_loss_mask` [B, T] for prompts left-padded to the longest (as packPrompts "left"). */
export function promptLossMask(flags: readonly (readonly number[])[]): {
  data: Float32Array;
  shape: number[];
} {
  const T = Math.max(...flags.map((f) => f.length));
  const data = new Float32Array(flags.length * T);
  flags.forEach((f, b) => {
    data.set(f, b * T + T - f.length);
  });
  return { data, shape: [flags.length, T] };
}
