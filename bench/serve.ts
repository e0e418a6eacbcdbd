// Serving benchmark: a `small`-preset LM with title items (untrained: speed does not depend on
// the weights) behind `prefrec serve` on a loopback port, driven by a bounded closed-loop load
// generator at concurrency 1, 8 and 64 for a fixed time each, with --max-batch 32 and 1; then
// the server's RSS before and after N more requests; then, at concurrency 64, --max-batch 32 with
// each batch as one engine run (--engine-batch 32, the layout before runs of 8). Prints one JSON
// line.
// Usage: tsx bench/serve.ts [--preset small] [--seconds 10] [--rss-requests 10000] [--threads n]
//   [--engine-batch 8] [--provider cpu|cuda]
// The server runs with --timeout-ms 600000: a closed loop at concurrency 64 queues 64 requests,
// and the point is throughput, not the timeout policy (app tests cover 504s).

import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { Agent, request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { benchArgs, countArg } from "./args.js";
import { serveFixture } from "./serve-fixture.js";

const { values: args } = benchArgs({
  seconds: { type: "string", default: "10" },
  "rss-requests": { type: "string", default: "10000" },
  threads: { type: "string" },
  preset: { type: "string", default: "small" },
  "engine-batch": { type: "string", default: "8" },
  provider: { type: "string", default: "cpu" },
});
const SECONDS = countArg("seconds", args.seconds);
const RSS_REQUESTS = countArg("rss-requests", args["rss-requests"], 0);
const ENGINE_BATCH = countArg("engine-batch", args["engine-batch"]);
if (args.threads !== undefined) countArg("threads", args.threads);
const CONCURRENCY = [1, 8, 64];
const PRESET = args.preset as "tiny" | "small" | "base";

interface Server {
  port: number;
  pid: number;
  stop: () => Promise<number | null>;
}

/** Starts `prefrec serve` on a free loopback port and waits until /readyz answers 200. */
async function startServer(
  model: string,
  data: string,
  maxBatch: number,
  engineBatch = ENGINE_BATCH,
): Promise<Server> {
  const cli = [
    "--import",
    "tsx",
    "src/cli/main.ts",
    "serve",
    model,
    "--data",
    data,
    "--port",
    "0",
    "--max-batch",
    String(maxBatch),
    "--engine-batch",
    String(engineBatch),
    "--max-queue",
    "1024",
  ];
  if (args.threads) cli.push("--threads", args.threads);
  cli.push("--provider", args.provider);
  const proc = spawn(process.execPath, cli, { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  const port = await new Promise<number>((resolve, reject) => {
    proc.stdout.on("data", (d) => {
      // The request log is read only until the port shows up, then drained.
      if (out.length < 100_000) out += d;
      // Failed requests in the server's log go to stderr, to explain any errors counted.
      for (const line of String(d).split("\n"))
        if (line.includes('"path"') && !line.includes('"status":200'))
          process.stderr.write(`${line}\n`);
      const m = out.match(/"port":(\d+)/);
      if (m) resolve(Number(m[1]));
    });
    proc.once("exit", (code) => reject(new Error(`server exited (${code})`)));
  });
  const exited = new Promise<number | null>((r) => proc.once("exit", r));
  for (let i = 0; i < 600; i++) {
    const status = await get(port, "/readyz").catch(() => 0);
    if (status === 200) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    port,
    pid: proc.pid!,
    stop: async () => {
      proc.kill("SIGTERM");
      return exited;
    },
  };
}

function get(port: number, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, agent: false }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("error", reject);
    req.end();
  });
}

function post(agent: Agent, port: number, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port,
        path: "/v1/recommend",
        method: "POST",
        agent,
        headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) },
      },
      (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode ?? 0));
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

/** `concurrency` workers each send requests back to back until the deadline or `limit` requests. */
async function load(
  port: number,
  bodies: string[],
  concurrency: number,
  seconds: number,
  limit = Number.POSITIVE_INFINITY,
) {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const latencies: number[] = [];
  let errors = 0;
  const kinds: Record<string, number> = {};
  let sent = 0;
  const deadline = performance.now() + seconds * 1000;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async (_, w) => {
      let i = w;
      while (performance.now() < deadline && sent < limit) {
        sent++;
        const start = performance.now();
        const status = await post(agent, port, bodies[i++ % bodies.length]).catch(
          (e: NodeJS.ErrnoException) => e.code ?? "error",
        );
        latencies.push(performance.now() - start);
        if (status !== 200) {
          errors++;
          kinds[status] = (kinds[status] ?? 0) + 1;
        }
      }
    }),
  );
  const elapsed = (performance.now() - t0) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const q = (p: number) =>
    Number(
      (latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0).toFixed(1),
    );
  return {
    requests: latencies.length,
    reqPerSec: Number((latencies.length / elapsed).toFixed(1)),
    p50Ms: q(0.5),
    p99Ms: q(0.99),
    errors,
    ...(errors ? { errorKinds: kinds } : {}),
  };
}

const rssMiB = (pid: number) => {
  const m = readFileSync(`/proc/${pid}/status`, "utf8").match(/VmRSS:\s+(\d+) kB/);
  return m ? Number((Number(m[1]) / 1024).toFixed(1)) : null;
};

const dir = await mkdtemp(join(tmpdir(), "prefrec-bench-serve-"));
try {
  const fx = await serveFixture(dir, PRESET);
  const result: Record<string, unknown> = {
    preset: PRESET,
    items: "title",
    candidates: 20,
    seconds: SECONDS,
  };
  for (const maxBatch of [32, 1]) {
    const server = await startServer(fx.model, fx.data, maxBatch);
    const runs: Record<string, unknown> = {};
    for (const c of CONCURRENCY) runs[`c${c}`] = await load(server.port, fx.bodies, c, SECONDS);
    if (maxBatch === 32) {
      // RSS every 1,000 requests: growth that levels off is allocator warm-up, steady growth a leak.
      const before = rssMiB(server.pid);
      const samples: (number | null)[] = [];
      let requests = 0;
      let errors = 0;
      const errorKinds: Record<string, number> = {};
      while (requests < RSS_REQUESTS) {
        const r = await load(
          server.port,
          fx.bodies,
          64,
          3600,
          Math.min(1000, RSS_REQUESTS - requests),
        );
        requests += r.requests;
        errors += r.errors;
        for (const [k, n] of Object.entries(r.errorKinds ?? {}))
          errorKinds[k] = (errorKinds[k] ?? 0) + n;
        samples.push(rssMiB(server.pid));
      }
      const afterRss = samples.at(-1) ?? null;
      runs.rss = {
        requests,
        errors,
        beforeMiB: before,
        afterMiB: afterRss,
        growth: before && afterRss ? Number((afterRss / before - 1).toFixed(3)) : null,
        everyThousandMiB: samples,
        ...(errors ? { errorKinds } : {}),
      };
    }
    runs.exitCode = await server.stop();
    result[`maxBatch${maxBatch}`] = runs;
  }
  // The previous layout, back to back: each gathered batch as one engine run (c64 only).
  const oneRun = await startServer(fx.model, fx.data, 32, 32);
  result.maxBatch32OneRun = {
    c64: await load(oneRun.port, fx.bodies, 64, SECONDS),
    exitCode: await oneRun.stop(),
  };
  const b = result.maxBatch32 as Record<string, { reqPerSec: number }>;
  const u = result.maxBatch1 as Record<string, { reqPerSec: number }>;
  result.speedupC64 = Number((b.c64.reqPerSec / u.c64.reqPerSec).toFixed(2));
  process.stdout.write(`${JSON.stringify(result)}\n`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
