// The traced tensor program: a Graph owns Nodes in creation (hence topological) order; every
// Value is one output of a Node (inputs, constants and initializers are Nodes too).

import { canonicalDim, type Dim, dimNames, formatShape } from "./dim.js";
import { type DType, dtypeOfArray, fromNumbers, type TensorData } from "./dtype.js";

/** Attribute values a node may carry (interpreted by the op's lowering and VJP). */
export type AttrValue =
  | number
  | string
  | boolean
  | number[]
  | Dim[]
  | null
  | TensorData
  | Uint16Array
  | FileSlice;

/** Bytes of a file that hold a tensor (row-major, little-endian), e.g. inside a safetensors
 *  shard: ONNX Runtime maps them straight from the file, with no copy in this process. */
export interface FileSlice {
  /** Absolute folder of the file; every file-backed tensor of one graph shares it. */
  folder: string;
  /** File name inside `folder`. */
  file: string;
  offset: number;
  length: number;
}

/** 16-bit float formats a frozen weight may keep in memory (raw bits in a Uint16Array). */
export type StoredDType = "float16" | "bfloat16";
export type Attrs = Record<string, AttrValue>;

/** An error in building or differentiating a graph, raised at build time. */
export class GraphError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "GraphError";
  }
}

/** A symbolic tensor: dtype and (possibly symbolic) shape, produced by one node. */
export class Value {
  constructor(
    readonly graph: Graph,
    readonly id: number,
    readonly dtype: DType,
    readonly shape: readonly Dim[],
    readonly producer: Node,
    readonly outputIndex: number,
  ) {}

  get rank(): number {
    return this.shape.length;
  }

  toString(): string {
    return `${this.producer.op}#${this.id}:${this.dtype}${formatShape(this.shape)}`;
  }
}

export interface Node {
  readonly id: number;
  readonly op: string;
  readonly inputs: readonly Value[];
  readonly attrs: Attrs;
  outputs: Value[];
}

/** Dtype + shape of one node output, as an op's shape inference returns it. */
export interface OutputSpec {
  dtype: DType;
  shape: readonly Dim[];
}

/** A named run-time input. */
export interface InputInfo {
  name: string;
  value: Value;
}

/** Where a named symbolic size can be read at run time: axis `axis` of input `value`. */
export interface DimSource {
  value: Value;
  axis: number;
}

export class Graph {
  readonly nodes: Node[] = [];
  readonly inputs: InputInfo[] = [];
  readonly dimSources = new Map<string, DimSource>();
  private nextId = 0;
  /** Nodes with this id or above were added by `grad` (the backward pass). */
  private backwardFromId = Number.POSITIVE_INFINITY;
  private readonly names = new Set<string>();

  constructor(readonly name = "prefrec") {}

  /** Appends a node; used by op functions after they have checked and inferred shapes. */
  addNode(
    op: string,
    inputs: readonly Value[],
    attrs: Attrs,
    outputs: readonly OutputSpec[],
  ): Node {
    for (const v of inputs) {
      if (v.graph !== this) throw new GraphError(`${op}: input ${v} belongs to another graph`);
    }
    const node: Node = { id: this.nextId++, op, inputs, attrs, outputs: [] };
    node.outputs = outputs.map(
      (o, i) => new Value(this, this.nextId++, o.dtype, o.shape.map(canonicalDim), node, i),
    );
    this.nodes.push(node);
    return node;
  }

  /** A run-time input; string dims are symbolic sizes bound when the graph runs. */
  input(name: string, dtype: DType, shape: readonly Dim[]): Value {
    this.claimName(name);
    const value = this.addNode("Input", [], { name }, [{ dtype, shape }]).outputs[0];
    this.inputs.push({ name, value });
    value.shape.forEach((d, axis) => {
      if (typeof d === "string") {
        const names = dimNames(d);
        if (names.length !== 1 || names[0] !== d) {
          throw new GraphError(`input "${name}": dimension "${d}" must be a plain name`);
        }
        if (!this.dimSources.has(d)) this.dimSources.set(d, { value, axis });
      }
    });
    return value;
  }

  /** A constant tensor stored in the graph (an ONNX initializer); `name` makes it recognisable. */
  constant(
    data: TensorData | readonly number[] | number,
    shape: readonly number[] = [],
    dtype: DType = "float32",
    name?: string,
  ): Value {
    let array: TensorData;
    if (typeof data === "number") array = fromNumbers(dtype, [data]);
    else if (Array.isArray(data)) array = fromNumbers(dtype, data as number[]);
    else {
      array = data as TensorData;
      const actual = dtypeOfArray(array);
      if (actual !== dtype) {
        throw new GraphError(
          `constant${name ? ` "${name}"` : ""}: data is ${actual}, not ${dtype}`,
        );
      }
    }
    const size = shape.reduce((a, b) => a * b, 1);
    if (array.length !== size) {
      throw new GraphError(
        `constant${name ? ` "${name}"` : ""}: ${array.length} values for shape ${formatShape(shape)}`,
      );
    }
    if (name !== undefined) this.claimName(name);
    return this.addNode("Constant", [], { data: array, name: name ?? null }, [{ dtype, shape }])
      .outputs[0];
  }

  /** A named frozen weight: a constant with a stable name, shown as such in the ONNX file. */
  initializer(name: string, data: TensorData, shape: readonly number[]): Value {
    const dtype = dtypeOfArray(data);
    if (!dtype) throw new GraphError(`initializer "${name}": unsupported data type`);
    return this.constant(data, shape, dtype, name);
  }

  /**
   * A frozen weight held by the compiled graph (an initializer also listed as an input, so ONNX
   * Runtime neither folds nor duplicates it). 16-bit `stored` bits are cast to float32 where
   * used, so only float32 copies of the layer being computed are alive at a time.
   */
  frozen(
    name: string,
    data: Float32Array | Float64Array | Uint16Array | FileSlice,
    shape: readonly number[],
    stored?: StoredDType,
  ): Value {
    const sixteen = data instanceof Uint16Array || !ArrayBuffer.isView(data);
    const dtype = sixteen ? "float32" : dtypeOfArray(data);
    if (sixteen && !stored)
      throw new GraphError(`frozen "${name}": 16-bit data needs its stored dtype`);
    if (!sixteen && stored)
      throw new GraphError(`frozen "${name}": stored ${stored} needs 16-bit data`);
    const size = shape.reduce((a, b) => a * b, 1);
    const length = ArrayBuffer.isView(data) ? data.length : data.length / 2;
    if (length !== size) {
      throw new GraphError(`frozen "${name}": ${length} values for shape ${formatShape(shape)}`);
    }
    this.claimName(name);
    return this.addNode("Frozen", [], { name, data, stored: stored ?? null }, [
      { dtype: dtype!, shape },
    ]).outputs[0];
  }

  /** Marks the nodes added from now on as the backward pass (called by `grad`). */
  markBackward(): void {
    this.backwardFromId = Math.min(this.backwardFromId, this.nextId);
  }

  /** Whether `grad` added a backward pass to this graph. */
  get hasBackward(): boolean {
    return Number.isFinite(this.backwardFromId);
  }

  /** Whether a node belongs to the backward pass. */
  isBackward(node: Node): boolean {
    return node.id >= this.backwardFromId;
  }

  private claimName(name: string): void {
    if (this.names.has(name)) throw new GraphError(`the name "${name}" is used twice in the graph`);
    this.names.add(name);
  }
}
