// Writes a random 16-bit checkpoint of any shape straight to disk, tensor by tensor and shard by
// shard (model.safetensors.index.json, as transformers shards), so that a 7B-shaped model for
// benchmarks and tests never exists in memory as a whole.

import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { writeFileAtomic } from "../io/atomic.js";
import { numberToF16Bits } from "../io/float16.js";
import { type RawTensor, writeSafetensors } from "../io/safetensors.js";
import type { LmConfig } from "./config.js";
import { lmConfigToJson } from "./config-json.js";
import { expectedTensorShapes } from "./names.js";
import { numel } from "./weights.js";

export interface RandomCheckpointOptions {
  /** 16-bit format of every tensor (default BF16). */
  dtype?: "BF16" | "F16";
  /** Largest shard in bytes (default 2 GiB); one tensor never spans two shards. */
  shardBytes?: number;
  seed?: number;
}

/** Fills `bits` with 16-bit encodings of uniform values of standard deviation `std`. */
function fillRandom(
  bits: Uint16Array,
  std: number,
  dtype: "BF16" | "F16",
  state: Uint32Array,
): void {
  // xorshift32: fast enough for billions of values; uniform(−a, a) has std a/√3.
  const a = std * Math.sqrt(3);
  const f = new Float32Array(1);
  const u = new Uint32Array(f.buffer);
  let s = state[0] || 1;
  for (let i = 0; i < bits.length; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    f[0] = ((s / 4294967296) * 2 - 1) * a;
    // BF16: the top half of the float32 bits (truncation); F16: rounded to nearest.
    bits[i] = dtype === "BF16" ? u[0] >>> 16 : numberToF16Bits(f[0]);
  }
  state[0] = s;
}

const ONE: Record<"BF16" | "F16", number> = { BF16: 0x3f80, F16: 0x3c00 };

/**
 * Writes config.json, the shards and model.safetensors.index.json of a random model into `dir`
 * (created if needed). Norm weights are 1, biases 0, other weights uniform with the config's
 * initializer range. Peak memory: one shard.
 */
export async function writeRandomCheckpoint(
  dir: string,
  config: LmConfig,
  options: RandomCheckpointOptions = {},
): Promise<void> {
  const dtype = options.dtype ?? "BF16";
  const shardBytes = options.shardBytes ?? 2 ** 31;
  await mkdir(dir, { recursive: true });
  const state = new Uint32Array([(options.seed ?? 1) * 2654435761 || 1]);
  let size = 0;
  const plan = [...expectedTensorShapes(config)];
  // Group tensors into shards first: each shard is generated and written, then dropped.
  const groups: [string, number[]][][] = [[]];
  for (const [name, shape] of plan) {
    const bytes = numel(shape) * 2;
    if (size > 0 && size + bytes > shardBytes) {
      groups.push([]);
      size = 0;
    }
    groups[groups.length - 1].push([name, shape]);
    size += bytes;
  }
  const weightMap: Record<string, string> = {};
  let total = 0;
  for (let s = 0; s < groups.length; s++) {
    const file = `model-${String(s + 1).padStart(5, "0")}-of-${String(groups.length).padStart(5, "0")}.safetensors`;
    const entries: [string, RawTensor][] = groups[s].map(([name, shape]) => {
      const bits = new Uint16Array(numel(shape));
      if (name.endsWith("norm.weight")) bits.fill(ONE[dtype]);
      else if (!name.endsWith(".bias")) fillRandom(bits, config.initializerRange, dtype, state);
      weightMap[name] = file;
      total += bits.byteLength;
      return [name, { dtype, shape, bytes: new Uint8Array(bits.buffer) }];
    });
    await writeSafetensors(join(dir, file), entries);
  }
  await writeFileAtomic(
    join(dir, "model.safetensors.index.json"),
    `${JSON.stringify({ metadata: { total_size: total }, weight_map: weightMap }, null, 1)}\n`,
  );
  await writeFileAtomic(
    join(dir, "config.json"),
    `${JSON.stringify(lmConfigToJson(config), null, 2)}\n`,
  );
}
