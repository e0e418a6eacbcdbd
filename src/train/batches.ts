// Batches: the seeded order of examples per epoch, per-micro-batch dropout seeds, and the feeds
// of the step program (prompts once, the 1+K answers, reference log-probs, the objective's inputs).

import type { Tensor } from "../graph/index.js";
import { createRng } from "../io/rng.js";
import { packCompletions, packPrompts } from "../model/batch.js";
import type { TokenizedExample } from "../model/tokenizer/tokenize.js";
import {
  needsReference,
  type ObjectiveSettings,
  objectiveExampleInputs,
  objectiveInputNames,
  objectivePromptLoss,
} from "../objectives/index.js";
import { type ItemIdRange, promptLossFeeds, promptLossTargets } from "./prompt-loss.js";

/** The feeds of one batch for the step program. */
export function batchFeeds(
  batch: readonly TokenizedExample[],
  o: {
    answers: number;
    padId: number;
    objective: ObjectiveSettings;
    reference: ReadonlyMap<string, number[]>;
    /** The tokenizer's item token ids (for `promptLoss: items`), or null. */
    items?: ItemIdRange | null;
  },
): Record<string, Tensor> {
  const N = o.answers;
  const { lengths, ...prompt } = packPrompts(
    batch.map((e) => e.prompt),
    "left",
    o.padId,
  );
  const feeds: Record<string, Tensor> = {
    ...prompt,
    ...packCompletions(
      batch.map((e) => e.answers.slice(0, N)),
      lengths,
      o.padId,
    ),
  };
  const promptLoss = objectivePromptLoss(o.objective);
  if (promptLoss !== "none") {
    const { index, target, owner } = promptLossFeeds(
      batch.map((e) => e.prompt),
      batch.map((e) =>
        promptLossTargets(e.prompt, promptLoss, o.items ?? null, e.candidates.length),
      ),
    );
    feeds.prompt_loss_index = index;
    feeds.prompt_loss_target = target;
    feeds.prompt_loss_owner = owner;
  }
  if (needsReference(o.objective)) {
    feeds.reference_logp = {
      data: Float32Array.from(batch.flatMap((e) => o.reference.get(e.id)!)),
      shape: [batch.length, N],
    };
  }
  const names = objectiveInputNames(o.objective);
  if (names.length > 0) {
    const rows = batch.map((e) => objectiveExampleInputs(o.objective, e, N));
    for (const name of names) {
      feeds[name] = {
        data: Float32Array.from(rows.flatMap((row) => row[name])),
        shape: [batch.length, N],
      };
    }
  }
  return feeds;
}

/** The dropout seed of one micro-batch: a function of (seed, step, micro-batch), so resumes repeat it. */
export function dropoutSeed(seed: number, step: number, micro: number): number {
  let h =
    (Math.imul(seed + 0x9e3779b9, 0x85ebca6b) ^
      Math.imul(step + 1, 0xc2b2ae35) ^
      Math.imul(micro + 7, 0x27d4eb2f)) >>>
    0;
  h = Math.imul(h ^ (h >>> 16), 0x45d9f3b) >>> 0;
  return (h ^ (h >>> 16)) & 0x7fffffff;
}

/** A seeded permutation of 0..n−1 for one epoch. */
export function shuffled(n: number, seed: number, epoch: number): number[] {
  const rng = createRng((Math.imul(seed + 1, 0x9e3779b1) ^ Math.imul(epoch + 1, 0x85ebca6b)) >>> 0);
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}

/**
 * Indices (sorted) of the training examples `microBatches` micro-batches will visit from
 * `from` (epoch, position), following exactly the loop's seeded order: setup tokenizes and
 * scores only these (`--max-steps 2` touches a handful of a large split).
 */
export function visitedExamples(
  n: number,
  batchSize: number,
  seed: number,
  from: { epoch: number; position: number },
  microBatches: number,
): number[] {
  const seen = new Set<number>();
  let { epoch, position } = from;
  for (let micro = 0; micro < microBatches && seen.size < n; micro++) {
    const order = shuffled(n, seed, epoch);
    for (const i of order.slice(position, position + batchSize)) seen.add(i);
    position += batchSize;
    if (position >= n) {
      epoch++;
      position = 0;
    }
  }
  return [...seen].sort((a, b) => a - b);
}
