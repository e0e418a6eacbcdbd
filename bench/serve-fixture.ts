// The serving benchmarks' fixture: a synthetic world → a 20-candidate dataset → a BPE tokenizer →
// an untrained LM of a preset with title items (speed does not depend on the weights), all seeded,
// plus the test split as /v1/recommend request bodies.

import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { loadExamples, prepareDataset, writeSynth } from "../src/data/index.js";
import { saveCheckpoint } from "../src/model/checkpoint.js";
import { initWeights } from "../src/model/init.js";
import { type PresetName, presetConfig } from "../src/model/presets.js";
import { LmTokenizer } from "../src/model/tokenizer/tokenizer.js";
import { trainTokenizer } from "../src/model/tokenizer/train-tokenizer.js";

export interface ServeFixture {
  /** Prepared dataset directory (catalog, templates). */
  data: string;
  /** Model directory (checkpoint + tokenizer). */
  model: string;
  /** One JSON request body per test example. */
  bodies: string[];
}

/** Builds the fixture under `dir`. */
export async function serveFixture(dir: string, preset: PresetName): Promise<ServeFixture> {
  const world = join(dir, "world");
  await writeSynth(world, { users: 300, items: 200, seed: 1 }, false, true);
  const data = join(dir, "data");
  await prepareDataset({
    source: "synth",
    path: world,
    out: data,
    candidates: 20,
    negatives: 3,
    maxTest: 256,
    quiet: true,
  });
  const train = await loadExamples(data, "train");
  const corpus = join(dir, "corpus.txt");
  await writeFile(corpus, train.map((e) => `${e.prompt} ${e.target.title}`).join("\n"));
  const tokDir = join(dir, "tokenizer");
  await trainTokenizer(corpus, tokDir, { vocabSize: 1024 });
  const tok = await LmTokenizer.load(tokDir);
  const config = presetConfig(preset, {
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
  const bodies = (await loadExamples(data, "test")).map((e) =>
    JSON.stringify({
      history: e.history.map((h) => ({
        item: h.item,
        ...(h.rating !== undefined ? { rating: h.rating } : {}),
      })),
      candidates: e.candidates.map((c) => ({ item: c.item })),
      template: e.template,
      k: 10,
    }),
  );
  return { data, model, bodies };
}
