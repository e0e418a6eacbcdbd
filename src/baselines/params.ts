// Named parameters of the baselines: shapes, seeded initialization, and how a graph sees them
// (every parameter is a graph input, so one compiled program serves every step).

import type { DType, Graph, Value } from "../graph/index.js";
import { createRng } from "../io/rng.js";

/** Parameter name → shape. */
export type ParamShapes = Record<string, number[]>;

/** Parameter name → values (row-major), float32. */
export type ParamValues = Map<string, Float32Array>;

/** What an encoder needs: its parameters as graph values, train/eval mode and a dropout seed. */
export interface EncoderContext {
  P: (name: string) => Value;
  train: boolean;
  /** int64 scalar; absent: no dropout. */
  seed?: Value;
}

/**
 * Seeded initialization: 2-D weights Xavier-normal (std √(2/(fan_in+fan_out)), as SASRec's
 * reference code does for every matrix, embeddings included), layer-norm gains 1, other 1-D
 * tensors (biases) 0.
 */
export function initParams(shapes: ParamShapes, seed: number): ParamValues {
  const out: ParamValues = new Map();
  for (const [name, shape] of Object.entries(shapes)) {
    const rng = createRng(seed).fork(`init:${name}`);
    const size = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(size);
    if (shape.length === 2) {
      const std = Math.sqrt(2 / (shape[0] + shape[1]));
      for (let i = 0; i < size; i++) data[i] = rng.normal() * std;
    } else if (name.endsWith(".gain")) data.fill(1);
    out.set(name, data);
  }
  return out;
}

/** Declares every parameter as a graph input `param:<name>` and returns the accessor. */
export function paramInputs(
  graph: Graph,
  shapes: ParamShapes,
  dtype: DType = "float32",
): { P: (name: string) => Value; values: Map<string, Value> } {
  const values = new Map<string, Value>();
  for (const [name, shape] of Object.entries(shapes)) {
    values.set(name, graph.input(`param:${name}`, dtype, shape));
  }
  const P = (name: string) => {
    const v = values.get(name);
    if (!v) throw new Error(`unknown parameter ${name}`);
    return v;
  };
  return { P, values };
}

/** Feeds for the parameter inputs. */
export function paramFeeds(
  shapes: ParamShapes,
  values: ParamValues,
): Record<string, { data: Float32Array; shape: number[] }> {
  const feeds: Record<string, { data: Float32Array; shape: number[] }> = {};
  for (const [name, shape] of Object.entries(shapes)) {
    feeds[`param:${name}`] = { data: values.get(name)!, shape };
  }
  return feeds;
}

/** Number of scalar parameters. */
export function countParams(shapes: ParamShapes): number {
  return Object.values(shapes).reduce((s, sh) => s + sh.reduce((a, b) => a * b, 1), 0);
}
