// Scoring benchmark: 20 candidates (~8 tokens) for prompts of ~256 tokens on the `small` preset,
// with the shared prefix (each prompt run once) and the naive way (prompt+candidate run as one
// sequence for every candidate, full logits, as the published S-DPO code does). One JSON line.

import { Runtime, type Tensor } from "../src/graph/index.js";
import { createRng } from "../src/io/rng.js";
import { packSequences } from "../src/model/batch.js";
import { forwardProgram } from "../src/model/graph/programs.js";
import { initWeights } from "../src/model/init.js";
import { LanguageModel } from "../src/model/lm.js";
import { presetConfig } from "../src/model/presets.js";

const PROMPTS = 64;
const NAIVE_PROMPTS = Number(process.env.NAIVE_PROMPTS ?? 8);
const CANDIDATES = 20;
const config = presetConfig("small", {
  vocabSize: 8192,
  bosTokenId: 1,
  eosTokenIds: [2],
  padTokenId: 0,
});
const weights = initWeights(config, 1);
const rng = createRng(7);
const token = () => 3 + Math.floor(rng.uniform() * (config.vocabSize - 3));
const prompts = Array.from({ length: PROMPTS }, () =>
  Array.from({ length: 240 + Math.floor(rng.uniform() * 32) }, token),
);
const completions = prompts.map(() =>
  Array.from({ length: CANDIDATES }, () =>
    Array.from({ length: 6 + Math.floor(rng.uniform() * 5) }, token),
  ),
);
const runtime = new Runtime();

async function shared(): Promise<{ perSecond: number; sums: number[][] }> {
  const model = new LanguageModel(config, weights, { runtime });
  await model.score(prompts.slice(0, 2), completions.slice(0, 2), { batchSize: 2 }); // compile
  const t0 = performance.now();
  const result = await model.score(prompts, completions, { batchSize: 4 });
  return { perSecond: PROMPTS / ((performance.now() - t0) / 1000), sums: result.logpSum };
}

async function naive(): Promise<{ perSecond: number; sums: number[][] }> {
  const program = forwardProgram(config, weights);
  const compiled = await runtime.compile(program.graph, { logits: program.outputs.logits });
  const V = config.vocabSize;
  const sums: number[][] = [];
  const scorePrompt = async (b: number) => {
    const sequences = completions[b].map((c) => [...prompts[b], ...c]);
    const packed = packSequences(sequences, "right", 0);
    const out = await compiled.run({
      ...program.model.feeds,
      ids: packed.ids,
      positions: packed.positions,
      mask: packed.mask,
    } as Record<string, Tensor>);
    const T = packed.ids.shape[1];
    const logits = out.logits.data as Float32Array;
    return completions[b].map((c, n) => {
      let total = 0;
      c.forEach((tok, j) => {
        const row = (n * T + prompts[b].length - 1 + j) * V;
        let max = -Infinity;
        for (let v = 0; v < V; v++) max = Math.max(max, logits[row + v]);
        let s = 0;
        for (let v = 0; v < V; v++) s += Math.exp(logits[row + v] - max);
        total += logits[row + tok] - max - Math.log(s);
      });
      return total;
    });
  };
  await scorePrompt(0); // compile and warm up
  const t0 = performance.now();
  for (let b = 0; b < NAIVE_PROMPTS; b++) sums.push(await scorePrompt(b));
  return { perSecond: NAIVE_PROMPTS / ((performance.now() - t0) / 1000), sums };
}

const s = await shared();
const n = await naive();
let maxDiff = 0;
n.sums.forEach((row, b) => {
  row.forEach((v, k) => {
    maxDiff = Math.max(maxDiff, Math.abs(v - s.sums[b][k]));
  });
});
console.log(
  JSON.stringify({
    shared_prompts_per_s: Number(s.perSecond.toFixed(2)),
    naive_prompts_per_s: Number(n.perSecond.toFixed(3)),
    speedup: Number((s.perSecond / n.perSecond).toFixed(1)),
    candidates: CANDIDATES,
    prompts: PROMPTS,
    naive_prompts: NAIVE_PROMPTS,
    max_abs_logp_diff: Number(maxDiff.toExponential(2)),
    threads: runtime.threads,
    peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
  }),
);
