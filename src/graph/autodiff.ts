// Reverse-mode differentiation: appends gradient nodes to the same graph, one VJP per node.

import { isFloat } from "./dtype.js";
import { GraphError, type Value } from "./graph.js";
import { add } from "./ops/elementwise.js";
import { onesLike, zerosLike } from "./ops/shape.js";
import { opDefinition } from "./registry.js";

/**
 * Gradients of `loss` with respect to each of `wrt`, as new Values in the same graph.
 * `loss` must be a scalar unless `seed` (the gradient of some scalar w.r.t. `loss`) is given.
 * Only nodes on a path from `wrt` to `loss` get gradient nodes; a `wrt` that does not influence
 * the loss gets zeros.
 */
export function grad(loss: Value, wrt: readonly Value[], seed?: Value): Value[] {
  const graph = loss.graph;
  if (!isFloat(loss.dtype)) throw new GraphError(`grad: the loss ${loss} is not a float tensor`);
  if (!seed && loss.rank !== 0) {
    throw new GraphError(`grad: the loss ${loss} is not a scalar; pass a seed gradient`);
  }
  for (const w of wrt) {
    if (w.graph !== graph) throw new GraphError(`grad: ${w} belongs to another graph`);
    if (!isFloat(w.dtype)) throw new GraphError(`grad: cannot differentiate w.r.t. ${w}`);
  }

  graph.markBackward();
  // Forward pass over the node list (creation order is topological): which values depend on wrt.
  const influenced = new Set<number>(wrt.map((w) => w.id));
  const lastNode = graph.nodes.indexOf(loss.producer);
  const nodes = graph.nodes.slice(0, lastNode + 1);
  for (const node of nodes) {
    if (node.inputs.some((v) => influenced.has(v.id))) {
      for (const out of node.outputs) if (isFloat(out.dtype)) influenced.add(out.id);
    }
  }

  const grads = new Map<number, Value>();
  grads.set(loss.id, seed ?? onesLike(loss));
  for (let i = nodes.length - 1; i >= 0; i--) {
    const node = nodes[i];
    const gradOutputs = node.outputs.map((o) => grads.get(o.id) ?? null);
    if (gradOutputs.every((g) => g === null)) continue;
    const needed = node.inputs.map((v) => influenced.has(v.id));
    if (!needed.some(Boolean)) continue;
    const def = opDefinition(node.op);
    if (!def.vjp) {
      throw new GraphError(
        `grad: op ${node.op} has no gradient rule, but the loss depends on ${node.outputs[0]} through it`,
      );
    }
    const gradInputs = def.vjp(node, gradOutputs);
    node.inputs.forEach((input, j) => {
      const g = gradInputs[j];
      if (!needed[j] || !g) return;
      const previous = grads.get(input.id);
      grads.set(input.id, previous ? add(previous, g) : g);
    });
  }
  return wrt.map((w) => grads.get(w.id) ?? zerosLike(w));
}
