// Hugging Face model directories: config.json + model.safetensors (or a sharded index) → config
// and weights (float32, or frozen 16-bit tensors kept as stored), validated against the config
// and the machine's memory before anything is read; and saving the same kind of directory.

import { copyFile, readFile, stat } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { withAtomicDir, writeFileAtomic } from "../io/atomic.js";
import { UserError } from "../io/errors.js";
import {
  SafetensorsError,
  type SafetensorsFile,
  withSafetensors,
  writeSafetensors,
} from "../io/safetensors.js";
import { type LmConfig, loadLmConfig } from "./config.js";
import { lmConfigToJson } from "./config-json.js";
import { checkFits } from "./memory.js";
import { expectedTensorShapes } from "./names.js";
import { TOKENIZER_FILES } from "./tokenizer/items.js";
import {
  float32Of,
  type NamedTensor,
  numel,
  sameShape,
  tensorLength,
  type Weights,
} from "./weights.js";

const asFloat32 = (t: NamedTensor): NamedTensor =>
  t.stored ? { shape: t.shape, data: float32Of(t) } : t;

/** How frozen weights are held: as stored in the checkpoint (F16/BF16 stay 16-bit), or float32. */
export type WeightsDtype = "stored" | "float32";

/** Float dtypes a checkpoint's tensors may have. */
const FLOAT_DTYPES = new Set(["F32", "F16", "BF16", "F64"]);

/** A model directory's contents as the graph code uses them. */
export interface Checkpoint {
  config: LmConfig;
  weights: Weights;
}

/** A missing or malformed checkpoint file or tensor; names the file and the tensor. */
export class CheckpointError extends UserError {
  constructor(
    readonly file: string,
    message: string,
    readonly tensor?: string,
  ) {
    super(`${file}${tensor === undefined ? "" : `: tensor "${tensor}"`}: ${message}`);
    this.name = "CheckpointError";
  }
}

export { TOKENIZER_FILES } from "./tokenizer/items.js";

/** Buffers transformers keeps in some old checkpoints that carry no parameters. */
const IGNORED = /\.rotary_emb\.inv_freq$/;

async function exists(path: string): Promise<boolean> {
  return (await stat(path).catch(() => null)) !== null;
}

/** Where each tensor lives: one file, or the shards named by model.safetensors.index.json. */
export async function locateWeights(
  dir: string,
): Promise<{ source: string; files: Map<string, string[]> }> {
  const single = join(dir, "model.safetensors");
  const index = join(dir, "model.safetensors.index.json");
  if (await exists(single)) return { source: single, files: new Map([[single, []]]) };
  if (await exists(index)) {
    let json: unknown;
    try {
      json = JSON.parse(await readFile(index, "utf8"));
    } catch (error) {
      throw new CheckpointError(index, `is not valid JSON (${(error as Error).message})`);
    }
    const map = (json as { weight_map?: unknown } | null)?.weight_map;
    if (map === null || typeof map !== "object" || Array.isArray(map)) {
      throw new CheckpointError(index, 'has no "weight_map" object');
    }
    const files = new Map<string, string[]>();
    for (const [name, shard] of Object.entries(map as Record<string, unknown>)) {
      if (typeof shard !== "string" || shard.includes("/") || shard.includes("\\")) {
        throw new CheckpointError(
          index,
          `weight_map entry is not a shard file name: ${JSON.stringify(shard)}`,
          name,
        );
      }
      const path = join(dir, shard);
      if (!files.has(path)) files.set(path, []);
      files.get(path)!.push(name);
    }
    for (const path of files.keys()) {
      if (!(await exists(path)))
        throw new CheckpointError(index, `names shard ${path}, which does not exist`);
    }
    return { source: index, files };
  }
  const hint = (await exists(join(dir, "pytorch_model.bin")))
    ? " (only pytorch_model.bin found: convert it to safetensors first)"
    : "";
  throw new CheckpointError(dir, `no model.safetensors or model.safetensors.index.json${hint}`);
}

/** Options for loading weights. */
export interface LoadWeightsOptions {
  /** Called with names present in the files but not used by the model (e.g. for a warning). */
  onUnexpected?: (names: string[]) => void;
  /** `float32` (default) decodes every tensor; `stored` keeps F16/BF16 tensors 16-bit. */
  weightsDtype?: WeightsDtype;
  /** Memory the weights may take (default: what the machine has available now). */
  availableBytes?: number;
}

/** What loading a checkpoint will hold, read from the headers alone. */
export interface WeightsPlan {
  /** Bytes of the expected tensors once loaded with the chosen dtype. */
  bytes: number;
  /** Number of expected tensors by stored dtype, e.g. { BF16: 290 }. */
  dtypes: Record<string, number>;
}

/** Bytes one tensor takes once loaded. */
function loadedBytes(dtype: string, shape: readonly number[], weightsDtype: WeightsDtype): number {
  const n = numel(shape);
  return weightsDtype === "stored" && (dtype === "F16" || dtype === "BF16") ? 2 * n : 4 * n;
}

/**
 * Reads only the headers: checks every expected tensor is stored once, with the config's shape
 * and a float dtype, and sums what loading will take. Errors name the file and tensor.
 */
export async function planWeights(
  dir: string,
  config: LmConfig,
  weightsDtype: WeightsDtype = "float32",
): Promise<WeightsPlan> {
  const expected = expectedTensorShapes(config);
  const { source, files } = await locateWeights(dir);
  const plan: WeightsPlan = { bytes: 0, dtypes: {} };
  const found = new Map<string, string>();
  for (const [path, indexed] of files) {
    await withSafetensors(path, async (file) => {
      for (const name of indexed) {
        if (!file.header.tensors.has(name))
          throw new CheckpointError(
            path,
            `is listed in ${source} but not stored in this shard`,
            name,
          );
      }
      for (const [name, entry] of file.header.tensors) {
        const shape = expected.get(name);
        if (shape === undefined) continue;
        if (found.has(name))
          throw new CheckpointError(path, `is also stored in ${found.get(name)}`, name);
        found.set(name, path);
        if (!sameShape(entry.shape, shape)) {
          throw new CheckpointError(
            path,
            `has shape [${entry.shape}], the config (${config.modelType}) needs [${shape}]`,
            name,
          );
        }
        if (!FLOAT_DTYPES.has(entry.dtype))
          throw new CheckpointError(
            path,
            `has dtype ${entry.dtype}; expected F32, F16, BF16 or F64`,
            name,
          );
        plan.bytes += loadedBytes(entry.dtype, shape, weightsDtype);
        plan.dtypes[entry.dtype] = (plan.dtypes[entry.dtype] ?? 0) + 1;
      }
    });
  }
  assertNoneMissing(expected, found, source);
  return plan;
}

/**
 * Loads every tensor the config expects (F32/F16/BF16/F64 on disk) as float32, or with
 * `weightsDtype: "stored"` leaves F16/BF16 tensors in their shards (references to their bytes,
 * which the compiled graphs memory-map). Headers are checked first (names, shapes, dtypes, the
 * memory it needs); float32 tensors are then read straight into their final arrays, shard by
 * shard, so no second copy of the model exists at any time.
 */
export async function loadWeights(
  dir: string,
  config: LmConfig,
  options: LoadWeightsOptions = {},
): Promise<Weights> {
  const weightsDtype = options.weightsDtype ?? "float32";
  const plan = await planWeights(dir, config, weightsDtype);
  checkFits(
    `${dir}: loading the weights (${weightsDtype === "stored" ? "as stored" : "as float32"})`,
    plan.bytes,
    weightsDtype === "float32" && (plan.dtypes.BF16 || plan.dtypes.F16)
      ? "--weights-dtype stored keeps 16-bit weights at half the size"
      : "use a machine with more memory",
    options.availableBytes,
  );
  const expected = expectedTensorShapes(config);
  const { source, files } = await locateWeights(dir);
  const found = new Map<string, string>();
  const unexpected: string[] = [];
  const loaded = new Map<string, NamedTensor>();
  for (const [path, indexed] of files) {
    await withSafetensors(path, async (file: SafetensorsFile) => {
      const names = file.names();
      for (const name of indexed) {
        if (!file.header.tensors.has(name)) {
          throw new CheckpointError(
            path,
            `is listed in ${source} but not stored in this shard`,
            name,
          );
        }
      }
      for (const name of names) {
        const shape = expected.get(name);
        if (shape === undefined) {
          if (!IGNORED.test(name) && !(name === "lm_head.weight" && config.tieWordEmbeddings))
            unexpected.push(name);
          continue;
        }
        if (found.has(name))
          throw new CheckpointError(path, `is also stored in ${found.get(name)}`, name);
        found.set(name, path);
        const entry = file.entry(name);
        if (!sameShape(entry.shape, shape)) {
          throw new CheckpointError(
            path,
            `has shape [${entry.shape}], the config (${config.modelType}) needs [${shape}]`,
            name,
          );
        }
        try {
          loaded.set(name, await readTensor(file, name, weightsDtype));
        } catch (error) {
          if (error instanceof SafetensorsError)
            throw new CheckpointError(path, error.message, name);
          throw error;
        }
      }
    });
  }
  assertNoneMissing(expected, loaded, source);
  if (unexpected.length > 0) options.onUnexpected?.(unexpected);
  // Canonical order, whatever order the files used.
  return new Map([...expected.keys()].map((name) => [name, loaded.get(name)!]));
}

/**
 * One tensor: with `stored`, an F16/BF16 tensor stays in its file — a reference to its bytes that
 * ONNX Runtime memory-maps (little-endian hosts) — else it is read as float32.
 */
async function readTensor(
  file: SafetensorsFile,
  name: string,
  weightsDtype: WeightsDtype,
): Promise<NamedTensor> {
  const entry = file.entry(name);
  if (
    weightsDtype === "stored" &&
    (entry.dtype === "F16" || entry.dtype === "BF16") &&
    littleEndian
  ) {
    const path = resolve(file.path);
    const slice = {
      folder: dirname(path),
      file: basename(path),
      offset: file.header.dataStart + entry.begin,
      length: entry.end - entry.begin,
    };
    const dtype = entry.dtype === "F16" ? "float16" : "bfloat16";
    return { shape: [...entry.shape], data: new Float32Array(0), stored: { dtype, file: slice } };
  }
  return file.readF32(name);
}

const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Loads `DIR/config.json` and the weights it implies. */
export async function loadCheckpoint(
  dir: string,
  options: LoadWeightsOptions = {},
): Promise<Checkpoint> {
  const config = await loadLmConfig(dir);
  return { config, weights: await loadWeights(dir, config, options) };
}

/** Checks that `weights` holds exactly the config's tensors with the right shapes and sizes. */
export function validateWeights(config: LmConfig, weights: Weights, where = "weights"): void {
  const expected = expectedTensorShapes(config);
  for (const [name, shape] of expected) {
    const t = weights.get(name);
    if (t === undefined) throw new CheckpointError(where, `is missing, shape [${shape}]`, name);
    if (!sameShape(t.shape, shape))
      throw new CheckpointError(where, `has shape [${t.shape}], expected [${shape}]`, name);
    const n = shape.reduce((a, b) => a * b, 1);
    const count = tensorLength(t);
    if (count !== n)
      throw new CheckpointError(where, `has ${count} values, shape [${shape}] needs ${n}`, name);
  }
  for (const name of weights.keys()) {
    if (!expected.has(name))
      throw new CheckpointError(where, "is not a parameter of this config", name);
  }
}

/** Options for saving a model directory. */
export interface SaveCheckpointOptions {
  /** Copy tokenizer.json (required there) and its companion files from this directory. */
  tokenizerDir?: string;
  /** Replace an existing non-empty directory. */
  overwrite?: boolean;
}

/**
 * Writes config.json, generation_config.json, model.safetensors (F32, canonical order) and the
 * tokenizer files into `dir` atomically: the directory appears complete or not at all.
 */
export async function saveCheckpoint(
  dir: string,
  checkpoint: Checkpoint,
  options: SaveCheckpointOptions = {},
): Promise<void> {
  const { config, weights } = checkpoint;
  validateWeights(config, weights);
  if (
    options.tokenizerDir !== undefined &&
    !(await exists(join(options.tokenizerDir, "tokenizer.json")))
  ) {
    throw new CheckpointError(join(options.tokenizerDir, "tokenizer.json"), "does not exist");
  }
  try {
    await withAtomicDir(
      dir,
      async (tmp) => {
        await writeFileAtomic(
          join(tmp, "config.json"),
          `${JSON.stringify(lmConfigToJson(config), null, 2)}\n`,
        );
        const generation: Record<string, unknown> = {
          bos_token_id: config.bosTokenId,
          eos_token_id:
            config.eosTokenIds.length === 1 ? config.eosTokenIds[0] : config.eosTokenIds,
        };
        if (config.padTokenId !== null) generation.pad_token_id = config.padTokenId;
        await writeFileAtomic(
          join(tmp, "generation_config.json"),
          `${JSON.stringify(generation, null, 2)}\n`,
        );
        const ordered = [...expectedTensorShapes(config).keys()].map(
          // 16-bit stored tensors are written as float32 (exact), like every saved model.
          (name) => [name, asFloat32(weights.get(name)!)] as [string, NamedTensor],
        );
        await writeSafetensors(join(tmp, "model.safetensors"), ordered, { format: "pt" });
        if (options.tokenizerDir !== undefined) {
          for (const name of TOKENIZER_FILES) {
            const from = join(options.tokenizerDir, name);
            if (await exists(from)) await copyFile(from, join(tmp, name));
          }
        }
      },
      { replace: options.overwrite ?? false },
    );
  } catch (error) {
    if (error instanceof UserError) throw error; // already names the file and what is wrong
    throw new CheckpointError(dir, (error as Error).message);
  }
}

/** Throws naming the first expected tensor the checkpoint lacks (and how many more). */
function assertNoneMissing(
  expected: ReadonlyMap<string, unknown>,
  present: { has(name: string): boolean },
  source: string,
): void {
  const missing = [...expected.keys()].filter((name) => !present.has(name));
  if (missing.length === 0) return;
  const more =
    missing.length > 1
      ? ` (and ${missing.length - 1} more: ${missing.slice(1, 6).join(", ")}${missing.length > 6 ? ", …" : ""})`
      : "";
  throw new CheckpointError(
    source,
    `is missing, shape [${expected.get(missing[0])}]${more}`,
    missing[0],
  );
}
