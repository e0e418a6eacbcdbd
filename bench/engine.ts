// Engine benchmark: (a) float32 1024³ matmul through the engine, (b) a GPT-2-style training step
// (forward + backward + AdamW). Prints one JSON line.

import { Graph, matmul, Runtime } from "../src/graph/index.js";
import { createRng } from "../src/io/rng.js";
import { AdamW } from "../src/train/optim.js";
import { buildGptTrainingGraph, type GptConfig, gptParameterShapes } from "./gpt.js";

function rng(seed: number): () => number {
  const stream = createRng(seed);
  return () => stream.uniform();
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const runtime = new Runtime();

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

async function gptStepMs(config: GptConfig, steps = 20): Promise<{ ms: number; losses: number[] }> {
  const { graph, loss, grads } = buildGptTrainingGraph(config);
  const compiled = await runtime.compile(graph, { loss, ...grads });
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
  const losses: number[] = [];
  for (let step = 1; step <= steps; step++) {
    const t0 = performance.now();
    const out = await compiled.run({ ...Object.fromEntries(params), tokens, targets });
    const g: Record<string, Float32Array> = {};
    for (const name of params.keys()) g[name] = out[`grad.${name}`].data as Float32Array;
    optimizer.update(g);
    const ms = performance.now() - t0;
    losses.push(out.loss.data[0] as number);
    if (step >= 3) times.push(ms);
  }
  return { ms: median(times), losses };
}

const config: GptConfig = { vocab: 8000, dModel: 256, layers: 4, heads: 4, seq: 128, batch: 8 };
const gflops = await matmulGflops();
const gpt = await gptStepMs(config);
console.log(
  JSON.stringify({
    matmul_gflops: Number(gflops.toFixed(1)),
    gpt_step_ms: Number(gpt.ms.toFixed(1)),
    peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
    threads: runtime.threads,
    gpt_loss_first: Number(gpt.losses[0].toFixed(4)),
    gpt_loss_last: Number(gpt.losses[gpt.losses.length - 1].toFixed(4)),
  }),
);
