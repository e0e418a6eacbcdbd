// Lowers a Graph to an ONNX ModelProto: only the nodes the requested outputs need, constants as
// initializers, symbolic sizes computed from the inputs' shapes where an op needs them. Frozen
// weights become initializers that large graphs keep outside the protobuf (external data handed
// to ONNX Runtime from memory), which keeps any model clear of protobuf's 2 GiB limit.

import onnxProto from "onnx-proto";
import { type Dim, dimTerms, isStatic } from "./dim.js";
import { type DType, fromNumbers, ONNX_DTYPE, type TensorData } from "./dtype.js";
import { FrozenLowering, type LowerOptions } from "./frozen.js";
import { type Graph, GraphError, type Node, type Value } from "./graph.js";
import "./ops/index.js";
import { writeFileAtomic } from "../io/atomic.js";
import {
  attrInt,
  CONTRIB_DOMAIN,
  type LowerContext,
  type OnnxAttr,
  opDefinition,
} from "./registry.js";

const { onnx } = onnxProto;

export const OPSET = 18;
const IR_VERSION = 8;

/** Named outputs of a graph to compute. */
export type Outputs = Record<string, Value>;

export type { ExternalData, LowerOptions } from "./frozen.js";

function tensorProto(name: string, dtype: DType, dims: readonly number[], data: TensorData) {
  return onnx.TensorProto.create({
    name,
    dims: [...dims],
    dataType: ONNX_DTYPE[dtype],
    rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
  });
}

function attributeProto(name: string, attr: OnnxAttr) {
  const A = onnx.AttributeProto.AttributeType;
  switch (attr.kind) {
    case "int":
      return onnx.AttributeProto.create({ name, type: A.INT, i: attr.value });
    case "float":
      return onnx.AttributeProto.create({ name, type: A.FLOAT, f: attr.value });
    case "string":
      return onnx.AttributeProto.create({
        name,
        type: A.STRING,
        s: new TextEncoder().encode(attr.value),
      });
    case "ints":
      return onnx.AttributeProto.create({ name, type: A.INTS, ints: attr.value });
    case "tensor":
      return onnx.AttributeProto.create({
        name,
        type: A.TENSOR,
        t: tensorProto("", attr.dtype, attr.shape, attr.data),
      });
  }
}

function valueInfo(name: string, dtype: DType | number, shape: readonly Dim[]) {
  return onnx.ValueInfoProto.create({
    name,
    type: {
      tensorType: {
        elemType: typeof dtype === "number" ? dtype : ONNX_DTYPE[dtype],
        shape: { dim: shape.map((d) => (isStatic(d) ? { dimValue: d } : { dimParam: d })) },
      },
    },
  });
}

/** Nodes the outputs depend on, in graph order. */
function neededNodes(graph: Graph, outputs: readonly Value[]): Node[] {
  const needed = new Set<Node>();
  const stack = outputs.map((v) => v.producer);
  while (stack.length > 0) {
    const node = stack.pop()!;
    if (needed.has(node)) continue;
    needed.add(node);
    for (const v of node.inputs) stack.push(v.producer);
  }
  return graph.nodes.filter((n) => needed.has(n));
}

/** Builds the ONNX model computing `outputs` (each exposed under its key), and its external data. */
export function lowerGraph(graph: Graph, outputs: Outputs, options: LowerOptions = {}) {
  const entries = Object.entries(outputs);
  if (entries.length === 0) throw new GraphError("export: no outputs requested");
  for (const [name, v] of entries) {
    if (v.graph !== graph)
      throw new GraphError(`export: output "${name}" belongs to another graph`);
  }
  const inputNames = new Set(graph.inputs.map((i) => i.name));
  for (const [name] of entries) {
    if (inputNames.has(name)) throw new GraphError(`export: output "${name}" has an input's name`);
  }

  const nodes: ReturnType<typeof onnx.NodeProto.create>[] = [];
  const initializers: ReturnType<typeof onnx.TensorProto.create>[] = [];
  const constantCache = new Map<string, string>();
  const dimCache = new Map<string, string>();
  let tmpCount = 0;

  const name = (v: Value): string => {
    const p = v.producer;
    if (p.op === "Input") return p.attrs.name as string;
    if (p.op === "Constant" && p.attrs.name) return p.attrs.name as string;
    return frozen.name(v) ?? `v${v.id}`;
  };

  const ctx: LowerContext = {
    name,
    tmp: (hint = "t") => `_${hint}_${tmpCount++}`,
    emit(opType, inputs, outs, attrs = {}, domain = "") {
      nodes.push(
        onnx.NodeProto.create({
          opType,
          domain,
          input: inputs,
          output: outs,
          name: `${opType}_${nodes.length}`,
          attribute: Object.entries(attrs).map(([k, a]) => attributeProto(k, a)),
        }),
      );
    },
    int64(values) {
      const key = `i64:${values.join(",")}`;
      let n = constantCache.get(key);
      if (!n) {
        n = `_const_${constantCache.size}`;
        initializers.push(tensorProto(n, "int64", [values.length], fromNumbers("int64", values)));
        constantCache.set(key, n);
      }
      return n;
    },
    scalar(value, dtype) {
      const key = `${dtype}:${value}`;
      let n = constantCache.get(key);
      if (!n) {
        n = `_const_${constantCache.size}`;
        initializers.push(tensorProto(n, dtype, [], fromNumbers(dtype, [value])));
        constantCache.set(key, n);
      }
      return n;
    },
    dims(dims) {
      if (dims.every(isStatic)) return ctx.int64(dims as number[]);
      const parts = dims.map((d) => dimTensor(d));
      const out = ctx.tmp("dims");
      ctx.emit("Concat", parts, [out], { axis: attrInt(0) });
      return out;
    },
  };

  const frozen = new FrozenLowering(graph, ctx, initializers, options);

  /** A [1] int64 tensor holding one size, read off the inputs' shapes when symbolic. */
  function dimTensor(dim: Dim): string {
    if (isStatic(dim)) return ctx.int64([dim]);
    const cached = dimCache.get(dim);
    if (cached) return cached;
    let sum: string | undefined;
    for (const { coef, names } of dimTerms(dim)) {
      let term: string | undefined = coef === 1 && names.length > 0 ? undefined : ctx.int64([coef]);
      for (const n of names) {
        const factor = namedSize(n);
        if (term === undefined) term = factor;
        else {
          const prod = ctx.tmp("dim_mul");
          ctx.emit("Mul", [term, factor], [prod]);
          term = prod;
        }
      }
      if (sum === undefined) sum = term!;
      else {
        const s = ctx.tmp("dim_add");
        ctx.emit("Add", [sum, term!], [s]);
        sum = s;
      }
    }
    dimCache.set(dim, sum!);
    return sum!;
  }

  function namedSize(dimName: string): string {
    const cached = dimCache.get(`#${dimName}`);
    if (cached) return cached;
    const source = graph.dimSources.get(dimName);
    if (!source) {
      throw new GraphError(`export: no graph input has the symbolic dimension "${dimName}"`);
    }
    const out = ctx.tmp(`size_${dimName}`);
    ctx.emit("Shape", [name(source.value)], [out], {
      start: attrInt(source.axis),
      end: attrInt(source.axis + 1),
    });
    dimCache.set(`#${dimName}`, out);
    return out;
  }

  for (const node of neededNodes(
    graph,
    entries.map(([, v]) => v),
  )) {
    if (node.op === "Constant") {
      const v = node.outputs[0];
      initializers.push(
        tensorProto(name(v), v.dtype, v.shape as number[], node.attrs.data as TensorData),
      );
    } else if (node.op === "Frozen") {
      frozen.lowerFrozen(node);
    } else if (!frozen.lowerStoredGather(node) && node.op !== "Input") {
      frozen.consumer = node;
      opDefinition(node.op).lower(node, ctx);
    }
  }
  frozen.consumer = null;
  for (const [outName, v] of entries) ctx.emit("Identity", [name(v)], [outName]);

  // Inputs: those any emitted node reads (a symbolic size alone is enough to need one).
  const referenced = new Set(nodes.flatMap((n) => n.input));
  const inputs = graph.inputs
    .filter((i) => referenced.has(i.name))
    .map((i) => valueInfo(i.name, i.value.dtype, i.value.shape));
  inputs.push(...frozen.inputs);

  const model = onnx.ModelProto.create({
    irVersion: IR_VERSION,
    producerName: "prefrec",
    opsetImport: [
      { domain: "", version: OPSET },
      // ONNX Runtime's contrib ops (FastGelu, FusedMatMul), imported only where a node uses one.
      ...(nodes.some((n) => n.domain === CONTRIB_DOMAIN)
        ? [{ domain: CONTRIB_DOMAIN, version: 1 }]
        : []),
    ],
    graph: {
      name: graph.name,
      node: nodes,
      initializer: initializers,
      input: inputs,
      output: entries.map(([n, v]) => valueInfo(n, v.dtype, v.shape)),
    },
  });
  return { model, external: frozen.external, folder: frozen.folder };
}

/** Builds the ONNX model computing `outputs`, every initializer inline. */
export function toModelProto(graph: Graph, outputs: Outputs) {
  return lowerGraph(graph, outputs).model;
}

/** The ONNX bytes of a graph's outputs (every initializer inline). */
export function serialize(graph: Graph, outputs: Outputs): Uint8Array {
  return onnx.ModelProto.encode(toModelProto(graph, outputs)).finish();
}

/** The ONNX bytes of a graph's outputs with large frozen weights as external data: in-memory
 *  arrays to hand over, and the folder of file-backed ones. */
export function serializeWithExternal(
  graph: Graph,
  outputs: Outputs,
  options: LowerOptions,
): { bytes: Uint8Array; external: FrozenLowering["external"]; folder?: string } {
  const { model, external, folder } = lowerGraph(graph, outputs, options);
  return { bytes: onnx.ModelProto.encode(model).finish(), external, folder };
}

/** Writes the graph as a `.onnx` file (e.g. to inspect it in Netron). */
export async function saveOnnx(graph: Graph, outputs: Outputs, path: string): Promise<void> {
  await writeFileAtomic(path, serialize(graph, outputs));
}
