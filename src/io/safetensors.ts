// Reader and writer of the safetensors format: 8-byte little-endian header length N, N bytes of
// JSON header ({name: {dtype, shape, data_offsets}, "__metadata__"?: {string: string}}), then
// the raw little-endian tensor bytes. Floats are read as float32; integers as I64/I32 arrays.
import { type FileHandle, open } from "node:fs/promises";
import { endianness } from "node:os";
import { withAtomicFile } from "./atomic.js";
import { UserError } from "./errors.js";
import { decodeBF16, decodeF16 } from "./float16.js";

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

const DTYPE_BYTES: Record<SafetensorsDtype, number> = {
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
const MAX_HEADER_BYTES = 100_000_000;
const LITTLE_ENDIAN_HOST = endianness() === "LE";

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

function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

async function readExactly(
  handle: FileHandle,
  target: Uint8Array,
  position: number,
  file: string,
  tensor?: string,
): Promise<void> {
  let done = 0;
  while (done < target.length) {
    // One read() call may not exceed 2 GiB; 1 GiB pieces keep any tensor readable.
    const length = Math.min(target.length - done, 1 << 30);
    const { bytesRead } = await handle.read(target, done, length, position + done);
    if (bytesRead === 0) {
      throw new SafetensorsError(file, `unexpected end of file at byte ${position + done}`, tensor);
    }
    done += bytesRead;
  }
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

/** An open safetensors file: the header is parsed once, tensors are read on demand. */
export class SafetensorsFile {
  private constructor(
    readonly path: string,
    private readonly handle: FileHandle,
    readonly header: SafetensorsHeader,
  ) {}

  /** Opens `path` and validates its header (length, JSON, dtypes, shapes, offsets). */
  static async open(path: string): Promise<SafetensorsFile> {
    let handle: FileHandle;
    try {
      handle = await open(path, "r");
    } catch (error) {
      throw new SafetensorsError(
        path,
        `cannot open (${(error as NodeJS.ErrnoException).code ?? error})`,
      );
    }
    try {
      const { size } = await handle.stat();
      if (size < 8)
        throw new SafetensorsError(
          path,
          `file is ${size} bytes, shorter than the 8-byte header length`,
        );
      const lengthBytes = new Uint8Array(8);
      await readExactly(handle, lengthBytes, 0, path);
      const length = new DataView(lengthBytes.buffer).getBigUint64(0, true);
      if (length > BigInt(Math.min(MAX_HEADER_BYTES, size - 8))) {
        throw new SafetensorsError(
          path,
          `header length ${length} is larger than the file allows (${size - 8} bytes after the length)`,
        );
      }
      const headerBytes = new Uint8Array(Number(length));
      await readExactly(handle, headerBytes, 8, path);
      return new SafetensorsFile(path, handle, parseHeader(path, headerBytes, size));
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  /** Tensor names in header order. */
  names(): string[] {
    return [...this.header.tensors.keys()];
  }

  /** The header entry of `name`, or an error naming the file and tensor. */
  entry(name: string): TensorEntry {
    const entry = this.header.tensors.get(name);
    if (entry === undefined) throw new SafetensorsError(this.path, "no such tensor", name);
    return entry;
  }

  /** Reads a float tensor (F32, F16, BF16, F64) as float32. */
  async readF32(name: string): Promise<F32Tensor> {
    const entry = this.entry(name);
    const n = numel(entry.shape);
    const out = new Float32Array(n);
    const position = this.header.dataStart + entry.begin;
    switch (entry.dtype) {
      case "F32":
        if (LITTLE_ENDIAN_HOST) {
          // Read straight into the result's memory: no intermediate copy.
          await readExactly(this.handle, new Uint8Array(out.buffer), position, this.path, name);
        } else {
          await this.readChunked(entry, name, 4, (bytes, start) => {
            const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
            for (let i = 0; i < bytes.length / 4; i++)
              out[start + i] = view.getFloat32(i * 4, true);
          });
        }
        break;
      case "F16":
      case "BF16": {
        const decode = entry.dtype === "F16" ? decodeF16 : decodeBF16;
        await this.readChunked(entry, name, 2, (bytes, start) => {
          const count = bytes.length / 2;
          const halves = LITTLE_ENDIAN_HOST
            ? new Uint16Array(bytes.buffer, bytes.byteOffset, count)
            : Uint16Array.from({ length: count }, (_, i) => bytes[2 * i] | (bytes[2 * i + 1] << 8));
          decode(halves, out.subarray(start, start + count));
        });
        break;
      }
      case "F64":
        await this.readChunked(entry, name, 8, (bytes, start) => {
          const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
          for (let i = 0; i < bytes.length / 8; i++) out[start + i] = view.getFloat64(i * 8, true);
        });
        break;
      default:
        throw new SafetensorsError(this.path, `dtype ${entry.dtype} is not a float type`, name);
    }
    return { shape: [...entry.shape], data: out };
  }

  /** Reads an integer tensor: I64 as BigInt64Array, I32 as Int32Array. */
  async readInt(name: string): Promise<{ shape: number[]; data: BigInt64Array | Int32Array }> {
    const entry = this.entry(name);
    const n = numel(entry.shape);
    const position = this.header.dataStart + entry.begin;
    if (entry.dtype !== "I64" && entry.dtype !== "I32") {
      throw new SafetensorsError(this.path, `dtype ${entry.dtype} is not I64 or I32`, name);
    }
    const data = entry.dtype === "I64" ? new BigInt64Array(n) : new Int32Array(n);
    await readExactly(this.handle, new Uint8Array(data.buffer), position, this.path, name);
    if (!LITTLE_ENDIAN_HOST) {
      const view = new DataView(data.buffer);
      for (let i = 0; i < n; i++) {
        if (data instanceof BigInt64Array) data[i] = view.getBigInt64(i * 8, true);
        else data[i] = view.getInt32(i * 4, true);
      }
    }
    return { shape: [...entry.shape], data };
  }

  /** Reads the raw bytes of a tensor, whatever its dtype. */
  async readRaw(name: string): Promise<RawTensor> {
    const entry = this.entry(name);
    const bytes = new Uint8Array(entry.end - entry.begin);
    await readExactly(this.handle, bytes, this.header.dataStart + entry.begin, this.path, name);
    return { dtype: entry.dtype, shape: [...entry.shape], bytes };
  }

  private async readChunked(
    entry: TensorEntry,
    name: string,
    elementBytes: number,
    consume: (bytes: Uint8Array, startElement: number) => void,
  ): Promise<void> {
    // A bounded scratch buffer keeps the peak memory at the float32 result plus ~8 MiB.
    const chunkElements = Math.max(1, Math.floor((8 << 20) / elementBytes));
    const total = (entry.end - entry.begin) / elementBytes;
    const scratch = new Uint8Array(Math.min(total, chunkElements) * elementBytes);
    for (let start = 0; start < total; start += chunkElements) {
      const count = Math.min(chunkElements, total - start);
      const bytes = scratch.subarray(0, count * elementBytes);
      await readExactly(
        this.handle,
        bytes,
        this.header.dataStart + entry.begin + start * elementBytes,
        this.path,
        name,
      );
      consume(bytes, start);
    }
  }

  /** Closes the file handle. */
  async close(): Promise<void> {
    await this.handle.close();
  }
}

/** Runs `use` with an open file and closes it afterwards. */
export async function withSafetensors<T>(
  path: string,
  use: (file: SafetensorsFile) => Promise<T>,
): Promise<T> {
  const file = await SafetensorsFile.open(path);
  try {
    return await use(file);
  } finally {
    await file.close();
  }
}

/** Reads every float tensor of a file (or the named subset) as float32. */
export async function readSafetensorsF32(
  path: string,
  names?: Iterable<string>,
): Promise<Map<string, F32Tensor>> {
  return withSafetensors(path, async (file) => {
    const out = new Map<string, F32Tensor>();
    for (const name of names ?? file.names()) out.set(name, await file.readF32(name));
    return out;
  });
}

function toRaw(file: string, name: string, tensor: WritableTensor | RawTensor): RawTensor {
  if ("bytes" in tensor) {
    const expected = numel(tensor.shape) * DTYPE_BYTES[tensor.dtype];
    if (tensor.bytes.length !== expected) {
      throw new SafetensorsError(
        file,
        `has ${tensor.bytes.length} bytes, ${tensor.dtype} ${JSON.stringify(tensor.shape)} needs ${expected}`,
        name,
      );
    }
    return tensor;
  }
  const { data, shape } = tensor;
  if (!shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new SafetensorsError(file, `bad shape ${JSON.stringify(shape)}`, name);
  }
  if (data.length !== numel(shape)) {
    throw new SafetensorsError(
      file,
      `has ${data.length} values but shape ${JSON.stringify(shape)} needs ${numel(shape)}`,
      name,
    );
  }
  const dtype: SafetensorsDtype =
    data instanceof Float32Array ? "F32" : data instanceof BigInt64Array ? "I64" : "I32";
  let bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (!LITTLE_ENDIAN_HOST) {
    bytes = new Uint8Array(data.byteLength);
    const view = new DataView(bytes.buffer);
    for (let i = 0; i < data.length; i++) {
      if (data instanceof Float32Array) view.setFloat32(i * 4, data[i], true);
      else if (data instanceof BigInt64Array) view.setBigInt64(i * 8, data[i], true);
      else view.setInt32(i * 4, data[i], true);
    }
  }
  return { dtype, shape, bytes };
}

/** Builds the header bytes (padded with spaces to a multiple of 8, as the reference writer does). */
function encodeHeader(
  entries: [string, RawTensor][],
  metadata: Record<string, string> | null,
): { header: Uint8Array; total: number } {
  const json: Record<string, unknown> = {};
  if (metadata !== null) json.__metadata__ = metadata;
  let offset = 0;
  for (const [name, raw] of entries) {
    json[name] = {
      dtype: raw.dtype,
      shape: [...raw.shape],
      data_offsets: [offset, offset + raw.bytes.length],
    };
    offset += raw.bytes.length;
  }
  let text = JSON.stringify(json);
  const encoded = new TextEncoder().encode(text);
  const padding = (8 - (encoded.length % 8)) % 8;
  text += " ".repeat(padding);
  return { header: new TextEncoder().encode(text), total: offset };
}

/**
 * Writes tensors to `path` atomically, in the map's order. Float32Array → F32,
 * BigInt64Array → I64, Int32Array → I32; RawTensor entries are written as given.
 */
export async function writeSafetensors(
  path: string,
  tensors: Map<string, WritableTensor | RawTensor> | Iterable<[string, WritableTensor | RawTensor]>,
  metadata: Record<string, string> | null = { format: "pt" },
): Promise<void> {
  const entries: [string, RawTensor][] = [];
  const seen = new Set<string>();
  for (const [name, tensor] of tensors) {
    if (name === "__metadata__") throw new SafetensorsError(path, "reserved tensor name", name);
    if (seen.has(name)) throw new SafetensorsError(path, "duplicate tensor name", name);
    seen.add(name);
    entries.push([name, toRaw(path, name, tensor)]);
  }
  const { header } = encodeHeader(entries, metadata);
  await withAtomicFile(path, async (tmp) => {
    const handle = await open(tmp, "w");
    try {
      const length = new Uint8Array(8);
      new DataView(length.buffer).setBigUint64(0, BigInt(header.length), true);
      let position = 0;
      for (const chunk of [length, header, ...entries.map(([, raw]) => raw.bytes)]) {
        let done = 0;
        while (done < chunk.length) {
          const length = Math.min(chunk.length - done, 1 << 30);
          const { bytesWritten } = await handle.write(chunk, done, length, position);
          done += bytesWritten;
          position += bytesWritten;
        }
      }
      await handle.sync();
    } finally {
      await handle.close();
    }
  });
}
