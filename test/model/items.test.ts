// Item tokens: the tokenizer round trip (HF added_tokens, loadable by @huggingface/tokenizers),
// the vocabulary resize (existing rows bit-identical), prompts and answers per representation,
// and the item-token scores against a naive full forward.

import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { Tokenizer } from "@huggingface/tokenizers";
import { rerenderItems } from "../../src/data/prompts.js";
import type { Example } from "../../src/data/types.js";
import { loadCheckpoint, saveCheckpoint } from "../../src/model/checkpoint.js";
import { initWeights } from "../../src/model/init.js";
import { LanguageModel } from "../../src/model/lm.js";
import { LmRecommender } from "../../src/model/lm-recommender.js";
import { initItemRows, randomProjection, resizeVocab } from "../../src/model/resize.js";
import { saveBpeTokenizer } from "../../src/model/tokenizer/bpe-files.js";
import { trainBpe } from "../../src/model/tokenizer/bpe-trainer.js";
import {
  ITEM_TOKENS_FILE,
  UNK_ITEM_TOKEN,
  writeItemTokenizer,
  writeRepresentation,
} from "../../src/model/tokenizer/items.js";
import { answerTokens, promptText, tokenizeExample } from "../../src/model/tokenizer/tokenize.js";
import { LmTokenizer } from "../../src/model/tokenizer/tokenizer.js";
import { tempDir } from "../io/helpers.js";
import { tinyConfig } from "./tiny.js";

const TEXT = [
  "A user listened to Red Fox, Blue Owl. Choose from: Gold Bear, Red Fox. Answer: Gold Bear",
  "Which next: Blue Owl, Green Lynx? Answer: Green Lynx",
];

async function baseTokenizer(dir: string): Promise<string> {
  const bpe = trainBpe(TEXT, { vocabSize: 300, specialTokens: ["<s>", "</s>", "<pad>"] });
  await saveBpeTokenizer(dir, bpe, { roles: { bos: "<s>", eos: "</s>", pad: "<pad>" } });
  return dir;
}

/** An example whose prompt was rendered with a custom separator and ratings (RecPO style). */
function example(): Example {
  const history = [
    { item: 0, title: "Red Fox", rating: 4 },
    { item: 1, title: "Blue Owl", rating: 5 },
  ];
  const candidates = [
    { item: 2, title: "Gold Bear", rating: 3, position: 0, phi: 3, observed: false },
    { item: 7, title: "Green Lynx", rating: 3, position: 0, phi: 3, observed: false },
    { item: 0, title: "Red Fox", rating: 3, position: 0, phi: 3, observed: false },
  ];
  return {
    id: "test-0",
    split: "test",
    user: "",
    history,
    candidates,
    target: { ...candidates[1], index: 1 },
    negatives: [{ ...candidates[0], index: 0 }],
    prompt:
      "Red Fox listeners. History:\nRed Fox | Rating: 4\nBlue Owl | Rating: 5\nChoose one of Gold Bear; Green Lynx; Red Fox. Answer:",
    template: 0,
  };
}

test("item tokens: HF added_tokens (not special, single ids), existing ids unchanged, loadable by @huggingface/tokenizers", async (t) => {
  const root = await tempDir(t);
  const src = await baseTokenizer(join(root, "base"));
  const before = await LmTokenizer.load(src);
  assert.equal(before.items, null);
  assert.equal(before.representation, "title");
  const out = join(root, "items");
  const vocab = await writeItemTokenizer(src, out, {
    count: 5,
    firstId: before.vocabSize,
    representation: "id",
  });
  const tok = await LmTokenizer.load(out);
  assert.deepEqual(tok.items?.toJSON(), vocab.toJSON());
  assert.equal(tok.vocabSize, before.vocabSize + 6);
  assert.equal(tok.tokenToId("<item_3>"), before.vocabSize + 3);
  assert.equal(tok.tokenToId(UNK_ITEM_TOKEN), before.vocabSize + 5);
  for (const text of TEXT) assert.deepEqual(tok.encode(text), before.encode(text));
  const ids = tok.encode("Red Fox <item_3>, <item_0> Answer:");
  assert.ok(ids.includes(before.vocabSize + 3) && ids.includes(before.vocabSize));
  assert.equal(tok.decode(ids), "Red Fox <item_3>, <item_0> Answer:");
  // The raw library reads the same file the same way.
  const json = JSON.parse(await readFile(join(out, "tokenizer.json"), "utf8"));
  const added = json.added_tokens.find((a: { content: string }) => a.content === "<item_4>");
  assert.equal(added.special, false);
  const raw = new Tokenizer(json, {});
  for (const text of ["x <item_4> y", "x <item_4><item_0><item_unk>. y"])
    assert.deepEqual(raw.encode(text, { add_special_tokens: false }).ids, tok.encode(text));
  assert.equal(JSON.parse(await readFile(join(out, ITEM_TOKENS_FILE), "utf8")).compact, true);
  // Adding twice is refused; a representation change keeps the tokens.
  await assert.rejects(
    writeItemTokenizer(out, join(root, "again"), { count: 5, firstId: 400, representation: "id" }),
    /already has item tokens/,
  );
  await writeRepresentation(out, join(root, "hybrid"), vocab.with({ representation: "hybrid" }));
  const hybrid = await LmTokenizer.load(join(root, "hybrid"));
  assert.equal(hybrid.representation, "hybrid");
  assert.equal(hybrid.tokenToId("<item_3>"), before.vocabSize + 3);
  // item_tokens.json that disagrees with tokenizer.json is a one-line error.
  const file = join(root, "hybrid", ITEM_TOKENS_FILE);
  const { writeFile } = await import("node:fs/promises");
  await writeFile(file, JSON.stringify({ ...vocab.toJSON(), firstId: 3 }));
  await assert.rejects(LmTokenizer.load(join(root, "hybrid")), /says <item_0> is token 3/);
});

test("resizeVocab keeps every existing row bit-identical (embedding and untied head) and seeds new rows", () => {
  for (const tie of [true, false]) {
    const config = tinyConfig({ tieWordEmbeddings: tie });
    const weights = initWeights(config, 4);
    const a = resizeVocab(config, weights, config.vocabSize + 9, 1);
    const b = resizeVocab(config, weights, config.vocabSize + 9, 1);
    assert.equal(a.config.vocabSize, config.vocabSize + 9);
    for (const name of tie
      ? ["model.embed_tokens.weight"]
      : ["model.embed_tokens.weight", "lm_head.weight"]) {
      const old = weights.get(name)!;
      const grown = a.weights.get(name)!;
      assert.deepEqual(grown.shape, [config.vocabSize + 9, config.hiddenSize]);
      const n = old.data.length;
      assert.ok(Buffer.from(grown.data.buffer, 0, n * 4).equals(Buffer.from(old.data.buffer)));
      assert.deepEqual(grown.data, b.weights.get(name)!.data);
      assert.ok(grown.data.subarray(n).some((x) => x !== 0));
    }
    assert.equal(a.weights.get("model.norm.weight"), weights.get("model.norm.weight"));
  }
  const config = tinyConfig();
  assert.throws(() => resizeVocab(config, initWeights(config, 0), 3, 0), /cannot shrink/);
});

test("initItemRows sets item rows to E·P and nothing else", () => {
  const config = tinyConfig();
  const weights = initWeights(config, 2);
  const before = Float32Array.from(weights.get("model.embed_tokens.weight")!.data);
  const E = Float32Array.from({ length: 3 * 5 }, (_, i) => Math.sin(i));
  const P = randomProjection(E, 5, config.hiddenSize, 0.02, 7);
  initItemRows(config, weights, { firstId: 30, embeddings: E, count: 3, dim: 5 }, P);
  const after = weights.get("model.embed_tokens.weight")!.data;
  const d = config.hiddenSize;
  for (let r = 0; r < config.vocabSize; r++) {
    for (let j = 0; j < d; j++) {
      let want = before[r * d + j];
      if (r >= 30 && r < 33) {
        want = 0;
        for (let k = 0; k < 5; k++) want += E[(r - 30) * 5 + k] * P[k * d + j];
      }
      assert.ok(Math.abs(after[r * d + j] - want) < 1e-6);
    }
  }
  assert.throws(
    () => initItemRows(config, weights, { firstId: 35, embeddings: E, count: 3, dim: 5 }, P),
    /outside the vocabulary/,
  );
});

test("prompts re-rendered per representation keep separators and ratings; answers are token + EOS", async (t) => {
  const root = await tempDir(t);
  const src = await baseTokenizer(join(root, "base"));
  const base = await LmTokenizer.load(src);
  await writeItemTokenizer(src, join(root, "id"), {
    count: 5,
    firstId: base.vocabSize,
    representation: "id",
  });
  const id = await LmTokenizer.load(join(root, "id"));
  await writeRepresentation(
    join(root, "id"),
    join(root, "hy"),
    id.items!.with({ representation: "hybrid" }),
  );
  const hy = await LmTokenizer.load(join(root, "hy"));
  const e = example();
  assert.equal(promptText(base, e), e.prompt);
  assert.equal(
    promptText(id, e),
    "Red Fox listeners. History:\n<item_0> | Rating: 4\n<item_1> | Rating: 5\nChoose one of <item_2><item_unk><item_0>. Answer:",
  );
  // Compact (the default of new item tokenizers) drops separators between bare entries only; a
  // vocabulary written without it keeps the dataset's separators, and unrated histories go bare.
  assert.equal(id.items!.compact, true);
  await writeItemTokenizer(src, join(root, "loose"), {
    count: 5,
    firstId: base.vocabSize,
    representation: "id",
    compact: false,
  });
  const loose = await LmTokenizer.load(join(root, "loose"));
  assert.equal(loose.items!.compact, false);
  assert.equal(
    promptText(loose, e),
    "Red Fox listeners. History:\n<item_0> | Rating: 4\n<item_1> | Rating: 5\nChoose one of <item_2>; <item_unk>; <item_0>. Answer:",
  );
  const unrated: Example = {
    ...e,
    history: e.history.map(({ rating: _r, ...h }) => h),
    prompt: "Heard Red Fox, Blue Owl. Choose one of Gold Bear, Green Lynx, Red Fox. Answer:",
  };
  assert.equal(
    promptText(id, unrated),
    "Heard <item_0><item_1>. Choose one of <item_2><item_unk><item_0>. Answer:",
  );
  assert.equal(
    promptText(loose, unrated),
    "Heard <item_0>, <item_1>. Choose one of <item_2>, <item_unk>, <item_0>. Answer:",
  );
  // Back-to-back item tokens are one token each, here and in the HF library.
  const packed = id.encode("Heard <item_0><item_1>.");
  assert.deepEqual(packed.slice(-3), [base.vocabSize, base.vocabSize + 1, ...base.encode(".")]);
  assert.equal(
    promptText(hy, e),
    "Red Fox listeners. History:\nRed Fox <item_0> | Rating: 4\nBlue Owl <item_1> | Rating: 5\nChoose one of Gold Bear <item_2>; Green Lynx <item_unk>; Red Fox <item_0>. Answer:",
  );
  const eos = base.eosId!;
  const V = base.vocabSize;
  assert.deepEqual(answerTokens(id, "Gold Bear", { item: 2 }), [V + 2, eos]);
  assert.deepEqual(answerTokens(id, "Green Lynx", { item: 7 }), [V + 5, eos]);
  assert.deepEqual(answerTokens(hy, "Gold Bear", { item: 2 }), [
    V + 2,
    ...base.encode(" Gold Bear"),
    eos,
  ]);
  assert.deepEqual(answerTokens(base, "Gold Bear", { item: 2 }), [
    ...base.encode(" Gold Bear"),
    eos,
  ]);
  const tokenized = tokenizeExample(id, e);
  assert.equal(tokenized.unknownItems, 1);
  assert.deepEqual(tokenized.answers, [
    [V + 5, eos],
    [V + 2, eos],
  ]);
  assert.throws(
    () => rerenderItems({ ...e, prompt: "nothing here" }, (r) => r.title),
    /test-0: the prompt does not list its candidates/,
  );
});

test("id model: candidate scores and catalog scores match a naive full forward; the saved model reloads", async (t) => {
  const root = await tempDir(t);
  const src = await baseTokenizer(join(root, "base"));
  const base = await LmTokenizer.load(src);
  const tokDir = join(root, "id");
  await writeItemTokenizer(src, tokDir, {
    count: 7,
    firstId: base.vocabSize,
    representation: "id",
  });
  const tok = await LmTokenizer.load(tokDir);
  const small = tinyConfig({
    vocabSize: base.vocabSize,
    bosTokenId: base.bosId,
    eosTokenIds: [base.eosId!],
    padTokenId: base.padId,
  });
  const { config, weights } = resizeVocab(small, initWeights(small, 3), tok.vocabSize, 5);
  const modelDir = join(root, "model");
  await saveCheckpoint(modelDir, { config, weights }, { tokenizerDir: tokDir });
  const saved = JSON.parse(await readFile(join(modelDir, "config.json"), "utf8"));
  assert.equal(saved.vocab_size, tok.vocabSize);
  const reloaded = await loadCheckpoint(modelDir);
  assert.equal(reloaded.config.vocabSize, tok.vocabSize);
  assert.equal((await LmTokenizer.load(modelDir)).representation, "id");

  const lm = new LanguageModel(config, weights);
  const rec = new LmRecommender(lm, tok);
  const e = example();
  const [scores] = await rec.scoreCandidates([e]);
  const [all] = await rec.scoreAll([e]);
  assert.equal(all.length, 7);
  const prompt = rec.tokenize([e])[0].prompt;
  const logSoftmax = (row: Float32Array) => {
    const max = Math.max(...row);
    const z = max + Math.log(row.reduce((s, x) => s + Math.exp(x - max), 0));
    return Array.from(row, (x) => x - z);
  };
  const V = config.vocabSize;
  const last = async (ids: number[]) => {
    const { data } = await lm.logits(ids);
    return logSoftmax((data as Float32Array).slice((ids.length - 1) * V, ids.length * V));
  };
  const first = await last(prompt);
  for (let i = 0; i < 7; i++) assert.ok(Math.abs(all[i] - first[tok.items!.firstId + i]) < 1e-4);
  for (const [k, c] of e.candidates.entries()) {
    const token = tok.items!.tokenOf(c.item);
    const naive = first[token] + (await last([...prompt, token]))[base.eosId!];
    assert.ok(Math.abs(scores[k] - naive) < 1e-4, `${scores[k]} vs ${naive}`);
  }
  const d = rec.describe();
  assert.equal(d.items, "id");
  assert.equal(d.fullCatalog, true);
  assert.deepEqual(d.details?.unknownItems, { examples: 1, references: 1, withUnknown: 1 });
  // Generated item tokens are read as the titles the example shows.
  assert.equal(rec.answerText([tok.items!.firstId + 2], e), "Gold Bear");
  assert.equal(rec.answerText([tok.items!.firstId + 6], e), "<item_6>");
});
