// Item tokens learn collaborative signal: on a world where users keep to one "colour" of items
// (titles carry no hint; the `id` prompts show only item tokens),
// the `id` LM after SFT beats popularity by a wide margin on held-out test prompts, and S-DPO
// from that SFT model raises HR@1 on its training prompts (seeds fixed). Measured at seed 0:
// test HR@1 Pop 0.09, id SFT 0.23; train HR@1 SFT 0.28 → S-DPO 0.38.

import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { type Example, loadExamples, prepareDataset } from "../../src/data/index.js";
import { evaluate } from "../../src/eval/evaluate.js";
import { initFromRun, loadRecommender } from "../../src/eval/load.js";
import { rankingMetrics, rankOf } from "../../src/eval/ranking.js";
import { Runtime } from "../../src/graph/index.js";
import { createRng } from "../../src/io/rng.js";
import { saveCheckpoint } from "../../src/model/checkpoint.js";
import { initWeights } from "../../src/model/init.js";
import { presetConfig } from "../../src/model/presets.js";
import { LmTokenizer } from "../../src/model/tokenizer/tokenizer.js";
import { trainTokenizer } from "../../src/model/tokenizer/train-tokenizer.js";
import { parseTrainConfig } from "../../src/train/config.js";
import { train } from "../../src/train/trainer.js";

const runtime = new Runtime({ threads: 2 });

/** 48 items in 4 "colours" of 12 with colourless titles ("Item 7"); each user picks 8 distinct
 *  items, each of their colour with probability 0.9: a collaborative pattern only item ids reveal. */
async function colourWorld(dir: string): Promise<string> {
  await writeFile(
    join(dir, "titles.csv"),
    `id,title\n${Array.from({ length: 48 }, (_, i) => `i${i},Item ${i}`).join("\n")}\n`,
  );
  const rng = createRng(5);
  const rows = ["user,item,rating,time"];
  for (let u = 0; u < 200; u++) {
    const seen = new Set<number>();
    for (let t = 0; t < 8; t++) {
      let item: number;
      do {
        const colour = rng.uniform() < 0.9 ? u % 4 : rng.int(4);
        item = colour * 12 + rng.int(12);
      } while (seen.has(item));
      seen.add(item);
      rows.push(`u${u},i${item},5,${1000 + t}`);
    }
  }
  await writeFile(join(dir, "log.csv"), `${rows.join("\n")}\n`);
  const data = join(dir, "data");
  await prepareDataset({
    source: "csv",
    path: join(dir, "log.csv"),
    titleFile: join(dir, "titles.csv"),
    columns: { user: "user", item: "item", rating: "rating", time: "time" },
    out: data,
    candidates: 6,
    negatives: 5,
    maxTrain: 200,
    maxValid: 8,
    maxTest: 200,
    seed: 1,
    quiet: true,
  });
  return data;
}

/** Popularity: candidates ranked by how often the item occurs in the training examples. */
function popHr1(trainSet: readonly Example[], test: readonly Example[]): number {
  const count = new Map<number, number>();
  for (const e of trainSet)
    for (const r of [...e.history, e.target]) count.set(r.item, (count.get(r.item) ?? 0) + 1);
  const ranks = test.map((e) =>
    rankOf(
      e.candidates.map((c) => count.get(c.item) ?? 0),
      e.target.index,
    ),
  );
  return rankingMetrics(ranks).hr["1"];
}

describe("item tokens learning", () => {
  let dir = "";
  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("the id LM after SFT beats Pop by a wide margin; S-DPO raises HR@1 over its SFT start", async () => {
    dir = await mkdtemp(join(tmpdir(), "prefrec-items-"));
    const data = await colourWorld(dir);
    const trainSet = await loadExamples(data, "train");
    const test = await loadExamples(data, "test");
    await writeFile(join(dir, "corpus.txt"), trainSet.map((e) => e.prompt).join("\n"));
    await trainTokenizer(join(dir, "corpus.txt"), join(dir, "tok"), { vocabSize: 300 });
    const tok = await LmTokenizer.load(join(dir, "tok"));
    const config = presetConfig("tiny", {
      vocabSize: tok.vocabSize,
      bosTokenId: tok.bosId,
      eosTokenIds: [tok.eosId!],
      padTokenId: tok.padId,
    });
    await saveCheckpoint(
      join(dir, "model"),
      { config, weights: initWeights(config, 1) },
      { tokenizerDir: join(dir, "tok") },
    );
    const hr1 = async (run: string, examples: readonly Example[]) => {
      const { recommender } = await loadRecommender(run, { checkpoint: "last", runtime });
      const { metrics } = await evaluate(recommender, examples, { protocols: ["ranking"] });
      return metrics.ranking!.sum.hr["1"];
    };
    const common = { data, batchSize: 8, evalExamples: 0, seed: 0, lora: null };
    await train(
      parseTrainConfig({
        ...common,
        model: join(dir, "model"),
        items: "id",
        objective: { type: "sft" },
        lr: 5e-3,
        epochs: 16,
      }),
      join(dir, "sft"),
      { quiet: true, runtime },
    );
    const pop = popHr1(trainSet, test);
    const sft = await hr1(join(dir, "sft"), test);
    assert.ok(sft >= 2 * pop && sft >= pop + 0.1, `test HR@1: Pop ${pop}, id SFT ${sft}`);

    const sftTrain = await hr1(join(dir, "sft"), trainSet);
    await train(
      parseTrainConfig({
        ...common,
        ...(await initFromRun(join(dir, "sft"))),
        items: "id",
        objective: { type: "sdpo", beta: 1, negatives: 5 },
        lr: 1e-3,
        epochs: 4,
      }),
      join(dir, "sdpo"),
      { quiet: true, runtime },
    );
    const sdpoTrain = await hr1(join(dir, "sdpo"), trainSet);
    assert.ok(sdpoTrain >= sftTrain + 0.05, `train HR@1: SFT ${sftTrain}, S-DPO ${sdpoTrain}`);
  });
});
