// The safetensors format itself: dtypes, header types, the error type and header parsing and
// validation. Layout: 8-byte little-endian header length N, N bytes of JSON header
// ({name: {dtype, shape, data_offsets}, "__metadata__"?: {string: string}}), then the raw
// little-endian tensor bytes. Reading is in safetensors.ts, writing in safetensors-write.ts.
import { endianness } from "node:os";
import { UserError } from "./errors.js";

/** The dtypes this module understands. */
export type SafetensorsDtype =
  | "F32"
  | "F16"
  | "BF16"
  | "F64"
  | "I64"
  | "I32"
  | "I16"
  | "I8"
  | "U8"
  | "BOOL";

export const DTYPE_BYTES: Record<SafetensorsDtype, number> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
};

/** Size in bytes of one element of a dtype. */
export function dtypeBytes(dtype: SafetensorsDtype): number {
  return DTYPE_BYTES[dtype];
}

/** One tensor's entry in a safetensors header; offsets are relative to the data section. */
export interface TensorEntry {
  dtype: SafetensorsDtype;
  shape: number[];
  begin: number;
  end: number;
}

/** A parsed safetensors header. */
export interface SafetensorsHeader {
  tensors: Map<string, TensorEntry>;
  metadata: Record<string, string> | null;
  /** Absolute file offset of the data section (8 + header length). */
  dataStart: number;
}

/** A float tensor as read: always float32, row-major. */
export interface F32Tensor {
  shape: number[];
  data: Float32Array;
}

/** A tensor to write: its dtype follows from the array type (Float32Array → F32, BigInt64Array → I64, Int32Array → I32). */
export interface WritableTensor {
  shape: readonly number[];
  data: Float32Array | BigInt64Array | Int32Array;
}

/** Already-encoded bytes of any dtype (used to write F16/BF16 fixtures). */
export interface RawTensor {
  dtype: SafetensorsDtype;
  shape: readonly number[];
  bytes: Uint8Array;
}

/** The most a header may be: the format's own limit is 100 MB. */
export const MAX_HEADER_BYTES = 100_000_000;
/** Whether typed arrays can view the file's little-endian bytes directly. */
export const LITTLE_ENDIAN_HOST = endianness() === "LE";

/** An error about a safetensors file, naming the file and, when relevant, the tensor. */
export class SafetensorsError extends UserError {
  constructor(
    readonly file: string,
    message: string,
    readonly tensor?: string,
  ) {
    super(`${file}${tensor === undefined ? "" : ` (tensor "${tensor}")`}: ${message}`);
    this.name = "SafetensorsError";
  }
}

/** Number of elements of a shape. */
export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Parses and validates the header JSON (`fileSize` bounds every offset). */
export function parseHeader(
  file: string,
  headerBytes: Uint8Array,
  fileSize: number,
): SafetensorsHeader {
  const dataStart = 8 + headerBytes.length;
  const dataSize = fileSize - dataStart;
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(headerBytes));
  } catch (error) {
    throw new SafetensorsError(
      file,
      `header is not valid UTF-8 JSON (${(error as Error).message})`,
    );
  }
  if (json === null || typeof json !== "object" || Array.isArray(json)) {
    throw new SafetensorsError(file, "header is not a JSON object");
  }
  const tensors = new Map<string, TensorEntry>();
  let metadata: Record<string, string> | null = null;
  for (const [name, value] of Object.entries(json as Record<string, unknown>)) {
    if (name === "__metadata__") {
      metadata = parseMetadata(file, value);
      continue;
    }
    tensors.set(name, parseEntry(file, name, value, dataSize));
  }
  checkNoOverlap(file, tensors);
  return { tensors, metadata, dataStart };
}

function parseMetadata(file: string, value: unknown): Record<string, string> {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new SafetensorsError(file, "__metadata__ is not an object of strings");
  }
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (typeof v !== "string") {
      throw new SafetensorsError(file, `__metadata__.${k} is not a string`);
    }
    out[k] = v;
  }
  return out;
}

function parseEntry(file: string, name: string, value: unknown, dataSize: number): TensorEntry {
  if (value === null || typeof value !== "object") {
    throw new SafetensorsError(file, "header entry is not an object", name);
  }
  const { dtype, shape, data_offsets: offsets } = value as Record<string, unknown>;
  if (typeof dtype !== "string" || !(dtype in DTYPE_BYTES)) {
    throw new SafetensorsError(file, `unsupported dtype ${JSON.stringify(dtype)}`, name);
  }
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new SafetensorsError(file, `bad shape ${JSON.stringify(shape)}`, name);
  }
  if (
    !Array.isArray(offsets) ||
    offsets.length !== 2 ||
    !offsets.every((o) => Number.isInteger(o) && o >= 0)
  ) {
    throw new SafetensorsError(file, `bad data_offsets ${JSON.stringify(offsets)}`, name);
  }
  const [begin, end] = offsets as [number, number];
  const expected = numel(shape) * DTYPE_BYTES[dtype as SafetensorsDtype];
  if (end < begin || end - begin !== expected) {
    throw new SafetensorsError(
      file,
      `data_offsets [${begin}, ${end}] span ${end - begin} bytes but ${dtype} ${JSON.stringify(shape)} needs ${expected}`,
      name,
    );
  }
  if (end > dataSize) {
    throw new SafetensorsError(
      file,
      `data_offsets end ${end} is past the data section (${dataSize} bytes; file truncated?)`,
      name,
    );
  }
  return { dtype: dtype as SafetensorsDtype, shape: shape as number[], begin, end };
}

function checkNoOverlap(file: string, tensors: Map<string, TensorEntry>): void {
  const sorted = [...tensors.entries()]
    .filter(([, e]) => e.end > e.begin)
    .sort((a, b) => a[1].begin - b[1].begin);
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i][1].begin < sorted[i - 1][1].end) {
      throw new SafetensorsError(file, `data overlaps tensor "${sorted[i - 1][0]}"`, sorted[i][0]);
    }
  }
}
