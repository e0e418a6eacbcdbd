// Corpus → trained byte-level BPE → tokenizer directory, the path behind `prefrec tokenizer train`.

import { assertDirWritable } from "../../io/atomic.js";
import { UserError } from "../../io/errors.js";
import { type SpecialRoles, saveBpeTokenizer } from "./bpe-files.js";
import {
  type BpeTrainOptions,
  byteLevelCounts,
  type TrainedBpe,
  trainBpeFromCounts,
  WordCounter,
} from "./bpe-trainer.js";
import { corpusLines } from "./corpus.js";

/** Options of trainTokenizer. */
export interface TrainTokenizerOptions extends BpeTrainOptions {
  roles?: SpecialRoles;
  overwrite?: boolean;
}

/** Trains on a corpus path (file or directory of .txt) and writes tokenizer files to `outDir`. */
export async function trainTokenizer(
  corpus: string,
  outDir: string,
  options: TrainTokenizerOptions,
): Promise<TrainedBpe> {
  await assertDirWritable(outDir, options.overwrite ?? false);
  const counter = new WordCounter(options.specialTokens);
  let lines = 0;
  for await (const line of corpusLines(corpus)) {
    counter.add(line);
    lines++;
  }
  if (lines === 0) throw new UserError(`${corpus}: corpus is empty`);
  const bpe = trainBpeFromCounts(byteLevelCounts(counter.counts), options);
  await saveBpeTokenizer(outDir, bpe, { roles: options.roles, overwrite: options.overwrite });
  return bpe;
}
