// Reader of the safetensors format (floats as float32; integers as I64/I32 arrays); the format's
// types and header parsing are in safetensors-format.ts, the writer in safetensors-write.ts, and
// this module re-exports both so callers import one place.
import { type FileHandle, open } from "node:fs/promises";
import { decodeBF16, decodeF16 } from "./float16.js";
import {
  type F32Tensor,
  LITTLE_ENDIAN_HOST,
  MAX_HEADER_BYTES,
  numel,
  parseHeader,
  type RawTensor,
  SafetensorsError,
  type SafetensorsHeader,
  type TensorEntry,
} from "./safetensors-format.js";

export {
  dtypeBytes,
  type F32Tensor,
  parseHeader,
  type RawTensor,
  type SafetensorsDtype,
  SafetensorsError,
  type SafetensorsHeader,
  type TensorEntry,
  type WritableTensor,
} from "./safetensors-format.js";
export { writeSafetensors } from "./safetensors-write.js";

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
