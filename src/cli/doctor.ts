// `prefrec doctor`: versions, execution providers, threads, and a small graph that proves the
// engine works (a 512³ matmul and its gradient, checked against a closed form, with GFLOP/s).

import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import type { Command } from "@commander-js/extra-typings";
import * as ort from "onnxruntime-node";
import {
  Graph,
  grad,
  matmul,
  type Provider,
  Runtime,
  reduceSum,
  usableProviders,
} from "../graph/index.js";
import { CliError } from "./errors.js";
import { providerOption, threadsOption } from "./options.js";

export interface DoctorReport {
  prefrec: string;
  node: string;
  onnxruntime: string;
  platform: string;
  providers: { name: string; bundled: boolean; usable: boolean }[];
  provider: Provider;
  threads: number;
  check: { size: number; gradientOk: boolean; maxError: number; ms: number; gflops: number };
}

function packageVersion(): string {
  const url = new URL("../../package.json", import.meta.url);
  return JSON.parse(readFileSync(url, "utf8")).version as string;
}

function ortPackageVersion(): string {
  const require = createRequire(import.meta.url);
  return (require("onnxruntime-node/package.json") as { version: string }).version;
}

/** Runs loss = Σ(A·B) and its gradients; dL/dA[i,k] = Σ_j B[k,j] and dL/dB[k,j] = Σ_i A[i,k]. */
async function engineCheck(runtime: Runtime, n: number): Promise<DoctorReport["check"]> {
  const g = new Graph("doctor");
  const a = g.input("a", "float32", [n, n]);
  const b = g.input("b", "float32", [n, n]);
  const loss = reduceSum(matmul(a, b));
  const [ga, gb] = grad(loss, [a, b]);
  const compiled = await runtime.compile(g, { loss, ga, gb });
  const A = Float32Array.from({ length: n * n }, (_, i) => ((i * 7919) % 1000) / 1000 - 0.5);
  const B = Float32Array.from({ length: n * n }, (_, i) => ((i * 104729) % 1000) / 1000 - 0.5);
  let out = await compiled.run({ a: A, b: B });
  // The first runs grow ONNX Runtime's memory arena and wake its threads: not timed.
  for (let i = 0; i < 3; i++) await compiled.run({ a: A, b: B });
  const times: number[] = [];
  for (let i = 0; i < 11; i++) {
    const t0 = performance.now();
    out = await compiled.run({ a: A, b: B });
    times.push(performance.now() - t0);
  }
  const ms = times.sort((x, y) => x - y)[5];
  let maxError = 0;
  const gaData = out.ga.data as Float32Array;
  const gbData = out.gb.data as Float32Array;
  for (let k = 0; k < n; k += 37) {
    let rowSumB = 0;
    let colSumA = 0;
    for (let j = 0; j < n; j++) rowSumB += B[k * n + j];
    for (let i = 0; i < n; i++) colSumA += A[i * n + k];
    maxError = Math.max(
      maxError,
      Math.abs(gaData[5 * n + k] - rowSumB),
      Math.abs(gbData[k * n + 3] - colSumA),
    );
  }
  return {
    size: n,
    gradientOk: maxError < 1e-2,
    maxError,
    ms,
    gflops: (3 * 2 * n ** 3) / (ms / 1000) / 1e9,
  };
}

/** Collects the doctor report. */
export async function doctor(provider: Provider, threads?: number): Promise<DoctorReport> {
  const usable = await usableProviders();
  if (!usable.includes(provider)) {
    throw new CliError(
      `execution provider "${provider}" is not usable here (usable: ${usable.join(", ")}); see the README's GPU section`,
    );
  }
  const runtime = new Runtime({ provider, threads });
  const check = await engineCheck(runtime, 512);
  await runtime.dispose();
  return {
    prefrec: packageVersion(),
    node: process.version,
    onnxruntime: ortPackageVersion(),
    platform: `${process.platform}-${process.arch}`,
    providers: ort.listSupportedBackends().map((b) => ({
      name: b.name,
      bundled: b.bundled,
      usable: usable.includes(b.name as Provider),
    })),
    provider,
    threads: runtime.threads,
    check,
  };
}

export function registerDoctor(program: Command): void {
  program
    .command("doctor")
    .description("check the installation: versions, execution providers, and a small engine run")
    .addOption(providerOption())
    .addOption(threadsOption())
    .option("--json", "print the report as JSON")
    .action(async (options) => {
      const report = await doctor(
        options.provider ?? "cpu",
        (options as { threads?: number }).threads,
      );
      if (options.json) {
        process.stdout.write(`${JSON.stringify(report)}\n`);
      } else {
        const c = report.check;
        const lines = [
          `prefrec      ${report.prefrec}`,
          `node         ${report.node} (${report.platform})`,
          `onnxruntime  ${report.onnxruntime}`,
          `providers    ${report.providers.map((p) => `${p.name} (${providerStatus(p)})`).join(", ")}`,
          `running on   ${report.provider}, ${report.threads} intra-op threads`,
          `engine check ${c.size}³ matmul + gradient: ${c.gradientOk ? "ok" : "WRONG"} (max error ${c.maxError.toExponential(1)}), ${c.ms.toFixed(1)} ms, ${c.gflops.toFixed(1)} GFLOP/s`,
        ];
        process.stdout.write(`${lines.join("\n")}\n`);
      }
      if (!report.check.gradientOk) process.exitCode = 1;
    });
}

/** Every provider gets a status: usable, or why not (prefrec itself runs only cpu and cuda). */
export function providerStatus(p: { name: string; bundled: boolean; usable: boolean }): string {
  if (p.usable) return "usable";
  if (p.name === "cpu" || p.name === "cuda")
    return p.bundled ? "bundled, cannot start here" : "not installed";
  return p.bundled ? "bundled, not used by prefrec" : "not installed, not used by prefrec";
}
