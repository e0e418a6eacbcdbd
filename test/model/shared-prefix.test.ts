// Shared-prefix completion log-probs equal the naive computation (each prompt+completion run as
// one sequence), for left and right padding, N = 1…8, GQA, biases and an untied head.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Tensor } from "../../src/graph/index.js";
import { type PaddingSide, packCompletions, packPrompts } from "../../src/model/batch.js";
import type { LmConfig } from "../../src/model/config.js";
import type { FloatDType } from "../../src/model/graph/params.js";
import { sharedPrefixProgram } from "../../src/model/graph/programs.js";
import type { Weights } from "../../src/model/weights.js";
import { naiveScores, testRuntime, tinyConfig, tinyWeights } from "./tiny.js";

function randomTokens(seed: number, n: number, vocab: number): number[] {
  let s = seed;
  return Array.from({ length: n }, () => {
    s = (s * 48271) % 2147483647;
    return 3 + (s % (vocab - 3));
  });
}

async function sharedScores(
  config: LmConfig,
  weights: Weights,
  prompts: number[][],
  completions: number[][][],
  side: PaddingSide,
  dtype: FloatDType,
): Promise<{ sums: number[][]; counts: number[][] }> {
  const program = sharedPrefixProgram(config, weights, { dtype });
  const compiled = await testRuntime.compile(program.graph, program.outputs);
  const p = packPrompts(prompts, side, 0, dtype);
  const c = packCompletions(completions, p.lengths, 0, dtype);
  const { lengths: _, ...promptFeeds } = p;
  const out = await compiled.run({ ...program.model.feeds, ...promptFeeds, ...c } as Record<
    string,
    Tensor
  >);
  const N = c.completion_ids.shape[1];
  const rows = (t: Tensor) =>
    prompts.map((_, b) => Array.from((t.data as Float32Array).subarray(b * N, (b + 1) * N)));
  return { sums: rows(out.logp_sum), counts: rows(out.token_count) };
}

function makeCase(seed: number, batch: number, n: number, vocab: number) {
  const prompts = Array.from({ length: batch }, (_, b) =>
    randomTokens(seed + b, 2 + ((seed + 3 * b) % 6), vocab),
  );
  const completions = prompts.map((_, b) =>
    Array.from({ length: n }, (_, k) =>
      randomTokens(seed * 31 + b * 7 + k, 1 + ((b + k) % 4), vocab),
    ),
  );
  return { prompts, completions };
}

describe("shared-prefix scoring equals the naive computation", () => {
  const variants: [string, Partial<LmConfig>][] = [
    ["llama, GQA, tied", {}],
    [
      "qwen2-style q/k/v biases, untied head",
      { modelType: "qwen2", qkvBias: true, tieWordEmbeddings: false },
    ],
    ["MHA with o/mlp biases", { numKvHeads: 4, oBias: true, mlpBias: true }],
  ];
  for (const [label, variant] of variants) {
    for (const side of ["left", "right"] as const) {
      it(`${label}, ${side} padding, float64, N = 1…8`, async () => {
        const config = tinyConfig(variant);
        const weights = tinyWeights(config, 5);
        for (const n of [1, 3, 8]) {
          const { prompts, completions } = makeCase(11 + n, 3, n, config.vocabSize);
          const naive = await naiveScores(config, weights, prompts, completions, {
            dtype: "float64",
          });
          const shared = await sharedScores(config, weights, prompts, completions, side, "float64");
          prompts.forEach((_, b) => {
            for (let k = 0; k < n; k++) {
              assert.ok(
                Math.abs(shared.sums[b][k] - naive[b][k]) < 1e-9,
                `prompt ${b} completion ${k}: shared ${shared.sums[b][k]} naive ${naive[b][k]}`,
              );
              assert.equal(shared.counts[b][k], completions[b][k].length);
            }
          });
        }
      });
    }
  }
  it("float32 agrees to 1e-5 (relative), with prompts of different lengths and uneven N", async () => {
    const config = tinyConfig();
    const weights = tinyWeights(config, 9);
    const { prompts, completions } = makeCase(3, 4, 5, config.vocabSize);
    completions[1] = completions[1].slice(0, 2); // fewer completions: padded with empty ones
    const naive = await naiveScores(config, weights, prompts, completions);
    const shared = await sharedScores(config, weights, prompts, completions, "left", "float32");
    prompts.forEach((_, b) => {
      completions[b].forEach((_, k) => {
        const diff = Math.abs(shared.sums[b][k] - naive[b][k]);
        assert.ok(
          diff < 1e-5 * Math.max(1, Math.abs(naive[b][k])),
          `${shared.sums[b][k]} vs ${naive[b][k]}`,
        );
      });
    });
    assert.deepEqual(shared.counts[1].slice(2), [0, 0, 0]);
    assert.deepEqual(shared.sums[1].slice(2), [0, 0, 0]);
  });
});
