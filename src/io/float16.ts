// IEEE half (F16) and bfloat16 (BF16) → float32 by hand: Node 20 has no Float16Array.

let f16Table: Float32Array | null = null;

/** Decodes one F16 bit pattern (0..65535) to a number: normals, subnormals, ±0, ±inf, NaN. */
export function f16BitsToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >>> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 0x1f) return fraction === 0 ? sign * Number.POSITIVE_INFINITY : Number.NaN;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

/** Decodes one BF16 bit pattern: it is the upper half of a float32. */
export function bf16BitsToNumber(bits: number): number {
  const scratch = new Uint32Array([(bits & 0xffff) << 16]);
  return new Float32Array(scratch.buffer)[0];
}

function table(): Float32Array {
  // Every F16 value is exact in float32, so a 65536-entry table is both exact and fast.
  if (f16Table === null) {
    f16Table = new Float32Array(65536);
    for (let bits = 0; bits < 65536; bits++) f16Table[bits] = f16BitsToNumber(bits);
  }
  return f16Table;
}

/** Decodes F16 values into `out` (same length). */
export function decodeF16(src: Uint16Array, out: Float32Array): void {
  const t = table();
  for (let i = 0; i < src.length; i++) out[i] = t[src[i]];
}

/** Decodes BF16 values into `out` (same length) by shifting each into a float32's high half. */
export function decodeBF16(src: Uint16Array, out: Float32Array): void {
  const outBits = new Uint32Array(out.buffer, out.byteOffset, out.length);
  for (let i = 0; i < src.length; i++) outBits[i] = src[i] << 16;
}

/** Encodes a number as F16 bits, rounding to nearest even (for tests and fixtures). */
export function numberToF16Bits(value: number): number {
  if (Number.isNaN(value)) return 0x7e00;
  const sign = value < 0 || Object.is(value, -0) ? 0x8000 : 0;
  const a = Math.abs(value);
  if (a === Number.POSITIVE_INFINITY) return sign | 0x7c00;
  if (a === 0) return sign;
  // Scale to an integer count of 2^-24 units (subnormal step), then round half to even.
  let exponent = Math.floor(Math.log2(a));
  if (2 ** exponent > a) exponent -= 1;
  if (exponent < -14) {
    const units = roundHalfEven(a / 2 ** -24);
    return sign | units; // units may reach 1024 = the smallest normal, which is the same bits
  }
  const mantissa = roundHalfEven((a / 2 ** exponent - 1) * 1024);
  let e = exponent + 15;
  let m = mantissa;
  if (m === 1024) {
    m = 0;
    e += 1;
  }
  if (e >= 0x1f) return sign | 0x7c00;
  return sign | (e << 10) | m;
}

/** Encodes a number as BF16 bits, rounding to nearest even (for tests and fixtures). */
export function numberToBF16Bits(value: number): number {
  const f = new Float32Array([value]);
  const bits = new Uint32Array(f.buffer)[0];
  if (Number.isNaN(f[0])) return 0x7fc0;
  const rounded = bits + 0x7fff + ((bits >>> 16) & 1);
  return (rounded >>> 16) & 0xffff;
}

function roundHalfEven(x: number): number {
  const floor = Math.floor(x);
  const diff = x - floor;
  if (diff > 0.5) return floor + 1;
  if (diff < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}
