// Generation: KV-cache greedy decoding equals re-running the full forward at every step;
// constrained decoding always yields one of the candidates, adversarial sets included.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { LanguageModel } from "../../src/model/lm.js";
import { argmax, CandidateTrie } from "../../src/model/trie.js";
import { testRuntime, tinyConfig, tinyWeights } from "./tiny.js";

const config = tinyConfig({ qkvBias: true });
const model = new LanguageModel(config, tinyWeights(config, 21), { runtime: testRuntime });
const EOS = config.eosTokenIds[0];

/** Greedy decoding by running the whole sequence again for every new token. */
async function naiveGreedy(prompt: number[], maxNewTokens: number): Promise<number[]> {
  const tokens = [...prompt];
  const out: number[] = [];
  for (let i = 0; i < maxNewTokens; i++) {
    const logits = await model.logits(tokens);
    const V = config.vocabSize;
    const next = argmax(logits.data as Float32Array, (tokens.length - 1) * V, V);
    if (next === EOS) break;
    out.push(next);
    tokens.push(next);
  }
  return out;
}

describe("greedy generation", () => {
  it("the KV cache gives the same tokens as full re-computation (batched, ragged prompts)", async () => {
    const prompts = [[5, 6, 7], [8], [9, 10, 11, 12, 13], [14, 3]];
    const generated = await model.generate(prompts, { maxNewTokens: 12, eosIds: [EOS] });
    for (let b = 0; b < prompts.length; b++) {
      const naive = await naiveGreedy(prompts[b], 12);
      assert.deepEqual(generated[b].tokens, naive, `prompt ${b}`);
      assert.equal(generated[b].stop, naive.length < 12 ? "eos" : "length");
    }
    assert.ok(
      generated.some((g) => g.tokens.length > 3),
      "some generation is long enough to exercise the cache",
    );
  });
  it("stops at the token limit", async () => {
    const [g] = await model.generate([[5, 6]], { maxNewTokens: 2, eosIds: [] });
    assert.equal(g.tokens.length, 2);
    assert.equal(g.stop, "length");
  });
});

describe("candidate-constrained generation", () => {
  const sets: [string, number[][]][] = [
    ["disjoint", [[20, 21], [22], [23, 24, 25]]],
    ["one a prefix of another", [[20, 21], [20, 21, 22], [20]]],
    [
      "long shared prefixes",
      [
        [30, 31, 32, 33, 4],
        [30, 31, 32, 33, 5],
        [30, 31, 32, 6],
      ],
    ],
    ["duplicates and a single token", [[7], [7], [8, 9]]],
    ["tokens the model dislikes", [[35, 36, 35, 36, 35, 36, 35, 36]]],
  ];
  for (const [label, candidates] of sets) {
    it(`always yields a candidate: ${label}`, async () => {
      const prompts = [[5, 6, 7], [12], [3, 4, 5, 6, 7, 8, 9]];
      const out = await model.generate(prompts, {
        maxNewTokens: 3, // shorter than some candidates: the constraint, not the limit, ends them
        eosIds: [EOS],
        candidates: prompts.map(() => candidates),
      });
      for (const g of out) {
        assert.equal(g.stop, "eos");
        assert.ok(g.candidate !== undefined);
        assert.deepEqual(g.tokens, candidates[g.candidate!]);
      }
    });
  }
  it("picks the candidate greedy decoding prefers among the allowed tokens", async () => {
    const prompt = [5, 6, 7];
    const logits = await model.logits(prompt);
    const V = config.vocabSize;
    const last = (logits.data as Float32Array).subarray((prompt.length - 1) * V, prompt.length * V);
    const [g] = await model.generate([prompt], {
      maxNewTokens: 5,
      eosIds: [EOS],
      candidates: [[[10], [11], [12]]],
    });
    const best = [10, 11, 12].reduce((a, b) => (last[b] > last[a] ? b : a));
    assert.deepEqual(g.tokens, [best]);
  });
  it("the trie reports forced paths", () => {
    const trie = new CandidateTrie(
      [
        [1, 2, 3],
        [1, 4],
      ],
      9,
    );
    const cursor = trie.start();
    assert.equal(cursor.forcedRest(), null);
    assert.deepEqual(cursor.allowed(), [1]);
    assert.ok(cursor.advance(1));
    assert.deepEqual(cursor.allowed().sort(), [2, 4]);
    assert.ok(!cursor.advance(7));
    assert.ok(cursor.advance(2));
    assert.deepEqual(cursor.forcedRest(), [3]);
  });
});
