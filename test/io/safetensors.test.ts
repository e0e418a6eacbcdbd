import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { numberToBF16Bits, numberToF16Bits } from "../../src/io/float16.js";
import {
  type RawTensor,
  readSafetensorsF32,
  SafetensorsError,
  SafetensorsFile,
  type WritableTensor,
  withSafetensors,
  writeSafetensors,
} from "../../src/io/safetensors.js";
import { tempDir } from "./helpers.js";

const FIXTURE = fileURLToPath(new URL("./fixtures/mixed.safetensors", import.meta.url));

test("reads a file written independently by Python's struct (F16, BF16, F32, I64, I32)", async () => {
  await withSafetensors(FIXTURE, async (file) => {
    assert.deepEqual(file.names(), ["b.f32", "a.f16", "c.bf16", "d.i64", "e.i32"]);
    assert.deepEqual(file.header.metadata, { format: "pt", source: "make_mixed.py" });
    const f16 = await file.readF32("a.f16");
    assert.deepEqual(f16.shape, [11]);
    const expected = [
      1,
      -2.5,
      65504,
      2 ** -24,
      1023 * 2 ** -24,
      2 ** -14,
      Infinity,
      -Infinity,
      0.333251953125,
      -0,
    ];
    for (const [i, v] of expected.entries()) {
      assert.ok(Object.is(f16.data[i], v), `a.f16[${i}] = ${f16.data[i]}, expected ${v}`);
    }
    assert.ok(Number.isNaN(f16.data[10]));
    const bf16 = await file.readF32("c.bf16");
    assert.deepEqual(bf16.shape, [2, 3]);
    assert.deepEqual([...bf16.data], [1, -2.5, 65280, Math.fround(2 ** -133), Infinity, 3.140625]);
    const f32 = await file.readF32("b.f32");
    assert.deepEqual([...f32.data], [0.5, -1.25, 3, Math.fround(1e-3), 7, -8.5]);
    const i64 = await file.readInt("d.i64");
    assert.deepEqual([...i64.data], [-1n, 0n, 2n ** 40n, 7n]);
    const i32 = await file.readInt("e.i32");
    assert.deepEqual(i32.shape, [1, 2]);
    assert.deepEqual([...i32.data], [-5, 123456]);
    await assert.rejects(
      file.readF32("d.i64"),
      /mixed\.safetensors \(tensor "d\.i64"\): dtype I64 is not a float type/,
    );
    await assert.rejects(file.readF32("zzz"), /tensor "zzz"\): no such tensor/);
  });
});

test("write then read: F32, I64, I32, raw F16/BF16, metadata, 8-byte aligned header", async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, "x.safetensors");
  const f16Bits = new Uint16Array([0x3c00, 0xc100, 0x0001]);
  await writeSafetensors(
    path,
    new Map<string, WritableTensor | RawTensor>([
      ["w", { shape: [2, 2], data: new Float32Array([1, 2, 3, 4]) }],
      ["empty", { shape: [0, 3], data: new Float32Array(0) }],
      ["ids", { shape: [3], data: new BigInt64Array([1n, -2n, 3n]) }],
      ["n", { shape: [], data: new Int32Array([42]) }],
      ["h", { dtype: "F16", shape: [3], bytes: new Uint8Array(f16Bits.buffer) }],
      [
        "bf",
        {
          dtype: "BF16",
          shape: [2],
          bytes: new Uint8Array(
            new Uint16Array([numberToBF16Bits(0.5), numberToBF16Bits(-3)]).buffer,
          ),
        },
      ],
    ]),
    { format: "pt", note: "hi" },
  );
  const bytes = await readFile(path);
  const headerLength = Number(bytes.readBigUInt64LE(0));
  assert.equal(headerLength % 8, 0);
  const file = await SafetensorsFile.open(path);
  try {
    assert.deepEqual(file.header.metadata, { format: "pt", note: "hi" });
    assert.deepEqual([...(await file.readF32("w")).data], [1, 2, 3, 4]);
    assert.deepEqual((await file.readF32("empty")).shape, [0, 3]);
    assert.deepEqual([...(await file.readInt("ids")).data], [1n, -2n, 3n]);
    assert.deepEqual((await file.readInt("n")).shape, []);
    assert.deepEqual([...(await file.readF32("h")).data], [1, -2.5, 2 ** -24]);
    assert.deepEqual([...(await file.readF32("bf")).data], [0.5, -3]);
    assert.equal(file.entry("h").dtype, "F16");
  } finally {
    await file.close();
  }
  const all = await readSafetensorsF32(path, ["w", "h"]);
  assert.deepEqual([...all.keys()], ["w", "h"]);
  assert.equal(numberToF16Bits(-2.5), 0xc100);
});

test("large F16 tensors decode across read chunks", async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, "big.safetensors");
  const n = 5_000_001; // > one 8 MiB chunk of halves
  const bits = new Uint16Array(n);
  for (let i = 0; i < n; i++) bits[i] = numberToF16Bits((i % 2048) - 1024);
  await writeSafetensors(path, [
    ["big", { dtype: "F16", shape: [n], bytes: new Uint8Array(bits.buffer) }],
  ]);
  const { data } = (await readSafetensorsF32(path)).get("big")!;
  for (const i of [0, 1, 4_194_303, 4_194_304, 4_194_305, n - 1])
    assert.equal(data[i], (i % 2048) - 1024);
});

async function writeRaw(
  path: string,
  header: unknown,
  dataBytes: number,
  lengthOverride?: bigint,
): Promise<void> {
  const text = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(lengthOverride ?? BigInt(text.length));
  await writeFile(path, Buffer.concat([len, text, Buffer.alloc(dataBytes)]));
}

test("corrupt files give errors naming the file and tensor", async (t) => {
  const dir = await tempDir(t);
  const p = join(dir, "bad.safetensors");
  const expectError = async (pattern: RegExp) => {
    await assert.rejects(SafetensorsFile.open(p), (e: unknown) => {
      assert.ok(e instanceof SafetensorsError, String(e));
      assert.match(e.message, pattern);
      assert.ok(e.message.startsWith(p), e.message);
      return true;
    });
  };
  await writeRaw(p, { w: { dtype: "F32", shape: [2], data_offsets: [0, 8] } }, 8, 10_000n);
  await expectError(/header length 10000 is larger than the file allows/);
  await writeRaw(p, { w: { dtype: "F32", shape: [2], data_offsets: [0, 8] } }, 4);
  await expectError(
    /tensor "w"\): data_offsets end 8 is past the data section \(4 bytes; file truncated\?\)/,
  );
  await writeRaw(p, { w: { dtype: "F32", shape: [3], data_offsets: [0, 8] } }, 12);
  await expectError(/tensor "w"\): data_offsets \[0, 8\] span 8 bytes but F32 \[3\] needs 12/);
  await writeRaw(p, { w: { dtype: "Q4", shape: [3], data_offsets: [0, 8] } }, 12);
  await expectError(/tensor "w"\): unsupported dtype "Q4"/);
  await writeRaw(
    p,
    {
      a: { dtype: "F32", shape: [2], data_offsets: [0, 8] },
      b: { dtype: "F32", shape: [2], data_offsets: [4, 12] },
    },
    12,
  );
  await expectError(/tensor "b"\): data overlaps tensor "a"/);
  await writeRaw(p, { w: { dtype: "F32", shape: [-1], data_offsets: [0, 8] } }, 8);
  await expectError(/tensor "w"\): bad shape \[-1\]/);
  await writeFile(p, Buffer.concat([Buffer.from([5, 0, 0, 0, 0, 0, 0, 0]), Buffer.from("{oops")]));
  await expectError(/header is not valid UTF-8 JSON/);
  await writeFile(p, Buffer.from([1, 2, 3]));
  await expectError(/shorter than the 8-byte header length/);
  await assert.rejects(
    SafetensorsFile.open(join(dir, "nope.safetensors")),
    /nope\.safetensors: cannot open \(ENOENT\)/,
  );
});

test("writer rejects mismatched shapes and leaves no file behind", async (t) => {
  const dir = await tempDir(t);
  const p = join(dir, "w.safetensors");
  await assert.rejects(
    writeSafetensors(p, [["w", { shape: [3], data: new Float32Array(2) }]]),
    /w\.safetensors \(tensor "w"\): has 2 values but shape \[3\] needs 3/,
  );
  await assert.rejects(readFile(p), /ENOENT/);
});
