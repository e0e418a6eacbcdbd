// Writing safetensors files (atomically): float32/int tensors or already-encoded bytes, with the
// header padded as the reference writer does.
import { open } from "node:fs/promises";
import { withAtomicFile } from "./atomic.js";
import {
  DTYPE_BYTES,
  LITTLE_ENDIAN_HOST,
  numel,
  type RawTensor,
  type SafetensorsDtype,
  SafetensorsError,
  type WritableTensor,
} from "./safetensors-format.js";

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
