// The graphs of each baseline: the training step (loss + gradients of every parameter) and the
// scoring program (scores of the whole catalog after a history).

import {
  add,
  crossEntropy,
  type DType,
  Graph,
  gather,
  grad,
  matmul,
  mul,
  neg,
  reciprocal,
  reduceSum,
  reshape,
  softplus,
  transpose,
  unsqueeze,
  type Value,
} from "../graph/index.js";
import { type CaserShape, caserEncode, caserShapes } from "./caser.js";
import type { BaselineConfig } from "./config.js";
import { gru4recEncode, gru4recShapes } from "./gru4rec.js";
import { type EncoderContext, type ParamShapes, paramInputs } from "./params.js";
import { sasrecEncode, sasrecShapes } from "./sasrec.js";

export type NeuralKind = "sasrec" | "gru4rec" | "caser";

/** Static sizes a model is built with. */
export interface ModelSizes {
  numItems: number;
  /** Input length: T for SASRec/GRU4Rec, the window L for Caser. */
  inputLen: number;
}

/** Whether the model reads a causal sequence (every position predicts) or one window. */
export const isSequenceModel = (kind: NeuralKind): boolean => kind !== "caser";

/** Parameter shapes of a model. */
export function modelShapes(c: BaselineConfig, sizes: ModelSizes): ParamShapes {
  switch (c.kind) {
    case "sasrec":
      return sasrecShapes(c, sizes.numItems, sizes.inputLen);
    case "gru4rec":
      return gru4recShapes(c, sizes.numItems);
    case "caser":
      return caserShapes(caserShape(c, sizes), sizes.numItems);
    default:
      throw new Error(`${c.kind} has no parameters`);
  }
}

const caserShape = (c: BaselineConfig, sizes: ModelSizes): CaserShape => ({
  hidden: c.hidden,
  window: sizes.inputLen,
  hFilters: c.hFilters,
  vFilters: c.vFilters,
});

/** Hidden states: [B, T, D] for sequence models, [B, D] for Caser. */
export function encode(
  c: BaselineConfig,
  sizes: ModelSizes,
  ctx: EncoderContext,
  items: Value,
): Value {
  switch (c.kind) {
    case "sasrec":
      return sasrecEncode(ctx, c, items);
    case "gru4rec":
      return gru4recEncode(ctx, c, items);
    case "caser":
      return caserEncode(ctx, { ...caserShape(c, sizes), dropout: c.dropout }, items);
    default:
      throw new Error(`${c.kind} has no encoder`);
  }
}

/** Catalog scores [..., V] of hidden states [..., D]. */
export function catalogLogits(c: BaselineConfig, P: (n: string) => Value, h: Value): Value {
  if (c.kind === "sasrec") return matmul(h, transpose(P("item_emb"), [1, 0]));
  return add(matmul(h, transpose(P("out_emb"), [1, 0])), P("out_bias"));
}

/** The graph inputs of a training loss (see `trainProgram`). */
export interface LossInputs {
  items: Value;
  targets: Value;
  count: Value;
  negatives?: Value;
  mask?: Value;
}

/** Mean training loss over the batch's targets: ce over the catalog, or SASRec's bce. */
export function trainingLoss(
  c: BaselineConfig,
  sizes: ModelSizes,
  ctx: EncoderContext,
  inp: LossInputs,
): Value {
  const h = encode(c, sizes, ctx, inp.items);
  let total: Value;
  if (inp.negatives && inp.mask) {
    // Padding targets are fed as item 0 here; the mask removes them.
    const E = ctx.P("item_emb");
    const pos = reduceSum(mul(h, gather(E, inp.targets, 0)), [-1]);
    const negScore = reduceSum(mul(h, gather(E, inp.negatives, 0)), [-1]);
    // −log σ(pos) − log(1 − σ(neg)) = softplus(−pos) + softplus(neg).
    total = reduceSum(mul(add(softplus(neg(pos)), softplus(negScore)), inp.mask));
  } else {
    total = reduceSum(crossEntropy(catalogLogits(c, ctx.P, h), inp.targets, -100));
  }
  return mul(total, reciprocal(inp.count));
}

export interface TrainProgram {
  graph: Graph;
  outputs: Record<string, Value>;
  /** Parameter name → output name of its gradient. */
  gradients: Map<string, string>;
}

/**
 * The training step. Inputs: `items` [B, T] (int64; Caser: windows [B, L]), `targets` [B, T]
 * (−100 = no target; Caser: [B]), `count` (number of targets, float scalar), `dropout_seed`;
 * SASRec bce adds `negatives` [B, T] and `mask` [B, T] (1 where a target exists).
 */
export function trainProgram(
  c: BaselineConfig,
  sizes: ModelSizes,
  dtype: DType = "float32",
  withGradients = true,
): TrainProgram {
  const g = new Graph(`${c.kind}-train`);
  const shapes = modelShapes(c, sizes);
  const { P, values } = paramInputs(g, shapes, dtype);
  const seq = isSequenceModel(c.kind as NeuralKind);
  const items = g.input("items", "int64", ["B", sizes.inputLen]);
  const targets = g.input("targets", "int64", seq ? ["B", sizes.inputLen] : ["B"]);
  const count = g.input("count", dtype, []);
  const seed = g.input("dropout_seed", "int64", []);
  const bce = c.kind === "sasrec" && c.loss === "bce";
  const loss = trainingLoss(
    c,
    sizes,
    { P, train: true, seed },
    {
      items,
      targets,
      count,
      negatives: bce ? g.input("negatives", "int64", ["B", sizes.inputLen]) : undefined,
      mask: bce ? g.input("mask", dtype, ["B", sizes.inputLen]) : undefined,
    },
  );
  const outputs: Record<string, Value> = { loss };
  const gradients = new Map<string, string>();
  if (withGradients) {
    const names = [...values.keys()];
    const grads = grad(loss, [...values.values()]);
    names.forEach((name, i) => {
      gradients.set(name, `grad:${name}`);
      outputs[`grad:${name}`] = grads[i];
    });
  }
  return { graph: g, outputs, gradients };
}

/**
 * The scoring program: `items` [B, T] with `pick` [B, T] (one-hot of the last real position) for
 * sequence models, or windows [B, L] for Caser → `scores` [B, V].
 */
export function scoreProgram(
  c: BaselineConfig,
  sizes: ModelSizes,
): { graph: Graph; outputs: { scores: Value } } {
  const g = new Graph(`${c.kind}-score`);
  const { P } = paramInputs(g, modelShapes(c, sizes));
  const items = g.input("items", "int64", ["B", sizes.inputLen]);
  let h = encode(c, sizes, { P, train: false }, items);
  if (isSequenceModel(c.kind as NeuralKind)) {
    const pick = g.input("pick", "float32", ["B", sizes.inputLen]);
    h = reshape(matmul(unsqueeze(pick, [1]), h), ["B", c.hidden]);
  }
  return { graph: g, outputs: { scores: catalogLogits(c, P, h) } };
}
