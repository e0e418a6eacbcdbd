// The memory estimate against a measured peak (child process, so the peak is the run's own),
// and the parts of the estimate against hand counts.

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import {
  checkFits,
  estimateMemory,
  InsufficientMemoryError,
  loraParameterCount,
} from "../../src/model/memory.js";
import { PROJECTIONS, parameterCount } from "../../src/model/names.js";
import { writeRandomCheckpoint } from "../../src/model/random-checkpoint.js";
import { tempDir } from "../io/helpers.js";
import { probeConfig, tinyConfig } from "./tiny.js";

/** Stated tolerance: the measured peak above the pre-load RSS is within 30% of the estimate. */
const TOLERANCE = 0.3;

test("the estimated peak of scoring a 67M BF16 model is within 30% of the measured one", async (t) => {
  const dir = await tempDir(t);
  await writeRandomCheckpoint(dir, probeConfig, { shardBytes: 64 << 20 });
  const probe = fileURLToPath(new URL("./memory-probe.ts", import.meta.url));
  const out = execFileSync(process.execPath, ["--import", "tsx", probe, dir], {
    encoding: "utf8",
  });
  const { estimated, measured, weights } = JSON.parse(out.trim().split("\n").at(-1)!);
  assert.equal(weights, parameterCount(probeConfig) * 2);
  // The mapped weights are really read (counted in RSS) …
  assert.ok(measured >= 0.9 * weights, `measured ${measured} < weights ${weights}`);
  // … and the whole estimate holds within the stated tolerance.
  assert.ok(
    Math.abs(measured - estimated) <= TOLERANCE * estimated,
    `measured ${measured}, estimated ${estimated}`,
  );
});

test("estimate parts: LoRA + AdamW is 16 bytes per LoRA parameter; graphs hold resident copies", () => {
  const config = tinyConfig(); // hidden 16, kv 2×4, intermediate 24, 2 layers
  // q (16→16), k (16→8), v (16→8), o (16→16), gate/up (16→24), down (24→16), r = 2.
  const perLayer = 2 * (32 + 24 + 24 + 32 + 40 + 40 + 40);
  assert.equal(loraParameterCount(config, 2, PROJECTIONS), 2 * perLayer);
  const plan = { weightsBytes: 1000, batch: 1, tokens: 4, training: false };
  const e = estimateMemory(config, {
    ...plan,
    residentGraphs: 2,
    lora: { r: 2, targets: PROJECTIONS },
  });
  assert.equal(e.weights, 1000);
  assert.equal(e.resident, 2000);
  assert.equal(e.loraOptimizer, 2 * perLayer * 16);
  // Trained item token rows (PEFT trainable tokens): 16 bytes per value, in the embedding and,
  // untied, the LM head too.
  const withRows = (tie: boolean) =>
    estimateMemory(tinyConfig({ tieWordEmbeddings: tie }), {
      ...plan,
      lora: { r: 2, targets: PROJECTIONS, tokenRows: 5 },
    }).loraOptimizer;
  assert.equal(withRows(true) - e.loraOptimizer, 5 * 16 * 16);
  assert.equal(withRows(false) - e.loraOptimizer, 2 * 5 * 16 * 16);
  assert.equal(e.total, e.weights + e.resident + e.loraOptimizer + e.activations + e.baseline);
  // Training keeps every layer's activations: more than scoring.
  assert.ok(estimateMemory(config, { ...plan, training: true }).activations > e.activations);
  // Attention probabilities are recomputed in the backward pass: more heads (same weights) add
  // one layer's scores and probabilities, training or not — not one set per layer.
  const moreHeads = { ...config, numHeads: 8, numKvHeads: 4, headDim: 2 };
  const extra = (training: boolean) =>
    estimateMemory(moreHeads, { ...plan, training }).activations -
    estimateMemory(config, { ...plan, training }).activations;
  assert.equal(extra(true), extra(false));
  assert.equal(extra(false), 4 * 4 * 4 * 4 * 2); // 4 more heads × T² × 4 bytes × 2
  // Training on float32 weights keeps them per layer as well.
  const kept =
    estimateMemory(moreHeads, { ...plan, training: true, attentionKept: true }).activations -
    estimateMemory(config, { ...plan, training: true, attentionKept: true }).activations;
  assert.equal(kept, 4 * 4 * 4 * 4 * (2 + config.numLayers));
});

test("a run that cannot fit is refused with the sizes, before anything is allocated", () => {
  assert.throws(
    () => checkFits("model: scoring", 20 * 2 ** 30, "try --weights-dtype stored", 16 * 2 ** 30),
    (e: Error) =>
      e instanceof InsufficientMemoryError &&
      e.message ===
        "model: scoring: needs about 20.00 GiB of memory, 16.00 GiB available; try --weights-dtype stored",
  );
  checkFits("model: scoring", 2 ** 30, "", 2 ** 31);
});
