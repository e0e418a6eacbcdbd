// The training-step program of every objective: gradients through the tiny LM (LoRA factors)
// against finite differences, in float64.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Tensor } from "../../src/graph/index.js";
import { packCompletions, packPrompts } from "../../src/model/batch.js";
import { initLoraWeights } from "../../src/model/lora.js";
import { PROJECTIONS } from "../../src/model/names.js";
import type { Objective } from "../../src/objectives/index.js";
import { stepProgram } from "../../src/train/program.js";
import { promptLossFeeds, promptLossTargets } from "../../src/train/prompt-loss.js";
import { testRuntime, tinyConfig, tinyWeights } from "../model/tiny.js";

const config = tinyConfig();
const weights = tinyWeights(config, 4);
const prompts = [
  [5, 6, 7, 8, 9],
  [10, 11, 3],
];
const answers = [
  [
    [12, 2],
    [13, 14, 2],
    [15, 2],
    [16, 17, 18, 2],
  ],
  [
    [19, 20, 2],
    [21, 2],
    [22, 23, 2],
    [24, 2],
  ],
];

describe("step program gradients vs finite differences", () => {
  const objectives: Objective[] = [
    { type: "sft" },
    { type: "sft", promptLoss: "all" },
    { type: "dpo", beta: 0.5 },
    { type: "sdpo", beta: 1, negatives: 3 },
    { type: "recpo", beta: 1, negatives: 3, lambda: 0.5 },
    { type: "simpo", beta: 2, gamma: 0.5 },
    { type: "dmpo", beta: 1, negatives: 2 },
    { type: "ipo", tau: 0.5 },
  ];
  const dropoutCases: Objective[] = [{ type: "sdpo", beta: 1, negatives: 3 }];
  // [objective, LoRA dropout, hidden dropout]
  const cases: [Objective, number, number][] = [
    ...objectives.map((o): [Objective, number, number] => [o, 0, 0]),
    ...dropoutCases.map((o): [Objective, number, number] => [o, 0.3, 0]),
    [{ type: "sft", promptLoss: "all" }, 0, 0.25],
    [{ type: "sdpo", beta: 1, negatives: 3 }, 0.3, 0.25],
  ];
  for (const [objective, dropout, hiddenDropout] of cases) {
    it(`${objective.type}${"promptLoss" in objective ? ` promptLoss ${objective.promptLoss}` : ""}${dropout ? ` with LoRA dropout ${dropout}` : ""}${hiddenDropout ? ` with hidden dropout ${hiddenDropout}, attention recomputed` : ""}`, async () => {
      const lora = initLoraWeights(config, PROJECTIONS, 2, 9);
      let s = 5;
      for (const pair of lora.values()) {
        for (let i = 0; i < pair.B.data.length; i++) {
          s = (s * 48271) % 2147483647;
          pair.B.data[i] = (s / 2147483647 - 0.5) * 0.5;
        }
      }
      const program = stepProgram(config, weights, objective, {
        dtype: "float64",
        trainable: "lora",
        lora: { weights: lora, scaling: 2, dropout },
        hiddenDropout,
        // The 16-bit path's attention recomputation, checked here on float64 weights too.
        recomputeAttention: hiddenDropout > 0,
      });
      const withGrads = await testRuntime.compile(program.graph, program.outputs);
      const lossOnly = await testRuntime.compile(program.graph, { loss: program.outputs.loss });
      const N = objective.type === "sft" ? 1 : 4;
      const p = packPrompts(prompts, "left", 0, "float64");
      const { lengths, ...promptFeeds } = p;
      const feeds: Record<string, Tensor | Float64Array> = {
        ...(program.model.feeds as Record<string, Float64Array>),
        ...promptFeeds,
        ...packCompletions(
          answers.map((a) => a.slice(0, N)),
          lengths,
          0,
          "float64",
        ),
      };
      if (objective.type !== "sft" && objective.type !== "simpo") {
        const ref = [-4, -6, -3.5, -8, -5, -2.5, -7, -3];
        feeds.reference_logp = { data: Float64Array.from(ref.slice(0, 2 * N)), shape: [2, N] };
      }
      if (objective.type === "sft" && objective.promptLoss) {
        const f = promptLossFeeds(
          prompts,
          prompts.map((q) => promptLossTargets(q, "all", null, 0)),
        );
        feeds.prompt_loss_index = f.index;
        feeds.prompt_loss_target = f.target;
        feeds.prompt_loss_owner = { data: Float64Array.from(f.owner.data), shape: f.owner.shape };
      }
      if (dropout > 0 || hiddenDropout > 0)
        feeds.dropout_seed = { data: new BigInt64Array([77n]), shape: [] };
      if (objective.type === "recpo") {
        feeds.margins = {
          data: Float64Array.from([0, 1.5, 0.2, 3, 0, 0.7, 2.2, 0.1]),
          shape: [2, N],
        };
      }
      const out = await withGrads.run(feeds);
      if (hiddenDropout > 0) {
        // The masks change the loss, and a fed seed reproduces it exactly.
        const noDrop = stepProgram(config, weights, objective, {
          dtype: "float64",
          trainable: "lora",
          lora: { weights: lora, scaling: 2, dropout },
        });
        const plain = await testRuntime.compile(noDrop.graph, { loss: noDrop.outputs.loss });
        const loss = out.loss.data[0] as number;
        const { dropout_seed, ...unseeded } = feeds;
        assert.notEqual((await plain.run(dropout > 0 ? feeds : unseeded)).loss.data[0], loss);
        assert.equal((await lossOnly.run(feeds)).loss.data[0], loss);
        feeds.dropout_seed = { data: new BigInt64Array([78n]), shape: [] };
        assert.notEqual((await lossOnly.run(feeds)).loss.data[0], loss);
        feeds.dropout_seed = { data: new BigInt64Array([77n]), shape: [] };
      }
      let checked = 0;
      for (const [name, gradName] of program.gradientNames) {
        const x = feeds[name] as Float64Array;
        const g = out[gradName].data as Float64Array;
        for (const j of [0, Math.floor(x.length / 2), x.length - 1]) {
          const saved = x[j];
          x[j] = saved + 1e-6;
          const plus = (await lossOnly.run(feeds)).loss.data[0] as number;
          x[j] = saved - 1e-6;
          const minus = (await lossOnly.run(feeds)).loss.data[0] as number;
          x[j] = saved;
          const numeric = (plus - minus) / 2e-6;
          assert.ok(
            Math.abs(g[j] - numeric) <= 1e-6 + 1e-5 * Math.abs(numeric),
            `${objective.type} d/d${name}[${j}]: ${g[j]} vs ${numeric}`,
          );
          checked++;
        }
      }
      assert.equal(checked, 2 * 7 * 2 * 3);
    });
  }
});
