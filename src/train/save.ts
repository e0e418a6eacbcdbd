// The checkpoint phase: what a run checkpoint holds (loop state, optimizer moments, and the
// trained tensors as an adapter or a full model, read from the parameter store's model), written
// atomically to checkpoints/last or checkpoints/best.

import { type CheckpointContents, saveRunCheckpoint } from "./checkpoint.js";
import type { TrainSession } from "./session.js";

/** A checkpoint of the session as it stands (between steps). */
export function checkpointContents(session: TrainSession): CheckpointContents {
  const { store } = session;
  return {
    state: { ...session.state },
    optimizer: session.optimizer.state(),
    adapter: store.adapter,
    model: store.adapter
      ? undefined
      : { config: store.config, weights: store.weights, tokenizerDir: session.tokenizer.dir },
  };
}

/** Writes checkpoints/last or checkpoints/best (replacing the previous one). */
export async function saveCheckpoint(session: TrainSession, which: "last" | "best"): Promise<void> {
  await saveRunCheckpoint(session.paths[which], checkpointContents(session));
}
