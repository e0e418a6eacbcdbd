// SFT then S-DPO on a small synthetic dataset: the preference stage raises candidate-ranking HR@1
// well above the SFT model it starts from, on the examples it trains on (measured +0.33 to +0.50
// over seeds 0–2; asserted ≥ +0.15 at seed 0).

import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { loadExamples, prepareDataset } from "../../src/data/index.js";
import { initFromRun } from "../../src/eval/load.js";
import { rankOf } from "../../src/eval/ranking.js";
import { Runtime } from "../../src/graph/index.js";
import { createRng } from "../../src/io/rng.js";
import { saveCheckpoint } from "../../src/model/checkpoint.js";
import { initWeights } from "../../src/model/init.js";
import { LanguageModel } from "../../src/model/lm.js";
import { presetConfig } from "../../src/model/presets.js";
import { tokenizeExample } from "../../src/model/tokenizer/tokenize.js";
import { LmTokenizer } from "../../src/model/tokenizer/tokenizer.js";
import { trainTokenizer } from "../../src/model/tokenizer/train-tokenizer.js";
import { parseTrainConfig } from "../../src/train/config.js";
import { train } from "../../src/train/trainer.js";

const runtime = new Runtime({ threads: 2 });

/** Users who mostly pick items of one colour ("Red Fox", "Blue Owl", …): 32 items, 4 colours. */
async function colourWorld(dir: string): Promise<string> {
  const colours = ["Red", "Blue", "Green", "Gold"];
  const nouns = ["Fox", "Owl", "Bear", "Wolf", "Hawk", "Deer", "Lynx", "Crow"];
  await writeFile(
    join(dir, "titles.csv"),
    `id,title\n${colours.flatMap((c) => nouns.map((n) => `${c}${n},${c} ${n}`)).join("\n")}\n`,
  );
  const rng = createRng(5);
  const rows = ["user,item,rating,time"];
  for (let u = 0; u < 120; u++) {
    const seen = new Set<string>();
    for (let t = 0; t < 12; t++) {
      let item: string;
      do {
        const colour = rng.uniform() < 0.9 ? colours[u % 4] : colours[rng.int(4)];
        item = `${colour}${nouns[rng.int(8)]}`;
      } while (seen.has(item));
      seen.add(item);
      rows.push(`u${u},${item},5,${1000 + t}`);
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
    // Every other candidate is a negative, so S-DPO's softmax spans the whole list.
    candidates: 6,
    negatives: 5,
    maxTrain: 48,
    maxValid: 8,
    maxTest: 8,
    quiet: true,
  });
  return data;
}

describe("learning", () => {
  let dir = "";
  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("S-DPO after SFT raises ranking HR@1 by a clear margin", async () => {
    dir = await mkdtemp(join(tmpdir(), "prefrec-learn-"));
    const data = await colourWorld(dir);
    const train48 = await loadExamples(data, "train");
    assert.equal(train48.length, 48);
    await writeFile(
      join(dir, "corpus.txt"),
      train48.map((e) => `${e.prompt} ${e.target.title}`).join("\n"),
    );
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

    const examples = train48.map((e) => tokenizeExample(tok, e));
    const hr1 = async (modelDir: string) => {
      const lm = await LanguageModel.load(modelDir, { runtime });
      const { logpSum } = await lm.score(
        examples.map((e) => e.prompt),
        examples.map((e) => e.candidates),
      );
      return (
        examples.filter((e, i) => rankOf(logpSum[i], e.targetIndex) === 1).length / examples.length
      );
    };
    const common = { data, batchSize: 8, evalExamples: 0, seed: 0 };
    await train(
      parseTrainConfig({
        ...common,
        model: join(dir, "model"),
        objective: { type: "sft" },
        lora: null,
        lr: 3e-3,
        epochs: 8,
      }),
      join(dir, "sft"),
      { quiet: true, runtime },
    );
    const sft = await hr1(join(dir, "sft", "checkpoints", "last", "model"));
    const init = await initFromRun(join(dir, "sft"));
    const summary = await train(
      parseTrainConfig({
        ...common,
        ...init,
        objective: { type: "sdpo", beta: 1, negatives: 5 },
        lr: 1e-3,
        epochs: 16,
      }),
      join(dir, "sdpo"),
      { quiet: true, runtime },
    );
    const sdpo = await hr1(join(dir, "sdpo", "checkpoints", "last", "model"));
    assert.ok(sdpo >= sft + 0.15, `HR@1: SFT ${sft}, SFT → S-DPO ${sdpo}`);
    const metrics = (await readFile(join(dir, "sdpo", "metrics.jsonl"), "utf8"))
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    const lastSteps = metrics.slice(-6);
    const accuracy = lastSteps.reduce((s, m) => s + m.accuracy, 0) / lastSteps.length;
    assert.ok(accuracy >= 0.75, `late S-DPO reward accuracy ${accuracy}`);
    assert.ok(summary.steps === 96);
  });
});
