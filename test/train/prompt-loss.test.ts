// SFT's prompt loss (`promptLoss`): the target flags by hand, and the step program's loss
// against a naive full forward over prompt + answer (alpaca-lora's token mean), in float64.

import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import type { Tensor } from "../../src/graph/index.js";
import { packCompletions, packPrompts } from "../../src/model/batch.js";
import { forwardProgram } from "../../src/model/graph/programs.js";
import { parseObjective } from "../../src/objectives/index.js";
import { parseTrainConfig } from "../../src/train/config.js";
import { stepProgram } from "../../src/train/program.js";
import { promptLossFeeds, promptLossTargets } from "../../src/train/prompt-loss.js";
import { train } from "../../src/train/trainer.js";
import { tempDir } from "../io/helpers.js";
import { testRuntime, tinyConfig, tinyWeights } from "../model/tiny.js";
import { buildTrainFixture } from "./fixture.js";

const ITEMS = { first: 30, last: 36, candidatesInPrompt: true };

test("promptLossTargets: history item tokens (not the last C candidates), all, none", () => {
  // BOS, word, item, item, word, item | candidates: item, item
  const prompt = [1, 5, 30, 31, 6, 36, 32, 33];
  assert.deepEqual(promptLossTargets(prompt, "items", ITEMS, 2), [0, 0, 1, 1, 0, 1, 0, 0]);
  assert.deepEqual(promptLossTargets(prompt, "all", null, 2), [0, 1, 1, 1, 1, 1, 1, 1]);
  assert.deepEqual(promptLossTargets(prompt, "none", ITEMS, 2), [0, 0, 0, 0, 0, 0, 0, 0]);
  // A prompt truncated into its candidates has no history targets left.
  assert.deepEqual(promptLossTargets([32, 33, 7], "items", ITEMS, 2), [0, 0, 0]);
  // An item token as the very first token is never a target (nothing predicts it).
  assert.deepEqual(promptLossTargets([30, 31, 32], "items", ITEMS, 1), [0, 1, 0]);
  assert.throws(() => promptLossTargets(prompt, "items", null, 2), /no item tokens/);
  // Prompts that hide the candidates end with history items: every item token is a target.
  const hidden = { ...ITEMS, candidatesInPrompt: false };
  assert.deepEqual(
    promptLossTargets([1, 5, 30, 31, 6, 36], "items", hidden, 2),
    [0, 0, 1, 1, 0, 1],
  );
  // Feeds for left-padded prompts (T = 3): predictor index b·T + offset + t − 1, target, owner.
  const f = promptLossFeeds(
    [
      [1, 30, 5],
      [1, 31],
    ],
    [
      [0, 1, 1],
      [0, 1],
    ],
  );
  assert.deepEqual([...f.index.data], [0n, 1n, 4n]);
  assert.deepEqual([...f.target.data], [30n, 5n, 31n]);
  assert.deepEqual(f.owner.shape, [2, 3]);
  assert.deepEqual([...f.owner.data], [1, 1, 0, 0, 0, 1]);
  // No target in the batch: one dummy entry that weighs nothing.
  const none = promptLossFeeds([[1, 2]], [[0, 0]]);
  assert.deepEqual([...none.index.data], [0n]);
  assert.deepEqual([...none.owner.data], [0]);
});

test("promptLoss is an sft parameter: absent means none, other values rejected by name", () => {
  assert.deepEqual(parseObjective({ type: "sft" }), { type: "sft" });
  assert.deepEqual(parseObjective({ type: "sft", promptLoss: "items" }), {
    type: "sft",
    promptLoss: "items",
  });
  assert.throws(() => parseObjective({ type: "sft", promptLoss: "some" }), /promptLoss/);
  assert.throws(() => parseObjective({ type: "dpo", beta: 1, promptLoss: "items" }), /promptLoss/);
});

/** log softmax of a row. */
function logSoftmax(row: ArrayLike<number>): number[] {
  const max = Math.max(...Array.from(row));
  const lse = max + Math.log(Array.from(row).reduce((s, v) => s + Math.exp(v - max), 0));
  return Array.from(row, (v) => v - lse);
}

test("step loss with promptLoss = −(Σ answer logp + Σ flagged prompt logp) / token count (naive forward)", async () => {
  const config = tinyConfig();
  const weights = tinyWeights(config, 3);
  const prompts = [
    [1, 5, 30, 31, 6, 36, 32, 33],
    [1, 34, 35, 7, 30, 31],
  ];
  const answers = [[[32, 2]], [[31, 2]]];
  const candidates = [2, 2];
  // The naive side: one full forward per prompt + answer, log-probs read off position t−1.
  const fwd = forwardProgram(config, weights, { dtype: "float64" });
  const compiled = await testRuntime.compile(fwd.graph, { logits: fwd.outputs.logits });
  const V = config.vocabSize;
  for (const mode of ["none", "items", "all"] as const) {
    let logpSum = 0;
    let tokens = 0;
    for (let b = 0; b < prompts.length; b++) {
      const seq = [...prompts[b], ...answers[b][0]];
      const T = seq.length;
      const out = await compiled.run({
        ...(fwd.model.feeds as Record<string, Float64Array>),
        ids: { data: BigInt64Array.from(seq.map(BigInt)), shape: [1, T] },
        positions: { data: BigInt64Array.from(seq.map((_, i) => BigInt(i))), shape: [1, T] },
        mask: { data: new Float64Array(T).fill(1), shape: [1, T] },
      });
      const logits = out.logits.data as Float64Array;
      const flags = promptLossTargets(prompts[b], mode, ITEMS, candidates[b]);
      for (let t = 1; t < T; t++) {
        const isAnswer = t >= prompts[b].length;
        if (!isAnswer && !flags[t]) continue;
        logpSum += logSoftmax(logits.subarray((t - 1) * V, t * V))[seq[t]];
        tokens++;
      }
    }
    const want = -logpSum / tokens;
    const objective = parseObjective(
      mode === "none" ? { type: "sft" } : { type: "sft", promptLoss: mode },
    );
    const program = stepProgram(config, weights, objective, { dtype: "float64" }, false);
    const run = await testRuntime.compile(program.graph, { loss: program.outputs.loss });
    const { lengths, ...promptFeeds } = packPrompts(prompts, "left", 0, "float64");
    const feeds: Record<string, Tensor | Float64Array> = {
      ...(program.model.feeds as Record<string, Float64Array>),
      ...promptFeeds,
      ...packCompletions(answers, lengths, 0, "float64"),
    };
    if (mode !== "none") {
      const f = promptLossFeeds(
        prompts,
        prompts.map((p, b) => promptLossTargets(p, mode, ITEMS, candidates[b])),
      );
      feeds.prompt_loss_index = f.index;
      feeds.prompt_loss_target = f.target;
      feeds.prompt_loss_owner = { data: Float64Array.from(f.owner.data), shape: f.owner.shape };
    }
    const got = (await run.run(feeds)).loss.data[0] as number;
    assert.ok(Math.abs(got - want) < 1e-9, `${mode}: ${got} vs ${want}`);
    // Token counts by hand: answers 2 + 2; items: 3 + 2 history item tokens; all: 7 + 5.
    assert.equal(tokens, { none: 4, items: 9, all: 16 }[mode]);
  }
});

test("a run with promptLoss: items trains on id prompts and is refused on titles", async (t) => {
  const dir = await tempDir(t);
  const fx = await buildTrainFixture(dir, { users: 40, maxTrain: 16 });
  const common = { data: fx.data, model: fx.model, batchSize: 4, maxSteps: 2, evalExamples: 0 };
  const objective = { type: "sft", promptLoss: "items" };
  await train(parseTrainConfig({ ...common, items: "id", objective }), join(dir, "id"), {
    quiet: true,
  });
  const lines = (await readFile(join(dir, "id", "metrics.jsonl"), "utf8")).trim().split("\n");
  const step = JSON.parse(lines[0]);
  assert.ok(step.prompt_logp < 0 && Number.isFinite(step.loss), lines[0]);
  await assert.rejects(
    train(parseTrainConfig({ ...common, objective }), join(dir, "title"), { quiet: true }),
    /promptLoss: items trains on the history's item tokens, but this run shows items as titles/,
  );
});
