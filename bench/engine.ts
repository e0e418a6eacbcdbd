// Engine benchmark: (a) float32 1024³ matmul through the engine, (b) a GPT-2-style training step
// (forward + backward + AdamW). Prints one JSON line. `--threads N`; `--profile` adds ONNX
// Runtime's per-node profile and the JS phases of the step (docs/performance.md).

import { Graph, matmul, Runtime } from "../src/graph/index.js";
import { createRng } from "../src/io/rng.js";
import { AdamW } from "../src/train/optim.js";
import { buildGptTrainingGraph, type GptConfig, gptParameterShapes } from "./gpt.js";
import { benchFlags, graphProfile, PhaseClock, perStep } from "./profile.js";

function rng(seed: number): () => number {
  const stream = createRng(seed);
  return () => stream.uniform();
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const flags = benchFlags("engine");
const runtime = new Runtime(flags.runtime);
const WARMUP = 2; // steps not timed (and not profiled)

async function matmulGflops(n = 1024, repeats = 20): Promise<number> {
  const g = new Graph("matmul");
  const a = g.input("a", "float32", [n, n]);
  const b = g.input("b", "float32", [n, n]);
  const compiled = await runtime.compile(g, { c: matmul(a, b) });
  const rand = rng(1);
  const feeds = {
    a: Float32Array.from({ length: n * n }, rand),
    b: Float32Array.from({ length: n * n }, rand),
  };
  await compiled.run(feeds);
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t0 = performance.now();
    await compiled.run(feeds);
    times.push(performance.now() - t0);
  }
  return (2 * n ** 3) / (median(times) / 1000) / 1e9;
}

async function gptStepMs(
  config: GptConfig,
  steps = 20,
): Promise<{ ms: number; cpuMs: number; losses: number[]; profile?: Record<string, unknown> }> {
  const clock = new PhaseClock();
  const { graph, loss, grads } = await clock.time("build_graph", () =>
    buildGptTrainingGraph(config),
  );
  const compiled = await clock.time("compile", () => runtime.compile(graph, { loss, ...grads }));
  // A second compile of the same graph: serialization and hashing, then the session cache.
  await clock.time("compile_cached", () => runtime.compile(graph, { loss, ...grads }));
  const setup = { ...clock.ms };
  clock.reset();
  const rand = rng(2);
  const params = new Map<string, Float32Array>();
  for (const [name, shape] of gptParameterShapes(config)) {
    const size = shape.reduce((a, b) => a * b, 1);
    const isGain = name.endsWith(".g");
    const isBias = name.endsWith(".b");
    params.set(
      name,
      Float32Array.from({ length: size }, () =>
        isGain ? 1 : isBias ? 0 : (rand() * 2 - 1) * 0.02 * Math.sqrt(3),
      ),
    );
  }
  const tokenCount = config.batch * config.seq;
  const tokens = BigInt64Array.from({ length: tokenCount }, () =>
    BigInt(Math.floor(rand() * config.vocab)),
  );
  const targets = BigInt64Array.from({ length: tokenCount }, (_, i) =>
    i % config.seq === config.seq - 1 ? BigInt(Math.floor(rand() * config.vocab)) : tokens[i + 1],
  );
  const optimizer = new AdamW(params, { lr: 3e-3, weightDecay: 0 });
  const times: number[] = [];
  // CPU time (all threads) per step: less sensitive than wall time to other processes.
  const cpuTimes: number[] = [];
  const losses: number[] = [];
  for (let step = 1; step <= steps; step++) {
    if (step === WARMUP + 1) {
      clock.reset();
      compiled.resetTiming();
    }
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    const feeds = await clock.time("build_feeds", () => ({
      ...Object.fromEntries(params),
      tokens,
      targets,
    }));
    const out = await clock.time("run", () => compiled.run(feeds));
    const g = await clock.time("gather_grads", () => {
      const g: Record<string, Float32Array> = {};
      for (const name of params.keys()) g[name] = out[`grad.${name}`].data as Float32Array;
      return g;
    });
    await clock.time("adamw", () => optimizer.update(g));
    const ms = performance.now() - t0;
    const cpu = process.cpuUsage(c0);
    losses.push(out.loss.data[0] as number);
    if (step > WARMUP) {
      times.push(ms);
      cpuTimes.push((cpu.user + cpu.system) / 1000);
    }
  }
  const cpuMs = median(cpuTimes);
  if (!flags.profile) return { ms: median(times), cpuMs, losses };
  const timed = steps - WARMUP;
  const profile = {
    setup_ms: perStep(setup, 1),
    step_mean_ms: Number((times.reduce((a, b) => a + b, 0) / timed).toFixed(2)),
    phases: perStep(clock.ms, timed),
    graph: graphProfile(compiled, WARMUP, config.vocab),
  };
  return { ms: median(times), cpuMs, losses, profile };
}

const config: GptConfig = { vocab: 8000, dModel: 256, layers: 4, heads: 4, seq: 128, batch: 8 };
const gflops = await matmulGflops();
const gpt = await gptStepMs(config);
console.log(
  JSON.stringify({
    matmul_gflops: Number(gflops.toFixed(1)),
    gpt_step_ms: Number(gpt.ms.toFixed(1)),
    gpt_step_cpu_ms: Number(gpt.cpuMs.toFixed(1)),
    peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
    threads: runtime.threads,
    gpt_loss_first: Number(gpt.losses[0].toFixed(4)),
    gpt_loss_last: Number(gpt.losses[gpt.losses.length - 1].toFixed(4)),
    ...(gpt.profile ? { profile: gpt.profile } : {}),
  }),
);
