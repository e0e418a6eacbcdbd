// Where a served request's time goes, without HTTP: JSON parsing, prompt rendering and
// tokenization per request; tokens per request (real, and as padded in an engine run of 1, of 32,
// and in the server's size-sorted runs of 8); engine time per request for those three layouts
// (interleaved rounds, medians); the compiled graphs held afterwards (one per program, whatever
// the shapes); FLOPs per request against the machine's measured matmul GFLOP/s, which bounds
// the req/s any batching can reach. Prints one JSON line.
// Usage: tsx bench/serve-profile.ts [--preset small] [--requests 64] [--rounds 3] [--threads n]

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Example } from "../src/data/types.js";
import { loadRecommender } from "../src/eval/load.js";
import { Graph, matmul, Runtime } from "../src/graph/index.js";
import type { LmConfig } from "../src/model/config.js";
import type { LmRecommender } from "../src/model/lm-recommender.js";
import type { PresetName } from "../src/model/presets.js";
import { ServeCatalog } from "../src/serve/catalog.js";
import { scoreInRuns } from "../src/serve/chunks.js";
import { benchArgs, countArg } from "./args.js";
import { serveFixture } from "./serve-fixture.js";

const { values: args } = benchArgs({
  preset: { type: "string", default: "small" },
  requests: { type: "string", default: "64" },
  rounds: { type: "string", default: "3" },
  threads: { type: "string" },
});
const REQUESTS = countArg("requests", args.requests);
const ROUNDS = countArg("rounds", args.rounds);
const THREADS = args.threads === undefined ? undefined : countArg("threads", args.threads);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const round = (x: number, d = 1) => Number(x.toFixed(d));

/** Multiply-adds ×2 of one forward pass over `tokens` tokens, `heads` output rows, `keys` keys. */
function forwardFlops(c: LmConfig, tokens: number, keysPerToken: number, headRows: number): number {
  const q = c.numHeads * c.headDim;
  const kv = c.numKvHeads * c.headDim;
  const perToken = c.hiddenSize * (2 * q + 2 * kv) + 3 * c.hiddenSize * c.intermediateSize;
  const attention = 2 * q * keysPerToken; // scores and weighted values, every head
  return (
    2 * (c.numLayers * tokens * (perToken + attention) + headRows * c.hiddenSize * c.vocabSize)
  );
}

/** FLOPs of scoring one request laid out as prompt `tp` + `n` answers of `tc` tokens. */
function requestFlops(c: LmConfig, tp: number, n: number, tc: number): number {
  // Prompt tokens attend to the whole prompt (the mask does not skip work); answer tokens to the
  // prompt and their own answer; the LM head runs at answer positions only.
  return forwardFlops(c, tp, tp, 0) + forwardFlops(c, n * tc, tp + tc, n * tc);
}

async function matmulGflops(runtime: Runtime, n = 1024, repeats = 10): Promise<number> {
  const g = new Graph("matmul");
  const compiled = await runtime.compile(g, {
    c: matmul(g.input("a", "float32", [n, n]), g.input("b", "float32", [n, n])),
  });
  const feeds = {
    a: Float32Array.from({ length: n * n }, (_, i) => (i % 7) / 7),
    b: Float32Array.from({ length: n * n }, (_, i) => (i % 5) / 5),
  };
  await compiled.run(feeds);
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t0 = performance.now();
    await compiled.run(feeds);
    times.push(performance.now() - t0);
  }
  await runtime.release(compiled);
  return (2 * n ** 3) / (median(times) / 1000) / 1e9;
}

const dir = await mkdtemp(join(tmpdir(), "prefrec-bench-serve-profile-"));
try {
  const fx = await serveFixture(dir, args.preset as PresetName);
  const runtime = new Runtime({ threads: THREADS });
  const { recommender } = await loadRecommender(fx.model, { runtime });
  const lm = recommender as LmRecommender;
  const config = lm.lm.config;
  const catalog = await ServeCatalog.load(fx.data);
  const bodies = fx.bodies.slice(0, REQUESTS);
  let next = 0;
  // Fresh Example objects each time: the recommender caches tokenization per object.
  const examples = (): Example[] =>
    bodies.map((text) => {
      const b = JSON.parse(text) as {
        history: { item: number; rating?: number }[];
        candidates: { item: number }[];
        template: number;
      };
      const history = b.history.map((h) => ({ ...catalog.ref(h.item), rating: h.rating }));
      const cands = b.candidates.map((c) => catalog.ref(c.item));
      return catalog.example(`r${next++}`, history, cands, { template: b.template });
    });

  // Per-request JS work.
  let t0 = performance.now();
  for (const text of bodies) JSON.parse(text);
  const parseMs = (performance.now() - t0) / bodies.length;
  t0 = performance.now();
  const exs = examples();
  const renderMs = (performance.now() - t0) / bodies.length - parseMs;
  t0 = performance.now();
  const tokenized = lm.tokenize(exs);
  const tokenizeMs = (performance.now() - t0) / bodies.length;

  // Tokens per request: real, and padded in runs of each layout.
  const real = tokenized.map((t) => ({
    tp: t.prompt.length,
    answers: t.candidates.reduce((s, c) => s + c.length, 0),
    n: t.candidates.length,
    tc: Math.max(...t.candidates.map((c) => c.length)),
  }));
  const padded = (runs: number[][]) => {
    let tokens = 0;
    let flops = 0;
    for (const run of runs) {
      const tp = Math.max(...run.map((i) => real[i].tp));
      const n = Math.max(...run.map((i) => real[i].n));
      const tc = Math.max(...run.map((i) => real[i].tc));
      tokens += run.length * (tp + n * tc);
      flops += run.length * requestFlops(config, tp, n, tc);
    }
    return { tokens: round(tokens / real.length), gflops: round(flops / real.length / 1e9, 3) };
  };
  const ids = real.map((_, i) => i);
  const cut = (xs: number[], size: number) =>
    Array.from({ length: Math.ceil(xs.length / size) }, (_, k) =>
      xs.slice(k * size, k * size + size),
    );
  const sortedRuns: number[][] = [];
  for (const batch of cut(ids, 32))
    await scoreInRuns(
      batch.map((i) => exs[i]),
      8,
      async (run) => {
        sortedRuns.push(run.map((e) => exs.indexOf(e)));
        return run;
      },
    );
  const mean = (f: (r: (typeof real)[number]) => number) =>
    round(real.reduce((s, r) => s + f(r), 0) / real.length);
  const tokens = {
    prompt: mean((r) => r.tp),
    answers: mean((r) => r.answers),
    candidates: mean((r) => r.n),
    realGflops: round(
      real.reduce(
        (s, r) =>
          s +
          requestFlops(config, r.tp, 1, 0) +
          forwardFlops(config, r.answers, r.tp + r.tc, r.answers),
        0,
      ) /
        real.length /
        1e9,
      3,
    ),
    run1: padded(cut(ids, 1)),
    run32: padded(cut(ids, 32)),
    sortedRuns8: padded(sortedRuns),
  };

  // Engine time per request, layouts interleaved round by round.
  await recommender.scoreCandidates(examples().slice(0, 1), { batchSize: 1 });
  const layouts: Record<string, (e: Example[]) => Promise<unknown>> = {
    run1: (e) => recommender.scoreCandidates(e, { batchSize: 1 }),
    run32: (e) => recommender.scoreCandidates(e, { batchSize: 32 }),
    sortedRuns8: async (e) => {
      for (const batch of cut(ids, 32))
        await scoreInRuns(
          batch.map((i) => e[i]),
          8,
          (run) => recommender.scoreCandidates(run, { batchSize: run.length }),
        );
    },
  };
  const times: Record<string, number[]> = {};
  const gflops: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    gflops.push(await matmulGflops(runtime));
    for (const [name, run] of Object.entries(layouts)) {
      const e = examples();
      const start = performance.now();
      await run(e);
      times[name] = [...(times[name] ?? []), (performance.now() - start) / e.length];
    }
  }
  const peak = median(gflops);
  const bestReqPerS = peak / tokens.realGflops;
  process.stdout.write(
    `${JSON.stringify({
      preset: args.preset,
      requests: bodies.length,
      perRequestMs: {
        parse: round(parseMs, 3),
        render: round(renderMs, 3),
        tokenize: round(tokenizeMs, 3),
      },
      tokens,
      engineMsPerRequest: Object.fromEntries(
        Object.entries(times).map(([k, v]) => [
          k,
          { median: round(median(v)), all: v.map((x) => round(x)) },
        ]),
      ),
      compiledGraphs: runtime.cachedGraphs,
      matmulGflops: gflops.map((x) => round(x)),
      // Even with every FLOP at matmul speed and nothing else: req/s, and the mean latency a
      // closed loop of 64 then sees (Little's law: 64 / throughput).
      bound: { reqPerS: round(bestReqPerS), c64LatencyMs: Math.round((64 / bestReqPerS) * 1000) },
    })}\n`,
  );
  await runtime.dispose();
} finally {
  await rm(dir, { recursive: true, force: true });
}
