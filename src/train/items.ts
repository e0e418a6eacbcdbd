// A run's item representation (config `items`): the starting model gets item tokens when the
// run asks for `id` or `hybrid` and it has none (one per item of the run's dataset catalog, plus
// `<item_unk>`; the embedding and LM head grow, existing rows untouched), or records another
// representation (or candidate display, `promptCandidates`) over the tokens it has. The changed tokenizer is written to RUN/tokenizer, so
// every checkpoint of the run carries it. A LoRA run trains the added rows as PEFT trainable
// token rows (setup.ts); a full run trains them with everything else.

import { join } from "node:path";
import { type CatalogItem, loadPrepared } from "../data/index.js";
import type { LmConfig } from "../model/config.js";
import { resizeVocab } from "../model/resize.js";
import { writeItemTokenizer, writeRepresentation } from "../model/tokenizer/items.js";
import { LmTokenizer } from "../model/tokenizer/tokenizer.js";
import type { Weights } from "../model/weights.js";
import type { TrainConfig } from "./config.js";
import { TrainingError } from "./errors.js";

export interface ModelStart {
  config: LmConfig;
  weights: Weights;
  tokenizer: LmTokenizer;
  /** When this run added the item tokens: their ids (items, then `<item_unk>`) and catalog. */
  added?: { ids: number[]; items: CatalogItem[] };
}

/** The starting model under the run's item representation (unchanged when it already fits). */
export async function withItemTokens(
  config: TrainConfig,
  start: ModelStart,
  runDir?: string,
): Promise<ModelStart> {
  const want = config.items ?? start.tokenizer.representation;
  const have = start.tokenizer.items;
  const candidates = config.promptCandidates ?? have?.candidates ?? "shown";
  if (candidates === "hidden" && want === "title")
    throw new TrainingError(
      `promptCandidates: hidden needs item tokens shown as id or hybrid, but ${config.items === "title" ? "the run asks for items: title" : `the model ${start.tokenizer.dir} shows items as titles (add items: id or hybrid)`}`,
    );
  if (want === start.tokenizer.representation && candidates === (have?.candidates ?? "shown"))
    return start;
  if (want === "title" && !have) return start;
  if (!runDir)
    throw new TrainingError(`items: ${want} changes the tokenizer; the run needs a folder`);
  const out = join(runDir, "tokenizer");
  if (have) {
    await writeRepresentation(
      start.tokenizer.dir,
      out,
      have.with({ representation: want, candidates }),
    );
    return { ...start, tokenizer: await LmTokenizer.load(out) };
  }
  const { items } = await loadPrepared(config.data);
  const firstId = Math.max(start.tokenizer.vocabSize, start.config.vocabSize);
  await writeItemTokenizer(start.tokenizer.dir, out, {
    count: items.length,
    firstId,
    representation: want,
    candidates,
  });
  const tokenizer = await LmTokenizer.load(out);
  const resized = resizeVocab(start.config, start.weights, firstId + items.length + 1, config.seed);
  const ids = Array.from({ length: items.length + 1 }, (_, i) => firstId + i);
  return { ...resized, tokenizer, added: { ids, items } };
}
