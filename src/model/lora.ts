// Engine-independent LoRA helpers: which modules to adapt, PEFT's default initialization
// (A ~ kaiming-uniform(a=√5) = U(±1/√in), B = 0), and merging ΔW = scaling·B·A into base weights.

import { UserError } from "../io/errors.js";
import { createRng } from "../io/rng.js";
import type { LmConfig } from "./config.js";
import { PROJECTIONS, type Projection, projectionModule, projectionShape } from "./names.js";
import type { LoraAdapterConfig, LoraWeights } from "./peft.js";
import { loraScaling } from "./peft.js";
import type { Weights } from "./weights.js";

/** Module paths of every targeted projection, layer by layer, with their [out, in] shapes. */
export function loraModules(
  config: LmConfig,
  targets: readonly Projection[],
): Map<string, [number, number]> {
  for (const t of targets) {
    if (!PROJECTIONS.includes(t))
      throw new UserError(`unknown LoRA target "${t}" (one of ${PROJECTIONS.join(", ")})`);
  }
  const out = new Map<string, [number, number]>();
  for (let layer = 0; layer < config.numLayers; layer++) {
    for (const p of PROJECTIONS)
      if (targets.includes(p)) out.set(projectionModule(layer, p), projectionShape(config, p));
  }
  return out;
}

/** Fresh LoRA factors as PEFT initializes them, determined by `seed`: B = 0, so the model is unchanged. */
export function initLoraWeights(
  config: LmConfig,
  targets: readonly Projection[],
  r: number,
  seed: number,
): LoraWeights {
  if (!Number.isInteger(r) || r <= 0)
    throw new UserError(`LoRA rank must be a positive integer, got ${r}`);
  const rng = createRng(seed);
  const weights: LoraWeights = new Map();
  for (const [module, [out, inp]] of loraModules(config, targets)) {
    const bound = 1 / Math.sqrt(inp);
    const A = new Float32Array(r * inp);
    for (let i = 0; i < A.length; i++) A[i] = (2 * rng.uniform() - 1) * bound;
    weights.set(module, {
      A: { shape: [r, inp], data: A },
      B: { shape: [out, r], data: new Float32Array(out * r) },
    });
  }
  return weights;
}

/** The sorted projection names that a set of factors adapts (adapter_config.json's target_modules). */
export function targetModulesOf(weights: LoraWeights): string[] {
  const names = new Set<string>();
  for (const module of weights.keys()) names.add(module.slice(module.lastIndexOf(".") + 1));
  return [...names].sort();
}

/** Base weights with every adapter merged in (W + scaling·B·A); the inputs are not modified. */
export function mergeLora(
  base: Weights,
  adapter: LoraWeights,
  config: Pick<LoraAdapterConfig, "r" | "loraAlpha" | "useRslora">,
): Weights {
  const scaling = loraScaling(config);
  const merged: Weights = new Map(base);
  for (const [module, { A, B }] of adapter) {
    const name = `${module}.weight`;
    const w = base.get(name);
    if (w === undefined) throw new Error(`LoRA module ${module} has no base weight ${name}`);
    const [out, inp] = w.shape;
    const r = A.shape[0];
    if (A.shape[1] !== inp || B.shape[0] !== out || B.shape[1] !== r) {
      throw new Error(
        `LoRA module ${module}: A [${A.shape}] and B [${B.shape}] do not fit weight [${w.shape}]`,
      );
    }
    const data = Float32Array.from(w.data);
    for (let o = 0; o < out; o++) {
      for (let k = 0; k < r; k++) {
        const b = B.data[o * r + k] * scaling;
        if (b === 0) continue;
        const row = o * inp;
        const aRow = k * inp;
        for (let i = 0; i < inp; i++) data[row + i] += b * A.data[aRow + i];
      }
    }
    merged.set(name, { shape: [...w.shape], data });
  }
  return merged;
}
