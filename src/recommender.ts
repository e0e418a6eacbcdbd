// The contract every model kind implements — the language model (title, id or hybrid items, full
// weights or a LoRA adapter on a base) and the classic recommenders (Pop, SASRec, GRU4Rec, Caser).
// The evaluator, the experiment table, the trainer's validation and the server talk to this
// contract only, so every table compares like with like on the same candidate lists.

import type { Example } from "./data/types.js";

/** How a model represents items (recorded with every run and result). */
export type ItemRepresentation = "title" | "id" | "hybrid" | "none";

/** What a recommender is, for reports and the server's `model` field. */
export interface RecommenderDescription {
  /** Model kind: "lm", "sasrec", "gru4rec", "caser", "pop", … */
  kind: string;
  /** A human-readable name (run directory, preset, checkpoint). */
  name: string;
  /** Item representation ("none" for ID-based classic models). */
  items: ItemRepresentation;
  /** Whether `scoreAll` is available (full-catalog ranking). */
  fullCatalog: boolean;
  /** Whether the model can generate free text (generation protocols apply). */
  generates: boolean;
  /** Anything else worth printing next to a result (parameters, preset, adapter rank…). */
  details?: Record<string, unknown>;
}

/** Options a caller may pass to candidate scoring. */
export interface ScoreCandidatesOptions {
  /** LMs: "sum" ranks by summed answer log-prob (default), "mean" by log-prob per answer token. */
  variant?: "sum" | "mean";
  /** Examples scored per engine run (a memory/speed trade-off; never changes results). */
  batchSize?: number;
  /** Called after each batch with the number of examples done. */
  onProgress?: (done: number, total: number) => void;
}

/** A sequential recommender: scores a prepared example's candidates and, where it can, the catalog. */
export interface Recommender {
  describe(): RecommenderDescription;
  /**
   * One row per example, one score per entry of `example.candidates` in that order; higher is
   * better. Ties are broken by the evaluator against the target (ties count as misses).
   */
  scoreCandidates(
    examples: readonly Example[],
    options?: ScoreCandidatesOptions,
  ): Promise<number[][]>;
  /**
   * Full-catalog scores: one Float32Array per example indexed by the dense item id (the line
   * number of items.jsonl); absent when the model cannot score the catalog. The evaluator masks
   * seen items itself.
   */
  scoreAll?(
    examples: readonly Example[],
    options?: Omit<ScoreCandidatesOptions, "variant">,
  ): Promise<Float32Array[]>;
  /**
   * Tokens of each candidate's answer, per example (a language model's scoring cost and memory
   * grow with candidates × longest answer); absent where every candidate costs the same.
   */
  answerLengths?(examples: readonly Example[]): number[][];
  /** Releases engine sessions and buffers. */
  dispose?(): Promise<void>;
}

/** Whether `recommender` ranks the whole catalog: it says so (`describe().fullCatalog`) and has
 *  `scoreAll` (an LM with title items has the method but not the item tokens it needs). */
export function scoresCatalog(
  recommender: Recommender,
): recommender is Recommender & Required<Pick<Recommender, "scoreAll">> {
  return recommender.describe().fullCatalog && recommender.scoreAll !== undefined;
}
