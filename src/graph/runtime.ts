// Runs graphs with ONNX Runtime: compiles each distinct graph once, checks feeds, returns arrays.

import { createHash } from "node:crypto";
import { existsSync, readdirSync } from "node:fs";
import { createRequire } from "node:module";
import { availableParallelism } from "node:os";
import { basename, dirname, join } from "node:path";
import * as ort from "onnxruntime-node";
import { RuntimeFailure } from "../io/errors.js";
import { type Dim, evalDim, formatShape, isStatic } from "./dim.js";
import { type DType, dtypeOfArray, type TensorData } from "./dtype.js";
import { Graph, GraphError } from "./graph.js";
import { type Outputs, serialize, serializeWithExternal } from "./onnx.js";

export type Provider = "cpu" | "cuda";

export interface RuntimeOptions {
  /** Execution provider; `cuda` needs onnxruntime-node installed with its CUDA libraries. */
  provider?: Provider;
  /** Intra-op threads (default: the machine's available parallelism). */
  threads?: number;
  /** ONNX Runtime graph optimizations (default `all`). */
  optimization?: "disabled" | "basic" | "extended" | "all";
  /** Frozen weights of at least this many bytes reach ONNX Runtime as external data from memory
   *  instead of inside the protobuf (default 1 MiB; protobuf itself stops at 2 GiB). */
  externalMinBytes?: number;
  /** ONNX Runtime's CPU memory arena. Default `training`: on for graphs with a backward pass
   *  and no 16-bit frozen weights, whose same-sized intermediates come back every step (without
   *  it each run maps and faults them in afresh: measured −17 % CPU per GPT training step, +24 %
   *  peak RSS); off otherwise, since the arena keeps every run's peak — measured +1 GiB per run
   *  of a 0.5 GiB BF16 weight — while plain allocation returns each layer's float32 copy of a
   *  16-bit weight as soon as its last consumer ran. */
  memoryArena?: boolean | "training";
  /** Path prefix for ONNX Runtime's profiler (default off): each session writes a Chrome-trace
   *  JSON of per-node times to `<prefix>-<n>_<date>.json` (see `CompiledGraph.endProfiling`). */
  profilePrefix?: string;
}

/** JS-side time of a profiled graph's runs, summed since the last reset (milliseconds). */
export interface RunTiming {
  runs: number;
  /** Checking feeds and wrapping them as ONNX Runtime tensors. */
  feedsMs: number;
  /** `session.run`: ONNX Runtime's own work plus the native boundary (inputs in, outputs out). */
  sessionMs: number;
  /** Wrapping the returned tensors. */
  outputsMs: number;
}

/** A tensor returned by a run, or passed as a feed. */
export interface Tensor {
  data: TensorData;
  shape: readonly number[];
}

/** A feed: a tensor, or a bare typed array for inputs whose shape is fully static. */
export type Feed = Tensor | TensorData;

export interface InputSpec {
  name: string;
  dtype: DType;
  shape: readonly Dim[];
}

const ORT_TYPE: Record<DType, "float32" | "float64" | "int64" | "bool"> = {
  float32: "float32",
  float64: "float64",
  int64: "int64",
  bool: "bool",
};

/** An ONNX Runtime environment with a cache of compiled graphs. */
export class Runtime {
  readonly provider: Provider;
  readonly threads: number;
  readonly optimization: NonNullable<RuntimeOptions["optimization"]>;
  readonly externalMinBytes: number;
  readonly memoryArena: boolean | "training";
  readonly profilePrefix: string | undefined;
  private profiledSessions = 0;
  /** Profiler file prefix by session cache key (a profiling runtime only). */
  private readonly profilePrefixes = new Map<string, string>();
  private readonly sessions = new Map<string, Promise<ort.InferenceSession>>();

  constructor(options: RuntimeOptions = {}) {
    this.provider = options.provider ?? "cpu";
    this.threads = options.threads ?? availableParallelism();
    this.optimization = options.optimization ?? "all";
    this.externalMinBytes = options.externalMinBytes ?? 2 ** 20;
    this.memoryArena = options.memoryArena ?? "training";
    this.profilePrefix = options.profilePrefix;
  }

  /**
   * Compiles the graph computing `outputs`; the same graph structure over the same frozen arrays
   * reuses one session. Frozen arrays in memory are copied into the session (measured: twice
   * their size while it is created, once after); file-backed ones are memory-mapped by ONNX
   * Runtime straight from the checkpoint's files, with no copy (measured: docs/results.md).
   */
  async compile(graph: Graph, outputs: Outputs): Promise<CompiledGraph> {
    const { bytes, external, folder } = serializeWithExternal(graph, outputs, {
      externalMinBytes: this.externalMinBytes,
    });
    // External data is not in the bytes: the arrays' identities and the folder complete the key.
    const hash = createHash("sha256")
      .update(bytes)
      .update(`|${folder ?? ""}`);
    for (const e of external) hash.update(`|${e.path}:${arrayId(e.data)}`);
    const key = hash.digest("hex");
    let session = this.sessions.get(key);
    if (!session) {
      if (this.provider === "cuda") assertCudaInstalled();
      const options: ort.InferenceSession.SessionOptions = {
        executionProviders: this.provider === "cuda" ? ["cuda", "cpu"] : ["cpu"],
        intraOpNumThreads: this.threads,
        interOpNumThreads: 1,
        executionMode: "sequential",
        graphOptimizationLevel: this.optimization,
        enableCpuMemArena: this.arenaFor(graph),
        // Frozen weights are initializers listed as inputs on purpose (no folding, no copies);
        // ONNX Runtime warns about each one.
        logSeverityLevel: 3,
      };
      if (this.profilePrefix !== undefined) {
        // One prefix per session: ORT names files by the second, so two sessions could collide.
        options.enableProfiling = true;
        options.profileFilePrefix = `${this.profilePrefix}-${++this.profiledSessions}`;
        this.profilePrefixes.set(key, options.profileFilePrefix);
      }
      if (external.length > 0) options.externalData = external;
      // File-backed weights (a checkpoint's shards) are memory-mapped from this folder.
      if (folder !== undefined)
        options.extra = { session: { model_external_initializers_file_folder_path: folder } };
      session = ort.InferenceSession.create(bytes, options).catch((error: unknown) => {
        this.sessions.delete(key);
        // A CUDA library that is present but cannot start (no driver, wrong CUDA version).
        if (this.provider === "cuda")
          throw new RuntimeFailure(
            `--provider cuda: ONNX Runtime could not start CUDA (${(error as Error).message}); \`prefrec doctor --provider cuda\` checks the setup`,
            { cause: error },
          );
        throw error;
      });
      this.sessions.set(key, session);
    }
    const compiled = await session;
    const used = new Set(compiled.inputNames);
    const inputs = graph.inputs
      .filter((i) => used.has(i.name))
      .map((i) => ({ name: i.name, dtype: i.value.dtype, shape: i.value.shape }));
    const profile = this.profilePrefixes.get(key);
    return new CompiledGraph(compiled, inputs, Object.keys(outputs), graph, key, profile);
  }

  /** Whether the session of this graph uses ONNX Runtime's memory arena (see `memoryArena`). */
  arenaFor(graph: Graph): boolean {
    if (this.memoryArena !== "training") return this.memoryArena;
    return (
      graph.hasBackward && !graph.nodes.some((n) => n.op === "Frozen" && n.attrs.stored !== null)
    );
  }

  /** Releases one compiled graph (and the frozen weights its session holds). */
  async release(compiled: CompiledGraph): Promise<void> {
    const session = this.sessions.get(compiled.key);
    if (!session) return;
    this.sessions.delete(compiled.key);
    await (await session).release();
  }

  /**
   * Whether two runs on this runtime give bit-identical numbers: guaranteed only on the CPU with
   * one intra-op thread. With more threads ONNX Runtime may split a kernel's work (and so the
   * order of its float additions) differently; CUDA kernels are not deterministic either.
   */
  get bitIdentical(): boolean {
    return this.provider === "cpu" && this.threads === 1;
  }

  /** One line on reproducibility for run summaries (see `bitIdentical`). */
  reproducibility(): string {
    return this.bitIdentical
      ? "bit-identical: the same config, data and seed on this onnxruntime build give the same weights, also across resumes"
      : `not guaranteed bit-identical with ${this.provider === "cuda" ? "the CUDA provider" : `${this.threads} intra-op threads`}: use --provider cpu --threads 1 for bit-identical runs and resumes`;
  }

  /** Number of distinct compiled graphs held. */
  get cachedGraphs(): number {
    return this.sessions.size;
  }

  /** Releases every compiled graph. */
  async dispose(): Promise<void> {
    const sessions = [...this.sessions.values()];
    this.sessions.clear();
    for (const s of sessions) await (await s).release();
  }
}

/** A graph compiled by ONNX Runtime, ready to run with feeds. */
export class CompiledGraph {
  constructor(
    private readonly session: ort.InferenceSession,
    readonly inputs: readonly InputSpec[],
    readonly outputNames: readonly string[],
    private readonly graph: Graph,
    /** The runtime's cache key of this graph's session. */
    readonly key = "",
    /** The session's profiler file prefix (a runtime with `profilePrefix` only). */
    readonly profilePrefix?: string,
  ) {
    this.timing = profilePrefix === undefined ? null : emptyTiming();
  }

  /** JS-side timing of the runs so far, kept only when the runtime profiles (else null). */
  timing: RunTiming | null;

  /** Runs the graph; feeds for inputs this graph does not use are ignored. */
  async run(feeds: Record<string, Feed>): Promise<Record<string, Tensor>> {
    const t0 = this.timing ? performance.now() : 0;
    const ortFeeds = this.checkFeeds(feeds);
    const t1 = this.timing ? performance.now() : 0;
    const results = await this.session.run(ortFeeds, [...this.outputNames]);
    const t2 = this.timing ? performance.now() : 0;
    const out: Record<string, Tensor> = {};
    for (const name of this.outputNames) {
      const t = results[name];
      out[name] = { data: t.data as TensorData, shape: t.dims.map(Number) };
    }
    if (this.timing) {
      this.timing.runs++;
      this.timing.feedsMs += t1 - t0;
      this.timing.sessionMs += t2 - t1;
      this.timing.outputsMs += performance.now() - t2;
    }
    return out;
  }

  /** Clears the JS-side timing (e.g. after warm-up runs). */
  resetTiming(): void {
    if (this.timing) this.timing = emptyTiming();
  }

  /**
   * Stops ONNX Runtime's profiler for this graph's session (later runs are not traced) and
   * returns the path of the trace it wrote.
   */
  endProfiling(): string {
    const prefix = this.profilePrefix;
    if (prefix === undefined)
      throw new RuntimeFailure("this runtime was not created with profilePrefix");
    this.session.endProfiling();
    const folder = dirname(prefix);
    const start = `${basename(prefix)}_`;
    const found = readdirSync(folder)
      .filter((f) => f.startsWith(start) && f.endsWith(".json"))
      .sort();
    if (found.length === 0)
      throw new RuntimeFailure(`ONNX Runtime wrote no profile starting with ${prefix}_`);
    return join(folder, found[found.length - 1]);
  }

  private checkFeeds(feeds: Record<string, Feed>): Record<string, ort.Tensor> {
    const known = new Set(this.graph.inputs.map((i) => i.name));
    for (const name of Object.keys(feeds)) {
      if (!known.has(name)) {
        const names = [...known];
        const shown =
          names.length > 12
            ? `${names.slice(0, 12).join(", ")}, … (${names.length} in all)`
            : names.join(", ");
        throw new GraphError(
          `feed "${name}" is not an input of the graph (inputs: ${shown || "none"})`,
        );
      }
    }
    const bindings = new Map<string, number>();
    const out: Record<string, ort.Tensor> = {};
    for (const spec of this.inputs) {
      const feed = feeds[spec.name];
      const expected = `${spec.dtype} ${formatShape(spec.shape)}`;
      if (feed === undefined) throw new GraphError(`missing feed "${spec.name}" (${expected})`);
      const data = ArrayBuffer.isView(feed) ? (feed as TensorData) : (feed as Tensor).data;
      const dtype = dtypeOfArray(data);
      if (dtype !== spec.dtype) {
        throw new GraphError(
          `feed "${spec.name}": expected ${expected}, got ${dtype ?? "an unsupported array"}`,
        );
      }
      let shape: readonly number[];
      if (ArrayBuffer.isView(feed)) {
        if (!spec.shape.every(isStatic)) {
          throw new GraphError(
            `feed "${spec.name}": the input has symbolic dims ${formatShape(spec.shape)}; pass { data, shape }`,
          );
        }
        shape = spec.shape as number[];
      } else {
        shape = (feed as Tensor).shape;
      }
      if (shape.length !== spec.shape.length) {
        throw new GraphError(
          `feed "${spec.name}": shape ${formatShape(shape)} does not match ${expected}`,
        );
      }
      spec.shape.forEach((d, i) => {
        if (typeof d === "string" && !bindings.has(d)) bindings.set(d, shape[i]);
        const want = evalDim(d, bindings);
        if (want !== shape[i]) {
          const why = typeof d === "string" ? ` ("${d}" is ${want} from an earlier feed)` : "";
          throw new GraphError(
            `feed "${spec.name}": shape ${formatShape(shape)} does not match ${expected}${why}`,
          );
        }
      });
      const size = shape.reduce((a, b) => a * b, 1);
      if (data.length !== size) {
        throw new GraphError(
          `feed "${spec.name}": ${data.length} values for shape ${formatShape(shape)} (${size} expected)`,
        );
      }
      out[spec.name] = new ort.Tensor(ORT_TYPE[spec.dtype], data as never, [...shape]);
    }
    return out;
  }
}

const emptyTiming = (): RunTiming => ({ runs: 0, feedsMs: 0, sessionMs: 0, outputsMs: 0 });

const arrayIds = new WeakMap<ArrayBufferLike, number>();
let nextArrayId = 0;

/** A stable identity for the memory behind an array view (plus its offset and length). */
function arrayId(data: Uint8Array): string {
  let id = arrayIds.get(data.buffer);
  if (id === undefined) {
    id = nextArrayId++;
    arrayIds.set(data.buffer, id);
  }
  return `${id}+${data.byteOffset}/${data.byteLength}`;
}

/** The folder holding onnxruntime-node's native libraries for this platform. */
function nativeLibraryDir(): string {
  const require = createRequire(import.meta.url);
  const root = dirname(dirname(require.resolve("onnxruntime-node")));
  return join(root, "bin", "napi-v6", process.platform, process.arch);
}

/** Throws a RuntimeFailure naming the fix when this install has no CUDA provider library. */
function assertCudaInstalled(): void {
  if (existsSync(join(nativeLibraryDir(), "libonnxruntime_providers_cuda.so"))) return;
  throw new RuntimeFailure(
    "--provider cuda: this onnxruntime-node install has no CUDA provider (the default install skips it; see the README's NVIDIA GPUs section, or use --provider cpu)",
  );
}

/** The execution providers this onnxruntime-node build can actually start. */
export async function usableProviders(): Promise<Provider[]> {
  const usable: Provider[] = ["cpu"];
  // The CUDA provider is a separate library that the default install skips; probing a
  // session without it only makes ONNX Runtime log an error.
  if (!existsSync(join(nativeLibraryDir(), "libonnxruntime_providers_cuda.so"))) return usable;
  try {
    const g = new Graph("probe");
    const x = g.input("x", "float32", [1]);
    const s = await ort.InferenceSession.create(serialize(g, { y: x }), {
      executionProviders: ["cuda"],
    });
    await s.release();
    usable.push("cuda");
  } catch {
    // Present but not loadable (no driver, wrong CUDA version).
  }
  return usable;
}

/** onnxruntime-node's version. */
export function ortVersion(): string {
  return ort.env.versions.node ?? ort.env.versions.common ?? "unknown";
}
