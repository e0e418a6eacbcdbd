// Indexing (gather), index ranges and triangular masks; gathers' gradients scatter with addition.

import { type Dim, dimSub, isStatic } from "../dim.js";
import { type DType, ONNX_DTYPE } from "../dtype.js";
import { type Graph, GraphError, type Value } from "../graph.js";
import { attrInt, defineOp, emitFilled, type LowerContext, lowerAs } from "../registry.js";
import { lessOrEqual } from "./elementwise.js";
import { transpose, unsqueeze } from "./shape.js";
import { normalizeAxis, requireDtype } from "./util.js";

/** data.take(indices, axis): out = data[:axis] + indices.shape + data[axis+1:]. */
export function gather(data: Value, indices: Value, axis = 0): Value {
  requireDtype("Gather", indices, "int64");
  const a = normalizeAxis("Gather", axis, data.rank);
  const shape = [...data.shape.slice(0, a), ...indices.shape, ...data.shape.slice(a + 1)];
  return data.graph.addNode("Gather", [data, indices], { axis: a }, [{ dtype: data.dtype, shape }])
    .outputs[0];
}

/** out[i][j] = data[indices[i][j]][j] (for axis 0), out has the shape of indices. */
export function gatherElements(data: Value, indices: Value, axis: number): Value {
  requireDtype("GatherElements", indices, "int64");
  const a = normalizeAxis("GatherElements", axis, data.rank);
  if (indices.rank !== data.rank) {
    throw new GraphError(`GatherElements: indices ${indices} and data ${data} differ in rank`);
  }
  indices.shape.forEach((d, i) => {
    if (i !== a && d !== data.shape[i] && d !== 1 && isStatic(d) && isStatic(data.shape[i])) {
      if (d > (data.shape[i] as number)) {
        throw new GraphError(`GatherElements: indices ${indices} exceed data ${data} on axis ${i}`);
      }
    }
  });
  return data.graph.addNode("GatherElements", [data, indices], { axis: a }, [
    { dtype: data.dtype, shape: indices.shape },
  ]).outputs[0];
}

/** [start, start+1, …, limit) as a 1-D tensor; `limit` may be symbolic. */
export function range(graph: Graph, start: number, limit: Dim, dtype: DType = "int64"): Value {
  const length = dimSub(limit, start);
  if (isStatic(length) && length < 0)
    throw new GraphError(`Range: limit ${limit} < start ${start}`);
  return graph.addNode("Range", [], { start, limit, dtype }, [{ dtype, shape: [length] }])
    .outputs[0];
}

/** Keeps the lower (or upper) triangle of the last two axes, offset k; zeros elsewhere. */
export function trilu(x: Value, upper = false, k = 0): Value {
  if (x.rank < 2) throw new GraphError(`Trilu: ${x} has fewer than 2 axes`);
  return x.graph.addNode("Trilu", [x], { upper, k }, [{ dtype: x.dtype, shape: x.shape }])
    .outputs[0];
}

/** Bool [T, T] mask, true where key position ≤ query position (row = query). */
export function causalMask(graph: Graph, length: Dim): Value {
  const positions = range(graph, 0, length);
  return lessOrEqual(unsqueeze(positions, [0]), unsqueeze(positions, [1]));
}

/** zeros(shape) with `updates` added at `indices` along axis 0 (repeated indices accumulate). */
function scatterAddIntoZeros(shape: readonly Dim[], indices: Value, updates: Value): Value {
  return updates.graph.addNode("ScatterAddZeros", [indices, updates], { shape: [...shape] }, [
    { dtype: updates.dtype, shape },
  ]).outputs[0];
}

// ---- lowering and gradients ----

function zerosOfShape(ctx: LowerContext, shape: readonly Dim[], dtype: DType): string {
  return emitFilled(ctx, ctx.dims(shape), ctx.tmp("zeros"), dtype, 0);
}

defineOp("Gather", {
  lower: lowerAs("Gather", (n) => ({ axis: attrInt(n.attrs.axis as number) })),
  vjp: (n, [g]) => {
    const [data, indices] = n.inputs;
    const a = n.attrs.axis as number;
    if (a === 0) return [scatterAddIntoZeros(data.shape, indices, g!), null];
    // Move the gathered axis to the front, scatter there, move it back.
    const r = indices.rank;
    const gPerm = [
      ...Array.from({ length: r }, (_, i) => a + i),
      ...Array.from({ length: a }, (_, i) => i),
      ...Array.from({ length: g!.rank - a - r }, (_, i) => a + r + i),
    ];
    const dataPerm = [a, ...data.shape.map((_, i) => i).filter((i) => i !== a)];
    const scattered = scatterAddIntoZeros(
      dataPerm.map((i) => data.shape[i]),
      indices,
      transpose(g!, gPerm),
    );
    return [
      transpose(
        scattered,
        dataPerm.map((_, i) => dataPerm.indexOf(i)),
      ),
      null,
    ];
  },
});

defineOp("ScatterAddZeros", {
  lower: (n, ctx) => {
    const [indices, updates] = n.inputs;
    const zeros = zerosOfShape(ctx, n.attrs.shape as Dim[], updates.dtype);
    const idx = ctx.tmp("scatter_idx");
    ctx.emit("Unsqueeze", [ctx.name(indices), ctx.int64([-1])], [idx]);
    ctx.emit("ScatterND", [zeros, idx, ctx.name(updates)], [ctx.name(n.outputs[0])], {
      reduction: { kind: "string", value: "add" },
    });
  },
});

defineOp("GatherElements", {
  lower: lowerAs("GatherElements", (n) => ({ axis: attrInt(n.attrs.axis as number) })),
  vjp: (n, [g]) => {
    const [data, indices] = n.inputs;
    const grad = data.graph.addNode(
      "ScatterElementsAddZeros",
      [indices, g!],
      { shape: [...data.shape], axis: n.attrs.axis },
      [{ dtype: data.dtype, shape: data.shape }],
    ).outputs[0];
    return [grad, null];
  },
});

defineOp("ScatterElementsAddZeros", {
  lower: (n, ctx) => {
    const [indices, updates] = n.inputs;
    const zeros = zerosOfShape(ctx, n.attrs.shape as Dim[], updates.dtype);
    ctx.emit(
      "ScatterElements",
      [zeros, ctx.name(indices), ctx.name(updates)],
      [ctx.name(n.outputs[0])],
      {
        axis: attrInt(n.attrs.axis as number),
        reduction: { kind: "string", value: "add" },
      },
    );
  },
});

defineOp("Range", {
  lower: (n, ctx) => {
    const { start, limit, dtype } = n.attrs as { start: number; limit: Dim; dtype: DType };
    let limitName: string;
    if (isStatic(limit)) limitName = ctx.scalar(limit, dtype);
    else {
      const l64 = ctx.tmp("range_limit");
      ctx.emit("Reshape", [ctx.dims([limit]), ctx.int64([])], [l64]);
      limitName = l64;
      if (dtype !== "int64") {
        limitName = ctx.tmp("range_limit_cast");
        ctx.emit("Cast", [l64], [limitName], { to: attrInt(ONNX_DTYPE[dtype]) });
      }
    }
    ctx.emit(
      "Range",
      [ctx.scalar(start, dtype), limitName, ctx.scalar(1, dtype)],
      [ctx.name(n.outputs[0])],
    );
  },
  vjp: () => [],
});

defineOp("Trilu", {
  lower: (n, ctx) =>
    ctx.emit(
      "Trilu",
      [ctx.name(n.inputs[0]), ctx.scalar(n.attrs.k as number, "int64")],
      [ctx.name(n.outputs[0])],
      { upper: attrInt(n.attrs.upper ? 1 : 0) },
    ),
  vjp: (n, [g]) => [trilu(g!, n.attrs.upper as boolean, n.attrs.k as number)],
});
