// S-DPO training-step benchmark: ms per example for K = 1, 3, 7, 15 negatives with the shared
// prefix (prompt once, reference log-probs cached), and for K = 3 the published method (1+K full
// prompt+answer sequences through the policy, and again through the reference, every step).
// LLaMA: vocab 8000, hidden 256, 4 layers, 4 heads (4 kv), intermediate 688, untied; LoRA r 8,
// alpha 32 on q,k,v,o,gate,up,down; prompts 256 tokens, answers 8, batch 4. One JSON line.
// `--threads N`; `--profile` adds ONNX Runtime's per-node profile and the step's JS phases for
// the shared-prefix step at K = 3 and the published method (docs/performance.md).

import {
  and,
  causalMask,
  crossEntropy,
  Graph,
  grad,
  greater,
  mul,
  neg,
  Runtime,
  reduceLogSumExp,
  reduceSum,
  reshape,
  slice,
  softplus,
  sub,
  type Tensor,
  type Value,
  where,
} from "../src/graph/index.js";
import { createRng } from "../src/io/rng.js";
import { packCompletions, packPrompts, packSequences } from "../src/model/batch.js";
import type { LmConfig } from "../src/model/config.js";
import { attend, decoderStack, embed, lmHead, MASKED, scores } from "../src/model/graph/decoder.js";
import { bindModel } from "../src/model/graph/params.js";
import { initWeights } from "../src/model/init.js";
import { initLoraWeights } from "../src/model/lora.js";
import { PROJECTIONS } from "../src/model/names.js";
import { AdamW } from "../src/train/optim.js";
import { stepProgram } from "../src/train/program.js";
import { benchFlags, graphProfile, PhaseClock, perStep } from "./profile.js";

const B = 4;
const TP = 256;
const TC = 8;
const config: LmConfig = {
  modelType: "llama",
  vocabSize: 8000,
  hiddenSize: 256,
  numLayers: 4,
  numHeads: 4,
  numKvHeads: 4,
  headDim: 64,
  intermediateSize: 688,
  ropeTheta: 10000,
  ropeScaling: { type: "default" },
  rmsNormEps: 1e-5,
  tieWordEmbeddings: false,
  qkvBias: false,
  oBias: false,
  mlpBias: false,
  maxPositionEmbeddings: 2048,
  bosTokenId: 1,
  eosTokenIds: [2],
  padTokenId: 0,
  initializerRange: 0.02,
  slidingWindow: null,
  extra: {},
};
const weights = initWeights(config, 1);
const flags = benchFlags("train-step");
const runtime = new Runtime(flags.runtime);
/** Profiles of the K = 3 steps (with --profile). */
const profiles: Record<string, unknown> = {};
/** CPU time (all threads) per example of the shared-prefix step, by K: less sensitive than wall
 *  time to other processes on the machine. */
const cpuMsPerExample: Record<number, number> = {};
const rng = createRng(3);
const token = () => 3 + rng.int(config.vocabSize - 3);
const prompts = Array.from({ length: B }, () => Array.from({ length: TP }, token));
const answersFor = (k: number) =>
  prompts.map(() => Array.from({ length: 1 + k }, () => Array.from({ length: TC }, token)));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const STEPS = Number(process.env.STEPS ?? 5);

function freshLora() {
  const lora = initLoraWeights(config, PROJECTIONS, 8, 7);
  for (const p of lora.values())
    for (let i = 0; i < p.B.data.length; i++) p.B.data[i] = (rng.uniform() - 0.5) * 0.01;
  return { weights: lora, scaling: 32 / 8 };
}

async function sharedStepMs(k: number): Promise<number> {
  const lora = freshLora();
  const clock = new PhaseClock();
  const program = await clock.time("build_graph", () =>
    stepProgram(
      config,
      weights,
      { type: "sdpo", beta: 1, negatives: k },
      { trainable: "lora", frozenAs: "input", lora },
    ),
  );
  const compiled = await clock.time("compile", () =>
    runtime.compile(program.graph, program.outputs),
  );
  // A second compile of the same graph: serialization and hashing, then the session cache.
  await clock.time("compile_cached", () => runtime.compile(program.graph, program.outputs));
  const setup = { ...clock.ms };
  const params = new Map(
    [...program.model.trainable.keys()].map((n) => [n, program.model.feeds[n] as Float32Array]),
  );
  const optimizer = new AdamW(params, { lr: 1e-4, weightDecay: 0 });
  const { lengths, ...p } = packPrompts(prompts, "left", 0);
  const feeds = {
    ...program.model.feeds,
    ...p,
    ...packCompletions(answersFor(k), lengths, 0),
    reference_logp: { data: new Float32Array(B * (1 + k)).fill(-40), shape: [B, 1 + k] },
  };
  const times: number[] = [];
  const cpuTimes: number[] = [];
  for (let s = 0; s < STEPS + 1; s++) {
    if (s === 1) {
      clock.reset();
      compiled.resetTiming();
    }
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    const out = await clock.time("run", () => compiled.run(feeds));
    const grads = await clock.time("gather_grads", () =>
      Object.fromEntries(
        [...program.gradientNames].map(([n, g]) => [n, out[g].data as Float32Array]),
      ),
    );
    await clock.time("adamw", () => optimizer.update(grads));
    if (s > 0) {
      times.push(performance.now() - t0);
      const cpu = process.cpuUsage(c0);
      cpuTimes.push((cpu.user + cpu.system) / 1000);
    }
  }
  cpuMsPerExample[k] = median(cpuTimes) / B;
  if (flags.profile && k === 3) {
    profiles.shared_k3 = {
      trainable_values: [...params.values()].reduce((n, p) => n + p.length, 0),
      setup_ms: perStep(setup, 1),
      step_mean_ms: Number((times.reduce((a, b) => a + b, 0) / STEPS).toFixed(2)),
      phases: perStep(clock.ms, STEPS),
      graph: graphProfile(compiled, 1, config.vocabSize),
    };
  }
  // A trainer holds one step graph: release this K's session (and its memory arena) before the
  // next K's, so that peak RSS is that of one training step, not of four held side by side.
  await runtime.release(compiled);
  return median(times) / B;
}

/** Summed answer log-probs of full sequences [S, T] (answer tokens marked by `answer_mask`). */
function sequenceLogps(m: ReturnType<typeof bindModel>, g: Graph, S: number): Value {
  const ids = g.inputs.find((i) => i.name === "ids")!.value;
  const positions = g.inputs.find((i) => i.name === "positions")!.value;
  const mask = g.inputs.find((i) => i.name === "mask")!.value;
  const answerMask = g.inputs.find((i) => i.name === "answer_mask")!.value;
  const keyValid = reshape(greater(mask, 0.5), [S, 1, 1, 1, "T"]);
  const bias = where(and(causalMask(g, "T"), keyValid), g.constant(0, [], "float32"), MASKED);
  const { hidden } = decoderStack(m, embed(m, ids), positions, ({ q, k, v }) =>
    attend(scores(q, k, config.headDim), bias, v),
  );
  const logits = lmHead(m, slice(hidden, 1, 0, "T-1")); // position t predicts token t+1
  const targets = slice(ids, 1, 1, "T");
  const isAnswer = greater(slice(answerMask, 1, 1, "T"), 0.5);
  const logp = neg(crossEntropy(logits, where(isAnswer, targets, g.constant(-100, [], "int64"))));
  return reduceSum(logp, [1]); // [S]
}

/** The published S-DPO step: policy forward+backward and reference forward on 1+K full sequences. */
async function naiveStepMs(k: number): Promise<number> {
  const lora = freshLora();
  const build = (withLora: boolean) => {
    const g = new Graph(withLora ? "naive_policy" : "naive_reference");
    const S = (1 + k) * B;
    g.input("ids", "int64", [S, "T"]);
    g.input("positions", "int64", [S, "T"]);
    g.input("mask", "float32", [S, "T"]);
    g.input("answer_mask", "float32", [S, "T"]);
    const m = bindModel(
      g,
      config,
      weights,
      withLora ? { trainable: "lora", frozenAs: "input", lora } : { frozenAs: "input" },
    );
    return { g, m, logps: sequenceLogps(m, g, S) };
  };
  const policy = build(true);
  const reference = build(false);
  // Rows are ordered chosen block, then rejected_1, … (as concatenated_forward): [1+K, B].
  const refInput = policy.g.input("reference_logps", "float32", [(1 + k) * B]);
  const r = reshape(sub(policy.logps, refInput), [1 + k, B]);
  const chosen = reshape(slice(r, 0, 0, 1), [1, B]);
  const rejected = slice(r, 0, 1, 1 + k);
  const loss = reduceSum(softplus(reduceLogSumExp(sub(rejected, chosen), [0])));
  const names = [...policy.m.trainable.keys()];
  const grads = grad(mul(loss, 1 / B), [...policy.m.trainable.values()]);
  const outputs: Record<string, Value> = { loss };
  for (const [i, n] of names.entries()) outputs[`grad:${n}`] = grads[i];
  const clock = new PhaseClock();
  const policyStep = await clock.time("compile_policy", () => runtime.compile(policy.g, outputs));
  const referenceForward = await clock.time("compile_reference", () =>
    runtime.compile(reference.g, { logps: reference.logps }),
  );
  const setup = { ...clock.ms };
  const sequences: number[][] = [];
  const all = answersFor(k);
  for (let j = 0; j <= k; j++)
    for (let b = 0; b < B; b++) sequences.push([...prompts[b], ...all[b][j]]);
  const packed = packSequences(sequences, "right", 0);
  const answerMask = new Float32Array(packed.mask.data.length);
  const T = packed.ids.shape[1];
  sequences.forEach((_, s) => {
    for (let t = TP; t < TP + TC; t++) answerMask[s * T + t] = 1;
  });
  const seqFeeds = {
    ids: packed.ids,
    positions: packed.positions,
    mask: packed.mask,
    answer_mask: { data: answerMask, shape: [sequences.length, T] } as Tensor,
  };
  const params = new Map(names.map((n) => [n, policy.m.feeds[n] as Float32Array]));
  const optimizer = new AdamW(params, { lr: 1e-4, weightDecay: 0 });
  const times: number[] = [];
  for (let s = 0; s < STEPS + 1; s++) {
    if (s === 1) {
      clock.reset();
      policyStep.resetTiming();
      referenceForward.resetTiming();
    }
    const t0 = performance.now();
    const ref = await clock.time("run_reference", () =>
      referenceForward.run({ ...reference.m.feeds, ...seqFeeds }),
    );
    const out = await clock.time("run_policy", () =>
      policyStep.run({
        ...policy.m.feeds,
        ...seqFeeds,
        reference_logps: { data: ref.logps.data, shape: [sequences.length] },
      }),
    );
    const grads = await clock.time("gather_grads", () =>
      Object.fromEntries(names.map((n) => [n, out[`grad:${n}`].data as Float32Array])),
    );
    await clock.time("adamw", () => optimizer.update(grads));
    if (s > 0) times.push(performance.now() - t0);
  }
  if (flags.profile) {
    profiles.published_k3 = {
      setup_ms: perStep(setup, 1),
      step_mean_ms: Number((times.reduce((a, b) => a + b, 0) / STEPS).toFixed(2)),
      phases: perStep(clock.ms, STEPS),
      policy_graph: graphProfile(policyStep, 1, config.vocabSize),
      reference_graph: graphProfile(referenceForward, 1, config.vocabSize),
    };
  }
  return median(times) / B;
}

// KS=1,3 limits the shared-prefix runs and NAIVE=0 skips the published method (quick A/B runs).
const KS = (process.env.KS ?? "1,3,7,15").split(",").map(Number);
const result: Record<string, number> = {};
await sharedStepMs(1); // warm-up: the first graph of a process also pays ONNX Runtime's start-up
for (const k of KS) {
  result[`ms_per_example_k${k}`] = Number((await sharedStepMs(k)).toFixed(1));
  result[`cpu_ms_per_example_k${k}`] = Number(cpuMsPerExample[k].toFixed(1));
}
if (KS.includes(1) && KS.includes(15))
  result.ratio_k15_k1 = Number((result.ms_per_example_k15 / result.ms_per_example_k1).toFixed(2));
if (process.env.NAIVE !== "0" && KS.includes(3)) {
  result.naive_ms_per_example_k3 = Number((await naiveStepMs(3)).toFixed(1));
  result.speedup_vs_published_k3 = Number(
    (result.naive_ms_per_example_k3 / result.ms_per_example_k3).toFixed(1),
  );
}
result.threads = runtime.threads;
result.peak_rss_mb = Math.round(process.resourceUsage().maxRSS / 1024);
console.log(JSON.stringify(flags.profile ? { ...result, profile: profiles } : result));
