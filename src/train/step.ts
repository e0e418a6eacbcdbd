// The step phase: one optimizer step — `gradAccum` micro-batches in the seeded order, gradients
// accumulated, clipped by global norm, AdamW with the cosine schedule — and its metrics line.

import type { Feed } from "../graph/index.js";
import type { TokenizedExample } from "../model/tokenizer/tokenize.js";
import { batchFeeds, dropoutSeed, shuffled } from "./batches.js";
import { TrainingError } from "./errors.js";
import { clipGradNorm } from "./optim.js";
import { saveCheckpoint } from "./save.js";
import { cosineWithWarmup } from "./schedule.js";
import type { TrainSession } from "./session.js";

/** The feeds of a batch for the step or loss program (prompts once, 1+K answers, reference…). */
export function feedsFor(
  session: TrainSession,
  batch: readonly TokenizedExample[],
): Record<string, Feed> {
  const c = session.store.config;
  const items = session.tokenizer.items;
  return batchFeeds(batch, {
    items: items
      ? {
          first: items.firstId,
          last: items.unkId,
          candidatesInPrompt: items.candidates === "shown",
        }
      : null,
    answers: session.answers,
    padId: c.padTokenId ?? c.eosTokenIds[0] ?? 0,
    objective: session.config.objective,
    reference: session.reference,
  });
}

/** What one step measured (the metrics.jsonl line, less timing and elapsed). */
export interface StepResult {
  loss: number;
  entry: Record<string, unknown>;
}

/** The epoch order of the training examples (one epoch's permutation kept at a time). */
export class EpochOrder {
  private epoch = -1;
  private order: number[] = [];
  constructor(
    private readonly n: number,
    private readonly seed: number,
  ) {}
  of(epoch: number): number[] {
    if (epoch !== this.epoch) {
      this.order = shuffled(this.n, this.seed, epoch);
      this.epoch = epoch;
    }
    return this.order;
  }
}

/**
 * Runs one optimizer step and advances `session.state`. A non-finite loss or gradient saves the
 * last good state and throws (the step is not applied).
 */
export async function trainStep(
  session: TrainSession,
  orders: EpochOrder,
  accum: Map<string, Float32Array>,
): Promise<StepResult> {
  const { config, state, step } = session;
  const t0 = performance.now();
  for (const a of accum.values()) a.fill(0);
  let lossSum = 0;
  let batchExamples = 0;
  let batchTokens = 0;
  const metricSums: Record<string, number> = {};
  for (let micro = 0; micro < config.gradAccum; micro++) {
    const order = orders.of(state.epoch);
    const ids = order.slice(state.position, state.position + config.batchSize);
    state.position += ids.length;
    if (state.position >= order.length) {
      state.epoch++;
      state.position = 0;
    }
    const batch = ids.map((i) => {
      const e = session.data.train.get(i);
      if (!e) throw new Error(`training example ${i} was not prepared in setup`);
      return e;
    });
    const feeds: Record<string, Feed> = {
      ...step.program.model.feeds,
      ...session.store.feeds(),
      ...feedsFor(session, batch),
    };
    if (session.dropout > 0)
      feeds.dropout_seed = {
        data: new BigInt64Array([BigInt(dropoutSeed(config.seed, state.step, micro))]),
        shape: [],
      };
    const out = await step.graph.run(feeds);
    lossSum += out.loss.data[0] as number;
    batchExamples += batch.length;
    // Tokens the step processed: each prompt once, plus every answer scored.
    for (const e of batch)
      batchTokens +=
        e.prompt.length + e.answers.slice(0, session.answers).reduce((t, a) => t + a.length, 0);
    for (const [name, gradName] of step.program.gradientNames) {
      const g = out[gradName].data as Float32Array;
      const a = accum.get(name)!;
      for (let i = 0; i < g.length; i++) a[i] += g[i] / config.gradAccum;
    }
    for (const name of step.program.metricNames) {
      const values = out[`metric:${name}`].data as Float32Array;
      metricSums[name] = (metricSums[name] ?? 0) + values.reduce((s, v) => s + v, 0);
    }
  }
  const loss = lossSum / config.gradAccum;
  const grads = Object.fromEntries(accum);
  const gradNorm = clipGradNorm(grads, config.maxGradNorm);
  if (!Number.isFinite(loss) || !Number.isFinite(gradNorm)) {
    await saveCheckpoint(session, "last");
    throw new TrainingError(
      `step ${state.step + 1}: the loss is ${loss} (gradient norm ${gradNorm}); training stopped, the last good state is in ${session.paths.last}`,
    );
  }
  const lr = cosineWithWarmup(config.lr, state.step, session.totalSteps, session.warmup);
  session.optimizer.update(grads, lr);
  state.step++;
  state.examples += batchExamples;
  const seconds = (performance.now() - t0) / 1000;
  const entry: Record<string, unknown> = {
    step: state.step,
    epoch: Number((state.epoch + state.position / session.data.trainCount).toFixed(4)),
    lr,
    loss,
    grad_norm: gradNorm,
    examples_per_s: batchExamples / seconds,
    tokens_per_s: batchTokens / seconds,
  };
  for (const [name, sum] of Object.entries(metricSums)) entry[name] = sum / batchExamples;
  return { loss, entry };
}
