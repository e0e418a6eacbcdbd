// The checkpoint phase: what a run checkpoint holds (loop state, optimizer moments, and the
// trained tensors as an adapter or a full model, read from the parameter store's model), written
// atomically to checkpoints/last or checkpoints/best. An item projection is folded into plain
// rows first (and kept beside them, to resume).

import { type CheckpointContents, saveRunCheckpoint } from "./checkpoint.js";
import { foldProjection } from "./item-init.js";
import type { TrainSession } from "./session.js";

/** A checkpoint of the session as it stands (between steps). */
export function checkpointContents(session: TrainSession): CheckpointContents {
  const { store, tokenizer } = session;
  // The projection's rows as plain rows: the saved model/adapter is a standard one.
  if (store.projection)
    foldProjection(store.projection, { weights: store.weights, tokens: store.adapter?.tokens });
  return {
    state: { ...session.state },
    optimizer: session.optimizer.state(),
    adapter: store.adapter && {
      ...store.adapter,
      // An adapter over item tokens needs their tokenizer to be usable.
      tokenizerDir: tokenizer.items ? tokenizer.dir : undefined,
    },
    model: store.adapter
      ? undefined
      : { config: store.config, weights: store.weights, tokenizerDir: tokenizer.dir },
    projection: store.projection,
  };
}

/** Writes checkpoints/last or checkpoints/best (replacing the previous one). */
export async function saveCheckpoint(session: TrainSession, which: "last" | "best"): Promise<void> {
  await saveRunCheckpoint(session.paths[which], checkpointContents(session));
}
