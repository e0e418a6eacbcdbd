// A run's item representation: setup adds item tokens once (RUN/tokenizer, copied into its
// checkpoints), later stages inherit them, another representation only relabels them, and the
// shipped item configs validate (LoRA runs that add them: lora-items.test.ts).

import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { loadExamples } from "../../src/data/index.js";
import { initFromRun } from "../../src/eval/load.js";
import { loadExperiment } from "../../src/experiment/config.js";
import { loadCheckpoint } from "../../src/model/checkpoint.js";
import { promptText } from "../../src/model/tokenizer/tokenize.js";
import { LmTokenizer } from "../../src/model/tokenizer/tokenizer.js";
import { parseTrainConfig } from "../../src/train/config.js";
import { train } from "../../src/train/trainer.js";
import { tempDir } from "../io/helpers.js";
import { buildTrainFixture } from "./fixture.js";

test("items: id adds tokens once; later stages inherit them; hybrid relabels", async (t) => {
  const dir = await tempDir(t);
  const fx = await buildTrainFixture(dir, { users: 40, maxTrain: 16 });
  const base = await LmTokenizer.load(fx.model);
  const common = { data: fx.data, batchSize: 4, maxSteps: 1, evalExamples: 0, lr: 1e-3 };
  await train(
    parseTrainConfig({ ...common, model: fx.model, items: "id", objective: { type: "sft" } }),
    join(dir, "sft"),
    { quiet: true },
  );
  const modelDir = join(dir, "sft", "checkpoints", "last", "model");
  const tok = await LmTokenizer.load(modelDir);
  assert.equal(tok.representation, "id");
  assert.equal(tok.items!.firstId, base.vocabSize);
  const { config } = await loadCheckpoint(modelDir);
  assert.equal(config.vocabSize, base.vocabSize + tok.items!.count + 1);
  assert.ok(existsSync(join(dir, "sft", "tokenizer", "item_tokens.json")));

  // DPO from the SFT run: no `items` given, the model's own tokens are used, nothing is added.
  await train(
    parseTrainConfig({
      ...common,
      ...(await initFromRun(join(dir, "sft"))),
      objective: { type: "dpo", beta: 1 },
    }),
    join(dir, "dpo"),
    { quiet: true },
  );
  const dpo = await LmTokenizer.load(join(dir, "dpo", "checkpoints", "last", "model"));
  assert.equal(dpo.representation, "id");
  assert.equal(dpo.vocabSize, tok.vocabSize);
  assert.ok(!existsSync(join(dir, "dpo", "tokenizer")));

  await train(
    parseTrainConfig({
      ...common,
      ...(await initFromRun(join(dir, "sft"))),
      items: "hybrid",
      objective: { type: "sft" },
    }),
    join(dir, "hybrid"),
    { quiet: true },
  );
  const hybrid = await LmTokenizer.load(join(dir, "hybrid", "checkpoints", "last", "model"));
  assert.equal(hybrid.representation, "hybrid");
  assert.equal(hybrid.vocabSize, tok.vocabSize);

  assert.throws(
    () =>
      parseTrainConfig({ ...common, model: fx.model, items: "ids", objective: { type: "sft" } }),
    /items/,
  );
});

test("promptCandidates: hidden empties the prompts' candidate list, is inherited, and title refuses it", async (t) => {
  const dir = await tempDir(t);
  const fx = await buildTrainFixture(dir, { users: 40, maxTrain: 16 });
  const common = { data: fx.data, batchSize: 4, maxSteps: 1, evalExamples: 0, lr: 1e-3 };
  const hidden = { ...common, model: fx.model, items: "id", objective: { type: "sft" } };
  await train(
    parseTrainConfig({
      ...hidden,
      promptCandidates: "hidden",
      objective: { type: "sft", promptLoss: "items" },
    }),
    join(dir, "sft"),
    { quiet: true },
  );
  const modelDir = join(dir, "sft", "checkpoints", "last", "model");
  const tok = await LmTokenizer.load(modelDir);
  assert.equal(tok.items!.candidates, "hidden");
  const [example] = await loadExamples(fx.data, "test");
  const text = promptText(tok, example);
  // The history's item tokens are there, none of the candidates' (unless also in the history).
  for (const h of example.history) assert.ok(text.includes(tok.items!.textOf(h.item)));
  const seen = new Set(example.history.map((h) => h.item));
  for (const c of example.candidates)
    if (!seen.has(c.item)) assert.ok(!text.includes(tok.items!.textOf(c.item)), text);
  await train(parseTrainConfig(hidden), join(dir, "shown"), { quiet: true });
  const shown = await LmTokenizer.load(join(dir, "shown", "checkpoints", "last", "model"));
  assert.equal(shown.items!.candidates, "shown");
  const full = promptText(shown, example);
  for (const c of example.candidates) assert.ok(full.includes(shown.items!.textOf(c.item)));
  assert.ok(tok.encode(text).length < shown.encode(full).length);

  // DPO from the hidden run inherits the display; asking for shown relabels it.
  for (const [name, promptCandidates, want] of [
    ["dpo", null, "hidden"],
    ["dpo-shown", "shown", "shown"],
  ] as const) {
    await train(
      parseTrainConfig({
        ...common,
        ...(await initFromRun(join(dir, "sft"))),
        promptCandidates,
        objective: { type: "dpo", beta: 1 },
      }),
      join(dir, name),
      { quiet: true },
    );
    const dpo = await LmTokenizer.load(join(dir, name, "checkpoints", "last", "model"));
    assert.equal(dpo.items!.candidates, want, name);
  }

  assert.throws(
    () => parseTrainConfig({ ...hidden, items: "title", promptCandidates: "hidden" }),
    /promptCandidates: hidden \(--prompt-candidates\) needs items: id or hybrid/,
  );
  await assert.rejects(
    train(
      parseTrainConfig({
        ...common,
        model: fx.model,
        promptCandidates: "hidden",
        objective: { type: "sft" },
      }),
      join(dir, "title"),
      { quiet: true },
    ),
    /promptCandidates: hidden needs item tokens shown as id or hybrid/,
  );
});

test("the shipped item-token experiments validate", async () => {
  for (const file of ["configs/lastfm-items.yaml", "configs/movielens-items.yaml"]) {
    const config = await loadExperiment(file, "/data");
    assert.equal(config.training.items, "id", file);
  }
});
