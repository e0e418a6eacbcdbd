// The trainable tensors of a run, owned by the trainer. Who may touch each Float32Array:
//
// - The store holds exactly one array per trainable tensor (a LoRA factor and the adapter's
//   token rows, or with full fine-tuning every weight; with `itemInit` also the item
//   projection's W and b), keyed by its graph feed name. They are the arrays of the run's
//   model (`weights`) or adapter (`adapter.weights`): one copy in memory, shared on purpose and
//   only in the ways listed here.
// - Writers: the optimizer (AdamW.update, once per step, handed `writable()` at setup) and
//   `restore()` (resume, before the first step). Nothing else writes them. (Folding the item
//   projection into rows before a checkpoint writes rows the graph does not read while the
//   projection replaces them: item-init.ts.)
// - Readers: the step and loss programs get them as feeds from `feeds()` at every run (so they
//   never depend on what a program captured when it was built); the validation model and the
//   checkpoint writer read the model/adapter that holds them, between steps, never during one.
// - The reference model never sees them: LoRA runs give it a copy of the starting adapter
//   (`cloneLora`), full runs score the reference once, before the first update.

import { join } from "node:path";
import { readSafetensorsF32 } from "../io/safetensors.js";
import { loadCheckpoint } from "../model/checkpoint.js";
import type { LmConfig } from "../model/config.js";
import { type ItemProjection, PROJECTION_FEEDS } from "../model/graph/params.js";
import type { Adapter } from "../model/lm.js";
import { type LoraWeights, loadLoraAdapter } from "../model/peft.js";
import { tokenRowsFeed } from "../model/peft-tokens.js";
import type { Weights } from "../model/weights.js";
import { projectionFile } from "./item-init.js";

/** The trainable tensors of a run and the model they belong to. */
export class ParameterStore {
  private readonly tensors: ReadonlyMap<string, Float32Array>;

  /**
   * `trainable`: feed name → array, as the step program bound them (`program.model.trainable`
   * names, `program.model.feeds` arrays); each must be an array of `weights` or the adapter.
   */
  constructor(
    readonly config: LmConfig,
    readonly weights: Weights,
    readonly adapter: Adapter | undefined,
    trainable: ReadonlyMap<string, Float32Array>,
    readonly projection?: ItemProjection,
  ) {
    const owned = new Set<Float32Array>();
    for (const t of weights.values()) owned.add(t.data);
    for (const { A, B } of adapter?.weights.values() ?? []) {
      owned.add(A.data);
      owned.add(B.data);
    }
    for (const t of adapter?.tokens?.values() ?? []) owned.add(t.rows.data);
    if (projection) for (const t of [projection.weight, projection.bias]) owned.add(t.data);
    for (const [name, data] of trainable) {
      if (!owned.has(data))
        throw new Error(`ParameterStore: ${name} is not a tensor of the run's model or adapter`);
    }
    this.tensors = trainable;
  }

  /** Whether the run trains a LoRA adapter (else every weight). */
  get lora(): boolean {
    return this.adapter !== undefined;
  }

  names(): string[] {
    return [...this.tensors.keys()];
  }

  /** Feeds of the trainable tensors for a program run (read-only use). */
  feeds(): Record<string, Float32Array> {
    return Object.fromEntries(this.tensors);
  }

  /** The arrays the optimizer updates in place (the one writer during training). */
  writable(): ReadonlyMap<string, Float32Array> {
    return this.tensors;
  }

  /** Copies a checkpoint's trained tensors into the store (resume; before the first step). */
  async restore(checkpointDir: string): Promise<void> {
    if (this.lora) {
      const { weights, tokens } = await loadLoraAdapter(join(checkpointDir, "adapter"));
      for (const [module, { A, B }] of weights) {
        this.tensors.get(`${module}.lora_A`)?.set(A.data);
        this.tensors.get(`${module}.lora_B`)?.set(B.data);
      }
      for (const [module, t] of tokens ?? []) {
        this.tensors.get(tokenRowsFeed(module))?.set(t.rows.data);
        // Rows the projection replaces are not trained, but are the saved ones: keep them.
        this.adapter?.tokens?.get(module)?.rows.data.set(t.rows.data);
      }
    } else {
      const { weights } = await loadCheckpoint(join(checkpointDir, "model"));
      for (const [name, t] of weights) this.tensors.get(name)?.set(t.data);
    }
    if (this.projection) {
      const saved = await readSafetensorsF32(projectionFile(checkpointDir));
      for (const name of [PROJECTION_FEEDS.weight, PROJECTION_FEEDS.bias])
        this.tensors.get(name)?.set(saved.get(name)!.data);
      // The SASRec table the run started with, even if that run was retrained since (frozen,
      // fed live like every frozen tensor of a training graph).
      this.projection.source.data.set(saved.get(PROJECTION_FEEDS.source)!.data);
    }
  }
}

/** A deep copy of LoRA factors (the frozen reference must not follow the trained adapter). */
export function cloneLora(weights: LoraWeights): LoraWeights {
  const out: LoraWeights = new Map();
  for (const [m, { A, B }] of weights) {
    out.set(m, {
      A: { shape: [...A.shape], data: A.data.slice() },
      B: { shape: [...B.shape], data: B.data.slice() },
    });
  }
  return out;
}
