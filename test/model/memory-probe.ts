// Child process of memory.test.ts: loads the random BF16 checkpoint in DIR (written by
// `probeConfig`'s shape) as stored, scores, and prints the estimate and the measured peak RSS
// above the pre-load baseline (bytes).

import { Runtime } from "../../src/graph/index.js";
import { LanguageModel } from "../../src/model/lm.js";
import { estimateMemory, peakRss } from "../../src/model/memory.js";
import { parameterCount } from "../../src/model/names.js";
import { probeConfig } from "./tiny.js";

const config = probeConfig;
const PROMPT = 64;
const CANDIDATES = 8;
const LENGTH = 6;
const dir = process.argv[2];
const before = process.memoryUsage().rss;
const lm = await LanguageModel.load(dir, {
  runtime: new Runtime({ threads: 1 }),
  weightsDtype: "stored",
});
const prompt = Array.from({ length: PROMPT }, (_, i) => 3 + ((i * 37) % 15000));
const candidates = Array.from({ length: CANDIDATES }, (_, c) =>
  Array.from({ length: LENGTH }, (_, i) => 3 + ((c * 101 + i * 7) % 15000)),
);
await lm.score([prompt], [candidates]);
const estimate = estimateMemory(config, {
  weightsBytes: parameterCount(config) * 2,
  residentGraphs: 0,
  batch: 1,
  tokens: PROMPT + CANDIDATES * LENGTH,
  predicted: CANDIDATES * LENGTH,
  training: false,
});
console.log(
  JSON.stringify({
    estimated: estimate.total - estimate.baseline,
    measured: peakRss() - before,
    weights: estimate.weights,
  }),
);
