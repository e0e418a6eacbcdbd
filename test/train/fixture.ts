// A small prepared dataset, tokenizer and from-scratch model for training tests (seconds to build).

import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { loadExamples, prepareDataset, writeSynth } from "../../src/data/index.js";
import { saveCheckpoint } from "../../src/model/checkpoint.js";
import { initWeights } from "../../src/model/init.js";
import { presetConfig } from "../../src/model/presets.js";
import { LmTokenizer } from "../../src/model/tokenizer/tokenizer.js";
import { trainTokenizer } from "../../src/model/tokenizer/train-tokenizer.js";

export interface TrainFixture {
  data: string;
  model: string;
}

/** Synthetic world → dataset (10 candidates, 3 negatives) → BPE tokenizer → tiny llama. */
export async function buildTrainFixture(
  dir: string,
  options: { users?: number; maxTrain?: number } = {},
): Promise<TrainFixture> {
  const world = join(dir, "world");
  await writeSynth(world, { users: options.users ?? 120, items: 80, seed: 3 }, false, true);
  const data = join(dir, "data");
  await prepareDataset({
    source: "synth",
    path: world,
    out: join(dir, "data"),
    candidates: 10,
    negatives: 3,
    maxTrain: options.maxTrain ?? 64,
    maxValid: 16,
    maxTest: 16,
    quiet: true,
  });
  const examples = await loadExamples(data, "train");
  const corpus = join(dir, "corpus.txt");
  await writeFile(corpus, examples.map((e) => `${e.prompt} ${e.target.title}`).join("\n"));
  const tokDir = join(dir, "tokenizer");
  await trainTokenizer(corpus, tokDir, { vocabSize: 400 });
  const tok = await LmTokenizer.load(tokDir);
  const config = presetConfig("tiny", {
    vocabSize: tok.vocabSize,
    bosTokenId: tok.bosId,
    eosTokenIds: [tok.eosId!],
    padTokenId: tok.padId,
  });
  const model = join(dir, "model");
  await saveCheckpoint(
    model,
    { config, weights: initWeights(config, 1) },
    { tokenizerDir: tokDir },
  );
  return { data, model };
}
