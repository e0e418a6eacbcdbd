// Run checkpoints: the trainable tensors (a PEFT adapter or a full model directory), the
// optimizer's moments, and the loop state (step, data position), written atomically.

import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { withAtomicDir, writeFileAtomic } from "../io/atomic.js";
import { UserError } from "../io/errors.js";
import { withSafetensors, writeSafetensors } from "../io/safetensors.js";
import { saveCheckpoint } from "../model/checkpoint.js";
import type { LmConfig } from "../model/config.js";
import { type ItemProjection, PROJECTION_FEEDS } from "../model/graph/params.js";
import { type LoraAdapterConfig, type LoraWeights, saveLoraAdapter } from "../model/peft.js";
import type { TrainableTokens } from "../model/peft-tokens.js";
import type { Weights } from "../model/weights.js";
import { projectionFile } from "./item-init.js";
import type { AdamWState } from "./optim.js";

/** Where the loop stands; enough to continue exactly. */
export interface LoopState {
  /** Optimizer steps done. */
  step: number;
  /** Training examples consumed in total. */
  examples: number;
  /** Epoch of the next micro-batch and its position in that epoch's order. */
  epoch: number;
  position: number;
  /** The best checkpoint's validation loss and HR@1 (`selectBy` says which one chose it). */
  bestValidLoss: number | null;
  /** Absent in checkpoints written before `selectBy`. */
  bestValidHr1?: number | null;
  bestStep: number | null;
  /** Seconds of training before this checkpoint (resumed runs add to it). */
  elapsed: number;
}

export interface CheckpointContents {
  state: LoopState;
  optimizer: AdamWState;
  /** LoRA runs: the adapter (with its token rows, and the tokenizer that added them). */
  adapter?: {
    config: LoraAdapterConfig;
    weights: LoraWeights;
    tokens?: TrainableTokens;
    tokenizerDir?: string;
  };
  /** Full runs: the model. */
  model?: { config: LmConfig; weights: Weights; tokenizerDir: string };
  /** `itemInit` runs: the projection (already folded into the adapter or model). */
  projection?: ItemProjection;
}

/** Writes a checkpoint directory (replacing an earlier one of the same name). */
export async function saveRunCheckpoint(dir: string, c: CheckpointContents): Promise<void> {
  await withAtomicDir(
    dir,
    async (tmp) => {
      if (c.adapter)
        await saveLoraAdapter(join(tmp, "adapter"), c.adapter.config, c.adapter.weights, {
          tokens: c.adapter.tokens,
          tokenizerDir: c.adapter.tokenizerDir,
        });
      if (c.projection) {
        const p = c.projection;
        await writeSafetensors(
          projectionFile(tmp),
          [
            [PROJECTION_FEEDS.source, p.source],
            [PROJECTION_FEEDS.weight, p.weight],
            [PROJECTION_FEEDS.bias, p.bias],
          ],
          { module: p.module, indices: JSON.stringify(p.indices) },
        );
      }
      if (c.model) {
        await saveCheckpoint(
          join(tmp, "model"),
          { config: c.model.config, weights: c.model.weights },
          {
            tokenizerDir: c.model.tokenizerDir,
          },
        );
      }
      await writeSafetensors(
        join(tmp, "optimizer.safetensors"),
        Object.entries(c.optimizer.tensors).map(
          ([name, data]) => [name, { shape: [data.length], data }] as const,
        ),
        { step: String(c.optimizer.step), hyper: JSON.stringify(c.optimizer.hyper) },
      );
      await writeFileAtomic(join(tmp, "state.json"), `${JSON.stringify(c.state, null, 2)}\n`);
    },
    { replace: true },
  );
}

/** Reads the loop and optimizer state of a checkpoint (weights are loaded by the caller). */
export async function loadRunState(
  dir: string,
): Promise<{ state: LoopState; optimizer: AdamWState }> {
  const state = JSON.parse(await readFile(join(dir, "state.json"), "utf8")) as LoopState;
  const file = join(dir, "optimizer.safetensors");
  const { meta, tensors } = await withSafetensors(file, async (st) => {
    const out: Record<string, Float32Array> = {};
    for (const name of st.names()) out[name] = (await st.readF32(name)).data;
    return { meta: st.header.metadata ?? {}, tensors: out };
  });
  if (meta.step === undefined || meta.hyper === undefined) {
    throw new UserError(`${file}: missing the optimizer's step/hyper metadata`);
  }
  const optimizer: AdamWState = { step: Number(meta.step), hyper: JSON.parse(meta.hyper), tensors };
  return { state, optimizer };
}
