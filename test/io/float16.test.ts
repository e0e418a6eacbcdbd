import assert from "node:assert/strict";
import { test } from "node:test";
import {
  bf16BitsToNumber,
  decodeBF16,
  decodeF16,
  f16BitsToNumber,
  numberToBF16Bits,
  numberToF16Bits,
} from "../../src/io/float16.js";

test("F16 bit patterns decode to hand-worked values", () => {
  const cases: [number, number][] = [
    [0x3c00, 1],
    [0xc100, -2.5],
    [0x7bff, 65504],
    [0x0001, 2 ** -24], // smallest subnormal
    [0x03ff, 1023 * 2 ** -24], // largest subnormal
    [0x0400, 2 ** -14], // smallest normal
    [0x3555, 0.333251953125],
    [0x7c00, Number.POSITIVE_INFINITY],
    [0xfc00, Number.NEGATIVE_INFINITY],
    [0x0000, 0],
  ];
  for (const [bits, value] of cases)
    assert.equal(f16BitsToNumber(bits), value, `0x${bits.toString(16)}`);
  assert.ok(Object.is(f16BitsToNumber(0x8000), -0));
  assert.ok(Number.isNaN(f16BitsToNumber(0x7e00)));
  assert.ok(Number.isNaN(f16BitsToNumber(0xfc01)));
});

test("BF16 bit patterns decode to hand-worked values", () => {
  const cases: [number, number][] = [
    [0x3f80, 1],
    [0xc020, -2.5],
    [0x477f, 65280],
    [0x0001, 2 ** -133], // smallest subnormal
    [0x7f80, Number.POSITIVE_INFINITY],
    [0xff80, Number.NEGATIVE_INFINITY],
    [0x4049, 3.140625],
  ];
  for (const [bits, value] of cases)
    assert.equal(bf16BitsToNumber(bits), value, `0x${bits.toString(16)}`);
  assert.ok(Object.is(bf16BitsToNumber(0x8000), -0));
  assert.ok(Number.isNaN(bf16BitsToNumber(0x7fc0)));
});

test("array decoders agree with the scalar decoders on every bit pattern", () => {
  const all = new Uint16Array(65536).map((_, i) => i);
  const f16 = new Float32Array(65536);
  const bf16 = new Float32Array(65536);
  decodeF16(all, f16);
  decodeBF16(all, bf16);
  for (let i = 0; i < 65536; i++) {
    const a = f16BitsToNumber(i);
    const b = bf16BitsToNumber(i);
    assert.ok(
      Object.is(f16[i], a) || (Number.isNaN(f16[i]) && Number.isNaN(a)),
      `f16 0x${i.toString(16)}`,
    );
    assert.ok(
      Object.is(bf16[i], Math.fround(b)) || (Number.isNaN(bf16[i]) && Number.isNaN(b)),
      `bf16 0x${i.toString(16)}`,
    );
  }
});

test("encoders invert the decoders and round to nearest even", () => {
  for (let bits = 0; bits < 65536; bits++) {
    const v = f16BitsToNumber(bits);
    if (!Number.isNaN(v)) assert.equal(numberToF16Bits(v), bits, `f16 0x${bits.toString(16)}`);
    const w = bf16BitsToNumber(bits);
    if (!Number.isNaN(w)) assert.equal(numberToBF16Bits(w), bits, `bf16 0x${bits.toString(16)}`);
  }
  assert.equal(numberToF16Bits(1 + 2 ** -11), 0x3c00); // halfway → even (down)
  assert.equal(numberToF16Bits(1 + 3 * 2 ** -11), 0x3c02); // halfway → even (up)
  assert.equal(numberToF16Bits(70000), 0x7c00); // overflow → inf
  assert.equal(numberToF16Bits(2 ** -26), 0x0000); // below half the smallest subnormal
});
