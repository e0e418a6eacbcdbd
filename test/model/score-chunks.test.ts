// Completion scoring in chunks of completions (a bound on each run's logits) against one run
// per batch: the same log-probs and token counts, bit for bit.

import assert from "node:assert/strict";
import { test } from "node:test";
import { CompiledGraph } from "../../src/graph/index.js";
import { LanguageModel } from "../../src/model/lm.js";
import { testRuntime, tinyConfig, tinyWeights } from "./tiny.js";

const prompts = [
  [1, 4, 6, 8],
  [1, 9, 3],
  [1, 2],
];
const completions = [
  [[5, 2], [7, 8, 2], [30], [31, 32, 33, 34], [2]],
  [[10, 11, 12, 2], [4]],
  [[6, 6, 2], [7], [8, 2]],
];

/** Scores with the given budget, counting the graph runs it took. */
async function scored(lm: LanguageModel, logitsBudget: number) {
  const run = CompiledGraph.prototype.run;
  let runs = 0;
  CompiledGraph.prototype.run = function (this: CompiledGraph, ...args) {
    runs++;
    return run.apply(this, args);
  };
  try {
    return { ...(await lm.score(prompts, completions, { batchSize: 2, logitsBudget })), runs };
  } finally {
    CompiledGraph.prototype.run = run;
  }
}

test("scoring in chunks of completions gives the unchunked log-probs exactly", async () => {
  const config = tinyConfig({ tieWordEmbeddings: false });
  const lm = new LanguageModel(config, tinyWeights(config, 4), { runtime: testRuntime });
  const whole = await scored(lm, Number.POSITIVE_INFINITY);
  assert.equal(whole.runs, 2); // one per batch of 2 prompts
  // Bytes of one completion column of the first batch (2 prompts × 4 tokens × V × 4 B × 2);
  // the second batch's (1 prompt × 3 tokens) is 3/8 of it.
  const column = 2 * 4 * config.vocabSize * 4 * 2;
  for (const [budget, runs] of [
    [column, 5 + 2], // first batch: one column per run; second: two
    [2 * column, 3 + 1],
    [0, 5 + 3], // never less than one column per run
  ] as const) {
    const chunked = await scored(lm, budget);
    assert.equal(chunked.runs, runs, `budget ${budget}`);
    assert.deepEqual(chunked.logpSum, whole.logpSum);
    assert.deepEqual(chunked.tokenCount, whole.tokenCount);
  }
  assert.deepEqual(
    whole.logpSum.map((l) => l.length),
    completions.map((c) => c.length),
  );
});
