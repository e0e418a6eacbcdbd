// The papers' model sizes: builds (once, under .tmp/big-model/) a random BF16 checkpoint of a
// public model's shape, loads it, scores 20 candidates for one ~256-token prompt and takes one
// S-DPO LoRA step (K = 3, batch 1, r 8 on all 7 projections). One JSON line per shape:
// load_s, score20_s, lora_step_s (warm runs; compile times apart) and peak_rss_gb.
//
//   node --import tsx bench/big-model.ts --shape qwen2.5-0.5b|tinyllama-1.1b|llama2-7b
//     [--weights-dtype stored|float32] [--frozen-as constant|input] [--provider cpu|cuda]
//     [--head-chunk-rows N] (0: the whole 16-bit head cast at once) [--mem-pattern on|off]
//     [--write-only]   (only (re)write the checkpoint) [--score-only] (no S-DPO step)
//     [--layers N]     (the shape cut to N layers: per-layer memory from two runs)
// Each phase's peak is also split into anonymous memory (allocations) and file pages (the
// memory-mapped weights), sampled by a worker thread: *_anon_gb, *_file_gb.
// One shape per process (peak RSS is per process); --shape all runs each in a child process.
// Measured as the `prefrec` command runs: started again with glibc's MALLOC_MMAP_THRESHOLD_ set
// (src/io/malloc-reexec.ts) unless it is set already or PREFREC_MALLOC=system; the line's
// `malloc` field says which.

import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { Runtime } from "../src/graph/index.js";
import { reexecWithMallocThreshold } from "../src/io/malloc-reexec.js";
import { createRng } from "../src/io/rng.js";
import { packCompletions, packPrompts } from "../src/model/batch.js";
import type { LmConfig } from "../src/model/config.js";
import { LanguageModel } from "../src/model/lm.js";
import { initLoraWeights } from "../src/model/lora.js";
import { estimateMemory, formatEstimate, peakRss } from "../src/model/memory.js";
import { PROJECTIONS, parameterCount } from "../src/model/names.js";
import { writeRandomCheckpoint } from "../src/model/random-checkpoint.js";
import { AdamW } from "../src/train/optim.js";
import { stepProgram } from "../src/train/program.js";
import { benchArgs, countArg } from "./args.js";
import { startRssSampler } from "./rss-sampler.js";

const base = {
  ropeScaling: { type: "default" } as const,
  qkvBias: false,
  oBias: false,
  mlpBias: false,
  bosTokenId: 1,
  eosTokenIds: [2],
  padTokenId: 0,
  initializerRange: 0.02,
  slidingWindow: null,
  extra: {},
};

/** The public configs' shapes (config.json of each model on its hub page). */
const SHAPES: Record<string, LmConfig> = {
  "qwen2.5-0.5b": {
    ...base,
    modelType: "qwen2",
    vocabSize: 151936,
    hiddenSize: 896,
    numLayers: 24,
    numHeads: 14,
    numKvHeads: 2,
    headDim: 64,
    intermediateSize: 4864,
    ropeTheta: 1000000,
    rmsNormEps: 1e-6,
    tieWordEmbeddings: true,
    qkvBias: true,
    maxPositionEmbeddings: 32768,
  },
  "tinyllama-1.1b": {
    ...base,
    modelType: "llama",
    vocabSize: 32000,
    hiddenSize: 2048,
    numLayers: 22,
    numHeads: 32,
    numKvHeads: 4,
    headDim: 64,
    intermediateSize: 5632,
    ropeTheta: 10000,
    rmsNormEps: 1e-5,
    tieWordEmbeddings: false,
    maxPositionEmbeddings: 2048,
  },
  "llama2-7b": {
    ...base,
    modelType: "llama",
    vocabSize: 32000,
    hiddenSize: 4096,
    numLayers: 32,
    numHeads: 32,
    numKvHeads: 32,
    headDim: 128,
    intermediateSize: 11008,
    ropeTheta: 10000,
    rmsNormEps: 1e-5,
    tieWordEmbeddings: false,
    maxPositionEmbeddings: 4096,
  },
};

// The child does the work; this process waits for it and exits with its code.
if (reexecWithMallocThreshold()) await new Promise(() => {});

const { values } = benchArgs({
  shape: { type: "string", default: "qwen2.5-0.5b" },
  "weights-dtype": { type: "string", default: "stored" },
  "frozen-as": { type: "string", default: "constant" },
  provider: { type: "string", default: "cpu" },
  "write-only": { type: "boolean", default: false },
  "score-only": { type: "boolean", default: false },
  layers: { type: "string" },
  "head-chunk-rows": { type: "string" },
  "mem-pattern": { type: "string", default: "on" },
});
const shape = values.shape!;

if (shape === "all") {
  for (const s of Object.keys(SHAPES)) {
    const args = process.argv
      .slice(2)
      .flatMap((a, i, all) =>
        a === "--shape" ? ["--shape", s] : all[i - 1] === "--shape" ? [] : [a],
      );
    spawnSync(process.execPath, ["--import", "tsx", process.argv[1], ...args], {
      stdio: "inherit",
    });
  }
  process.exit(0);
}

const full = SHAPES[shape];
if (!full) {
  console.error(`--shape: expected one of ${Object.keys(SHAPES).join(", ")}, all; got ${shape}`);
  process.exit(2);
}
// --layers N: the shape truncated to N layers (per-layer costs from two runs; own checkpoint).
const layers = values.layers === undefined ? full.numLayers : countArg("layers", values.layers);
const headChunkRows =
  values["head-chunk-rows"] === undefined
    ? undefined
    : countArg("head-chunk-rows", values["head-chunk-rows"], 0) || Number.POSITIVE_INFINITY;
const config: LmConfig = { ...full, numLayers: layers };
const weightsDtype = values["weights-dtype"] as "stored" | "float32";
const frozenAs = values["frozen-as"] as "constant" | "input";
const log = (m: string) => process.stderr.write(`[${shape}] ${m}\n`);
const seconds = (t0: number) => Number(((performance.now() - t0) / 1000).toFixed(2));

const dir = join(
  ".tmp",
  "big-model",
  layers === full.numLayers ? shape : `${shape}-${layers}layers`,
);
if (!existsSync(join(dir, "model.safetensors.index.json")) || values["write-only"]) {
  log(`writing a random BF16 checkpoint (${(parameterCount(config) / 1e9).toFixed(2)}B) to ${dir}`);
  const t0 = performance.now();
  await writeRandomCheckpoint(dir, config, { seed: 1 });
  log(`written in ${seconds(t0)} s`);
}
if (values["write-only"]) process.exit(0);

const PROMPT = 256;
const CANDIDATES = 20;
const K = 3;
const rng = createRng(5);
const token = () => 3 + Math.floor(rng.uniform() * (config.vocabSize - 3));
const prompt = Array.from({ length: PROMPT }, token);
const candidates = Array.from({ length: CANDIDATES }, () =>
  Array.from({ length: 6 + Math.floor(rng.uniform() * 5) }, token),
);
// The larger of the two phases' estimates: scoring 20 answers, the step's 1 + K (~10 tokens).
const [scoreEstimate, stepEstimate] = [false, true].map((training) => {
  const answers = training ? 1 + K : CANDIDATES;
  return estimateMemory(config, {
    weightsBytes: parameterCount(config) * (weightsDtype === "stored" ? 2 : 4),
    // Stored weights are memory-mapped from the checkpoint (no copy per graph); float32 ones held
    // as constants are copied into the one live graph.
    residentGraphs: weightsDtype === "float32" && frozenAs === "constant" ? 1 : 0,
    lora: training ? { r: 8, targets: PROJECTIONS } : undefined,
    batch: 1,
    tokens: PROMPT + answers * 10,
    predicted: answers * 10,
    training,
  });
});
const estimate = stepEstimate.total > scoreEstimate.total ? stepEstimate : scoreEstimate;
log(`estimated peak ${formatEstimate(estimate)}`);

const runtime = new Runtime({
  provider: values.provider as "cpu" | "cuda",
  memoryPattern: values["mem-pattern"] !== "off",
});
const sampler = startRssSampler();
/** glibc malloc settings and tunables from the environment (they change how much freed memory is
 *  returned). */
function mallocEnv(): string {
  return Object.entries(process.env)
    .filter(([k]) => k.startsWith("MALLOC_") || k === "GLIBC_TUNABLES")
    .map(([k, v]) => `${k}=${v}`)
    .join(" ");
}
const gb = (bytes: number) => Number((bytes / 2 ** 30).toFixed(2));
/** The phase's peak split into allocations and mapped-file pages; resets for the next phase. */
const phasePeaks = (phase: string) => {
  const p = sampler.read();
  sampler.reset();
  return {
    [`${phase}_peak_sampled_gb`]: gb(p.total),
    [`${phase}_anon_gb`]: gb(p.atPeakAnon),
    [`${phase}_file_gb`]: gb(p.atPeakFile),
  };
};
let t0 = performance.now();
const lm = await LanguageModel.load(dir, { runtime, weightsDtype });
const load_s = seconds(t0);
log(`loaded in ${load_s} s; peak RSS ${(peakRss() / 2 ** 30).toFixed(2)} GiB`);
const model = new LanguageModel(lm.config, lm.weights, {
  runtime,
  weightsAs: frozenAs,
  headChunkRows,
});
phasePeaks("load");

t0 = performance.now();
await model.score([prompt.slice(0, 4)], [[candidates[0]]]); // compile
const score_compile_s = seconds(t0);
t0 = performance.now();
const scored = await model.score([prompt], [candidates]);
const score20_s = seconds(t0);
if (!scored.logpSum[0].every(Number.isFinite)) throw new Error("scores are not finite");
const score_peak_rss_gb = Number((peakRss() / 2 ** 30).toFixed(2));
const scorePeaks = phasePeaks("score");
log(
  `scored 20 in ${score20_s} s (compile ${score_compile_s} s); peak RSS ${score_peak_rss_gb} GiB`,
);
// One live graph holding the weights at a time.
await model.releasePrograms?.();
if (values["score-only"]) {
  console.log(
    JSON.stringify({ shape, score20_s, score_peak_rss_gb, ...scorePeaks, malloc: mallocEnv() }),
  );
  await runtime.dispose();
  await sampler.stop();
  process.exit(0);
}

const lora = initLoraWeights(config, PROJECTIONS, 8, 7);
const step = stepProgram(
  config,
  lm.weights,
  { type: "sdpo", beta: 1, negatives: K },
  { trainable: "lora", frozenAs, lora: { weights: lora, scaling: 16 / 8 }, headChunkRows },
);
t0 = performance.now();
const compiled = await runtime.compile(step.graph, step.outputs);
const step_compile_s = seconds(t0);
const params = new Map(
  [...step.model.trainable.keys()].map((n) => [n, step.model.feeds[n] as Float32Array]),
);
const optimizer = new AdamW(params, { lr: 1e-4, weightDecay: 0 });
const { lengths, ...packed } = packPrompts([prompt], "left", 0);
t0 = performance.now();
const out = await compiled.run({
  ...step.model.feeds,
  ...packed,
  ...packCompletions([candidates.slice(0, 1 + K)], lengths, 0),
  reference_logp: { data: new Float32Array(1 + K).fill(-40), shape: [1, 1 + K] },
});
optimizer.update(
  Object.fromEntries([...step.gradientNames].map(([n, g]) => [n, out[g].data as Float32Array])),
);
const lora_step_s = seconds(t0);
const loss = (out.loss.data as Float32Array)[0];
if (!Number.isFinite(loss)) throw new Error("loss is not finite");
log(`S-DPO step in ${lora_step_s} s (compile ${step_compile_s} s), loss ${loss.toFixed(4)}`);

console.log(
  JSON.stringify({
    shape,
    layers,
    params_b: Number((parameterCount(config) / 1e9).toFixed(3)),
    weights_dtype: weightsDtype,
    frozen_as: frozenAs,
    provider: runtime.provider,
    load_s,
    score20_s,
    score_compile_s,
    lora_step_s,
    score_peak_rss_gb,
    step_compile_s,
    peak_rss_gb: Number((peakRss() / 2 ** 30).toFixed(2)),
    estimated_gb: gb(estimate.total),
    estimated_score_gb: gb(scoreEstimate.total),
    head_chunk_rows: headChunkRows ?? "default",
    mem_pattern: values["mem-pattern"],
    malloc: mallocEnv(),
    ...scorePeaks,
    ...phasePeaks("step"),
  }),
);
await runtime.dispose();
await sampler.stop();
