// How frozen weights are lowered to ONNX: initializers listed as inputs too (never folded nor
// duplicated by ONNX Runtime), inline, as external data from memory, or mapped from a file;
// 16-bit ones cast to float32 just before each use, the backward pass with its own copies.
// Cheap activations marked `recomputeInBackward` are recomputed by their backward consumers
// instead of being kept alive from the forward pass.

import onnxProto from "onnx-proto";
import { formatShape } from "./dim.js";
import { ONNX_DTYPE } from "./dtype.js";
import {
  type FileSlice,
  type Graph,
  GraphError,
  type Node,
  type StoredDType,
  type Value,
} from "./graph.js";
import { attrInt, type LowerContext, opDefinition } from "./registry.js";

const { onnx } = onnxProto;

/** ONNX element types of the 16-bit formats frozen weights may keep. */
const STORED_ONNX: Record<StoredDType, number> = { float16: 10, bfloat16: 16 };

/** How frozen weights are written. */
export interface LowerOptions {
  /** Frozen weights of at least this many bytes go to external data (default: never). */
  externalMinBytes?: number;
}

/** One external-data file of a model: the bytes ONNX Runtime reads the initializer from. */
export interface ExternalData {
  path: string;
  data: Uint8Array;
}

// Values computed from frozen weights alone by cheap layout ops (a weight's transpose): the
// backward pass recomputes its own copy rather than keeping the forward's alive until then.
const REMAT_OPS = new Set(["Transpose", "Reshape", "Squeeze", "Unsqueeze", "Cast"]);

// Ops a marked activation may come from: elementwise ones (broadcasting allowed when the first
// input has the output's rank: an extra leading axis on it then broadcasts the same way), a
// matrix product (the extra axis is one more batch axis) and a softmax over the last axis.
const RECOMPUTE_OPS = new Set(["Silu", "Sigmoid", "Mul", "Add", "Sub", "Neg", "Div", "MatMul"]);
const recomputed = new WeakSet<Value>();

/**
 * Marks an activation for recomputation: the backward pass computes its own copy from the
 * producer's inputs (which it keeps anyway, or recomputes when they are marked too) just before
 * use, so the forward's copy is freed early (an MLP's silu(gate) and silu(gate)·up: 2·T·I floats
 * per layer while training; attention probabilities from q and k: heads·T² per layer). Only
 * elementwise ops, matmuls and last-axis softmaxes whose first input has the output's rank;
 * returns `v`.
 */
export function recomputeInBackward(v: Value): Value {
  const p = v.producer;
  const lastAxisSoftmax = p.op === "Softmax" && p.attrs.axis === v.rank - 1;
  if (!(RECOMPUTE_OPS.has(p.op) || lastAxisSoftmax) || p.inputs[0]?.rank !== v.rank)
    throw new GraphError(
      `recomputeInBackward: ${p.op} ${formatShape(v.shape)} is not an elementwise op, matmul or last-axis softmax whose first input has the output's rank`,
    );
  // A softmax's copy is computed from its recomputed input (its input kept would save nothing).
  if (lastAxisSoftmax && !recomputed.has(p.inputs[0]))
    throw new GraphError("recomputeInBackward: mark the softmax's input for recomputation first");
  recomputed.add(v);
  return v;
}

/** Whether `v` is marked by `recomputeInBackward`. */
export function isRecomputed(v: Value): boolean {
  return recomputed.has(v);
}

const bytesOf = (data: ArrayBufferView) =>
  new Uint8Array(data.buffer, data.byteOffset, data.byteLength);

/** The frozen-weight part of lowering one graph (state shared by its nodes). */
export class FrozenLowering {
  /** The node being lowered (set by the caller): casts and recomputations are per consumer. */
  consumer: Node | null = null;
  /** Arrays handed to ONNX Runtime as external data from memory. */
  readonly external: ExternalData[] = [];
  /** The folder of file-backed weights (one per graph). */
  folder: string | undefined;
  /** Input entries of the frozen initializers. */
  readonly inputs: ReturnType<typeof onnx.ValueInfoProto.create>[] = [];
  private readonly externalMin: number;
  private readonly casts = new Map<string, string>();
  private readonly castCount = new Map<number, number>();
  private readonly derived = new Map<number, boolean>();
  private readonly defining = new Set<number>();
  private readonly rematNames = new Map<string, string>();
  /** Names standing in for values while a recomputation is lowered (flat views). */
  private readonly overrides = new Map<number, string>();

  constructor(
    private readonly graph: Graph,
    private readonly ctx: LowerContext,
    private readonly initializers: ReturnType<typeof onnx.TensorProto.create>[],
    options: LowerOptions,
  ) {
    this.externalMin = options.externalMinBytes ?? Number.POSITIVE_INFINITY;
  }

  /** The ONNX name of `v` where frozen weights decide it, else undefined. */
  name(v: Value): string | undefined {
    const p = v.producer;
    const override = this.overrides.get(v.id);
    if (override !== undefined) return override;
    if (p.op === "Frozen") return p.attrs.stored ? this.castFor(v) : (p.attrs.name as string);
    if (this.defining.has(v.id)) return `v${v.id}@${this.consumer!.id}`;
    if (this.consumer !== null && this.graph.isBackward(this.consumer)) {
      if (this.frozenDerived(v)) return this.remat(v);
      if (recomputed.has(v) && !this.graph.isBackward(p)) return this.recompute(v);
    }
    return undefined;
  }

  /**
   * A marked activation computed again for the backward node being lowered. Its first input
   * gets an extra leading axis (removed from the result): the same op on the same inputs would
   * be merged back into the forward's computation by ONNX Runtime (common subexpression
   * elimination), keeping it alive.
   */
  private recompute(v: Value): string {
    const at = this.consumer!.id;
    const key = `${v.id}@${at}`;
    const cached = this.rematNames.get(key);
    if (cached) return cached;
    const ctx = this.ctx;
    const p = v.producer;
    const first = p.inputs[0];
    const out = `v${v.id}@${at}`;
    if (recomputed.has(first) && !this.graph.isBackward(first.producer)) {
      // The first input is itself a recomputed copy (ctx.name resolves it): already distinct from
      // the forward's, so no extra axis is needed to keep the two computations apart.
      this.overrides.set(v.id, out);
      try {
        opDefinition(p.op).lower(p, ctx);
      } finally {
        this.overrides.delete(v.id);
      }
      this.rematNames.set(key, out);
      return out;
    }
    if (p.op === "Softmax")
      throw new GraphError("recomputeInBackward: a softmax's input must be recomputed too");
    const lifted = ctx.tmp("lifted");
    ctx.emit("Unsqueeze", [ctx.name(first), ctx.int64([0])], [lifted]);
    const liftedOut = ctx.tmp("recomputed");
    this.overrides.set(first.id, lifted);
    this.overrides.set(v.id, liftedOut);
    try {
      opDefinition(p.op).lower(p, ctx);
    } finally {
      this.overrides.delete(first.id);
      this.overrides.delete(v.id);
    }
    ctx.emit("Squeeze", [liftedOut, ctx.int64([0])], [out]);
    this.rematNames.set(key, out);
    return out;
  }

  private frozenDerived(v: Value): boolean {
    let known = this.derived.get(v.id);
    if (known === undefined) {
      const p = v.producer;
      const frozenOr = (i: Value) => i.producer.op === "Frozen" || this.frozenDerived(i);
      known =
        REMAT_OPS.has(p.op) &&
        !this.graph.isBackward(p) &&
        p.inputs.some(frozenOr) &&
        p.inputs.every((i) => i.producer.op === "Constant" || frozenOr(i));
      this.derived.set(v.id, known);
    }
    return known;
  }

  /** Lowers a frozen-derived value's producer again for the backward node being lowered. */
  private remat(v: Value): string {
    const at = this.consumer!.id;
    const cached = this.rematNames.get(`${v.id}@${at}`);
    if (cached) return cached;
    const p = v.producer;
    for (const o of p.outputs) this.defining.add(o.id);
    opDefinition(p.op).lower(p, this.ctx);
    for (const o of p.outputs) {
      this.defining.delete(o.id);
      this.rematNames.set(`${o.id}@${at}`, `v${o.id}@${at}`);
    }
    return this.rematNames.get(`${v.id}@${at}`)!;
  }

  /**
   * The float32 copy of a 16-bit frozen weight for the node being lowered, emitted just before
   * it: one copy for the forward pass, and one per backward consumer, so no copy lives from the
   * forward to the backward pass (measured: every layer's copy did). ONNX Runtime would merge
   * equal casts (common subexpression elimination), so the k-th copy casts a differently-shaped
   * reshape of the same bits (free: a reshape is a view) and reshapes back.
   */
  private castFor(v: Value): string {
    const ctx = this.ctx;
    const backward = this.consumer !== null && this.graph.isBackward(this.consumer);
    const key = `${v.id}:${backward ? this.consumer!.id : "forward"}`;
    const cached = this.casts.get(key);
    if (cached) return cached;
    const k = this.castCount.get(v.id) ?? 0;
    this.castCount.set(v.id, k + 1);
    const stored = v.producer.attrs.name as string;
    const out = ctx.tmp("f32");
    const to = { to: attrInt(ONNX_DTYPE.float32) };
    if (k === 0) ctx.emit("Cast", [stored], [out], to);
    else {
      const flat = ctx.tmp("bits");
      const cast = ctx.tmp("f32flat");
      ctx.emit("Reshape", [stored, ctx.int64([...new Array(k - 1).fill(1), -1])], [flat]);
      ctx.emit("Cast", [flat], [cast], to);
      ctx.emit("Reshape", [cast, ctx.int64(v.shape as number[])], [out]);
    }
    this.casts.set(key, out);
    return out;
  }

  /** Rows of a 16-bit table (the embedding) are gathered first, then only they are cast;
   *  false when `node` is not such a gather. */
  lowerStoredGather(node: Node): boolean {
    const data = node.inputs[0]?.producer;
    if (node.op !== "Gather" || data?.op !== "Frozen" || data.attrs.stored === null) return false;
    const ctx = this.ctx;
    const rows = ctx.tmp("rows16");
    ctx.emit("Gather", [data.attrs.name as string, ctx.name(node.inputs[1])], [rows], {
      axis: attrInt(node.attrs.axis as number),
    });
    ctx.emit("Cast", [rows], [ctx.name(node.outputs[0])], { to: attrInt(ONNX_DTYPE.float32) });
    return true;
  }

  /** A frozen weight's initializer (inline, external from memory, or mapped from its file)
   *  and its input entry; 16-bit ones are cast where used (castFor). */
  lowerFrozen(node: Node): void {
    const v = node.outputs[0];
    const name = node.attrs.name as string;
    const stored = node.attrs.stored as StoredDType | null;
    const data = node.attrs.data as Float32Array | Float64Array | Uint16Array | FileSlice;
    const dataType = stored ? STORED_ONNX[stored] : ONNX_DTYPE[v.dtype];
    const dims = [...(v.shape as number[])];
    const externalAt = (location: string, offset: number, length: number) =>
      onnx.TensorProto.create({
        name,
        dims,
        dataType,
        dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
        externalData: [
          { key: "location", value: location },
          { key: "offset", value: String(offset) },
          { key: "length", value: String(length) },
        ],
      });
    if (!ArrayBuffer.isView(data)) {
      // Read (memory-mapped) by ONNX Runtime from the file itself, relative to one folder.
      if (this.folder !== undefined && this.folder !== data.folder) {
        throw new GraphError(
          `export: frozen "${name}" is in ${data.folder}, another graph weight in ${this.folder}`,
        );
      }
      this.folder = data.folder;
      this.initializers.push(externalAt(data.file, data.offset, data.length));
    } else if (data.byteLength >= this.externalMin) {
      const path = `_prefrec_${this.external.length}.bin`;
      this.external.push({ path, data: bytesOf(data) });
      this.initializers.push(externalAt(path, 0, data.byteLength));
    } else {
      this.initializers.push(
        onnx.TensorProto.create({ name, dims, dataType, rawData: bytesOf(data) }),
      );
    }
    this.inputs.push(
      onnx.ValueInfoProto.create({
        name,
        type: {
          tensorType: { elemType: dataType, shape: { dim: dims.map((d) => ({ dimValue: d })) } },
        },
      }),
    );
  }
}
