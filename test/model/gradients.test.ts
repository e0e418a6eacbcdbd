// Gradients of the shared-prefix log-probs w.r.t. LoRA factors and (full mode) every weight,
// against central finite differences in float64.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { grad, mul, reduceSum, type Tensor, type Value } from "../../src/graph/index.js";
import { packCompletions, packPrompts } from "../../src/model/batch.js";
import type { BindOptions } from "../../src/model/graph/params.js";
import { sharedPrefixProgram } from "../../src/model/graph/programs.js";
import { initLoraWeights } from "../../src/model/lora.js";
import { PROJECTIONS } from "../../src/model/names.js";
import { testRuntime, tinyConfig, tinyWeights } from "./tiny.js";

async function checkGradients(options: BindOptions, samplesPerTensor: number): Promise<number> {
  const config = tinyConfig({ qkvBias: true, tieWordEmbeddings: false });
  const weights = tinyWeights(config, 3);
  const program = sharedPrefixProgram(config, weights, { ...options, dtype: "float64" });
  const g = program.graph;
  // A loss that weights each completion differently, like a preference objective would.
  const coefficients = g.input("coefficients", "float64", ["B", "N"]);
  const loss = reduceSum(mul(program.outputs.logp_sum, coefficients));
  const names = [...program.model.trainable.keys()];
  const grads = grad(loss, [...program.model.trainable.values()]);
  const outputs: Record<string, Value> = { loss };
  names.forEach((n, i) => {
    outputs[`grad:${n}`] = grads[i];
  });
  const withGrads = await testRuntime.compile(g, outputs);
  const lossOnly = await testRuntime.compile(g, { loss });
  const prompts = [
    [5, 6, 7, 8],
    [9, 10],
  ];
  const completions = [
    [[11, 12], [13], [14, 15, 16]],
    [[17], [18, 19], [20]],
  ];
  const p = packPrompts(prompts, "left", 0, "float64");
  const { lengths: _, ...promptFeeds } = p;
  const feeds = {
    ...program.model.feeds,
    ...promptFeeds,
    ...packCompletions(completions, p.lengths, 0, "float64"),
    coefficients: { data: new Float64Array([1, -0.5, 0.25, 2, -1, 0.75]), shape: [2, 3] },
  } as Record<string, Tensor | Float64Array>;
  const result = await withGrads.run(feeds);
  let checked = 0;
  for (const name of names) {
    const x = program.model.feeds[name] as Float64Array;
    const analytic = result[`grad:${name}`].data as Float64Array;
    for (let s = 0; s < samplesPerTensor; s++) {
      const j = Math.floor(((s + 0.5) / samplesPerTensor) * x.length);
      const saved = x[j];
      const eps = 1e-6;
      x[j] = saved + eps;
      const plus = (await lossOnly.run(feeds)).loss.data[0] as number;
      x[j] = saved - eps;
      const minus = (await lossOnly.run(feeds)).loss.data[0] as number;
      x[j] = saved;
      const numeric = (plus - minus) / (2 * eps);
      assert.ok(
        Math.abs(analytic[j] - numeric) <= 1e-6 + 1e-5 * Math.abs(numeric),
        `d loss / d ${name}[${j}]: autodiff ${analytic[j]}, finite differences ${numeric}`,
      );
      checked++;
    }
  }
  return checked;
}

describe("gradients of shared-prefix log-probs", () => {
  it("w.r.t. LoRA A and B on every projection", async () => {
    const config = tinyConfig({ qkvBias: true, tieWordEmbeddings: false });
    const lora = initLoraWeights(config, PROJECTIONS, 2, 4);
    // PEFT starts B at 0, which makes dA vanish; give B values so both factors are exercised.
    let s = 17;
    for (const pair of lora.values()) {
      for (let i = 0; i < pair.B.data.length; i++) {
        s = (s * 48271) % 2147483647;
        pair.B.data[i] = (s / 2147483647 - 0.5) * 0.4;
      }
    }
    const checked = await checkGradients(
      { trainable: "lora", lora: { weights: lora, scaling: 1.5 } },
      4,
    );
    assert.equal(checked, 2 * 7 * 2 * 4);
  });
  it("w.r.t. every weight in full fine-tuning", async () => {
    const checked = await checkGradients({ trainable: "full" }, 3);
    assert.ok(checked >= 3 * 20, `checked ${checked}`);
  });
});
