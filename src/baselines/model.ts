// A trained baseline behind the Recommender contract: catalog scores from the scoring program
// (or popularity counts for Pop), candidate scores picked out of them.

import type { Example } from "../data/types.js";
import { type CompiledGraph, Runtime } from "../graph/index.js";
import type {
  Recommender,
  RecommenderDescription,
  ScoreCandidatesOptions,
} from "../recommender.js";
import type { BaselineConfig } from "./config.js";
import { historyFeeds } from "./feeds.js";
import { countParams, type ParamValues, paramFeeds } from "./params.js";
import {
  isSequenceModel,
  type ModelSizes,
  modelShapes,
  type NeuralKind,
  scoreProgram,
} from "./programs.js";

/** A Pop or neural baseline ready to score. */
export class BaselineModel implements Recommender {
  private compiled: Promise<CompiledGraph> | null = null;
  private readonly ownsRuntime: boolean;
  private readonly runtime: Runtime;

  constructor(
    readonly config: BaselineConfig,
    readonly sizes: ModelSizes,
    /** Neural models: the parameters; Pop: `counts` [V]. */
    readonly params: ParamValues,
    options: { runtime?: Runtime; name?: string } = {},
  ) {
    this.ownsRuntime = !options.runtime;
    this.runtime = options.runtime ?? new Runtime({ threads: config.threads ?? undefined });
    this.name = options.name ?? config.kind;
  }

  readonly name: string;

  describe(): RecommenderDescription {
    const c = this.config;
    const details: Record<string, unknown> =
      c.kind === "pop"
        ? {}
        : {
            parameters: countParams(modelShapes(c, this.sizes)),
            hidden: c.hidden,
            inputLength: this.sizes.inputLen,
            ...(c.kind === "sasrec" ? { loss: c.loss, blocks: c.blocks, heads: c.heads } : {}),
          };
    return {
      kind: c.kind,
      name: this.name,
      items: "none",
      fullCatalog: true,
      generates: false,
      details,
    };
  }

  /** Full-catalog scores of histories (item ids, oldest first). */
  async scoreHistories(
    histories: readonly (readonly number[])[],
    options: { batchSize?: number; onProgress?: (done: number, total: number) => void } = {},
  ): Promise<Float32Array[]> {
    const V = this.sizes.numItems;
    if (this.config.kind === "pop") {
      const counts = this.params.get("counts")!;
      return histories.map(() => counts.slice());
    }
    this.compiled ??= (() => {
      const p = scoreProgram(this.config, this.sizes);
      return this.runtime.compile(p.graph, p.outputs);
    })();
    const graph = await this.compiled;
    const weights = paramFeeds(modelShapes(this.config, this.sizes), this.params);
    const batch = options.batchSize ?? 256;
    const out: Float32Array[] = [];
    const sequence = isSequenceModel(this.config.kind as NeuralKind);
    for (let i = 0; i < histories.length; i += batch) {
      const part = histories.slice(i, i + batch);
      const feeds = historyFeeds(part, this.sizes.inputLen, V, sequence);
      const res = await graph.run({ ...weights, ...feeds });
      const data = res.scores.data as Float32Array;
      for (let b = 0; b < part.length; b++) out.push(data.slice(b * V, (b + 1) * V));
      options.onProgress?.(Math.min(histories.length, i + batch), histories.length);
    }
    return out;
  }

  async scoreAll(
    examples: readonly Example[],
    options: Omit<ScoreCandidatesOptions, "variant"> = {},
  ): Promise<Float32Array[]> {
    return this.scoreHistories(
      examples.map((e) => e.history.map((h) => h.item)),
      options,
    );
  }

  async scoreCandidates(
    examples: readonly Example[],
    options: ScoreCandidatesOptions = {},
  ): Promise<number[][]> {
    const V = this.sizes.numItems;
    for (const e of examples) {
      for (const c of [...e.candidates, ...e.history]) {
        if (!(c.item >= 0 && c.item < V)) {
          throw new Error(
            `${e.id}: item ${c.item} is outside this model's catalog of ${V} items (a different dataset?)`,
          );
        }
      }
    }
    const all = await this.scoreAll(examples, options);
    return examples.map((e, i) => e.candidates.map((c) => all[i][c.item]));
  }

  async dispose(): Promise<void> {
    this.compiled = null;
    if (this.ownsRuntime) await this.runtime.dispose();
  }
}
