// A small seeded PRNG (xoshiro128** seeded through splitmix32), passed explicitly wherever
// randomness is needed, so runs are reproducible from one integer seed.

/** A seeded random stream: 32-bit integers, uniforms in [0, 1) and standard normals. */
export interface Rng {
  /** The next unsigned 32-bit integer. */
  nextUint32(): number;
  /** A uniform float in [0, 1) with 53 random bits. */
  uniform(): number;
  /** A standard normal sample (Box–Muller; the second value of each pair is kept). */
  normal(): number;
  /** A uniform integer in [0, n). */
  int(n: number): number;
  /** A new independent stream derived from this one's seed and a label. */
  fork(label: string | number): Rng;
}

function splitmix32(state: number): () => number {
  let s = state >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
}

function hashLabel(seed: number, label: string | number): number {
  // FNV-1a over the label text, mixed with the parent seed.
  let h = (0x811c9dc5 ^ seed) >>> 0;
  const text = String(label);
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** Creates a PRNG from an integer seed (only the low 32 bits of |seed| matter, plus its sign). */
export function createRng(seed: number): Rng {
  if (!Number.isFinite(seed) || !Number.isInteger(seed)) {
    throw new Error(`rng seed must be an integer, got ${seed}`);
  }
  const base = (seed >>> 0) ^ (seed < 0 ? 0x5bd1e995 : 0);
  const init = splitmix32(base);
  let a = init();
  let b = init();
  let c = init();
  let d = init();
  if ((a | b | c | d) === 0) a = 1;
  let spare: number | null = null;

  const nextUint32 = (): number => {
    const result = Math.imul(rotl(Math.imul(b, 5), 7), 9) >>> 0;
    const t = b << 9;
    c ^= a;
    d ^= b;
    b ^= c;
    a ^= d;
    c ^= t;
    d = rotl(d, 11);
    return result;
  };
  const uniform = (): number => {
    const hi = nextUint32() >>> 5; // 27 bits
    const lo = nextUint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  };
  return {
    nextUint32,
    uniform,
    normal(): number {
      if (spare !== null) {
        const v = spare;
        spare = null;
        return v;
      }
      let u = uniform();
      while (u === 0) u = uniform();
      const v = uniform();
      const radius = Math.sqrt(-2 * Math.log(u));
      spare = radius * Math.sin(2 * Math.PI * v);
      return radius * Math.cos(2 * Math.PI * v);
    },
    int(n: number): number {
      if (!Number.isInteger(n) || n <= 0)
        throw new Error(`rng.int needs a positive integer, got ${n}`);
      return Math.floor(uniform() * n);
    },
    fork(label: string | number): Rng {
      return createRng(hashLabel(base, label) | 0);
    },
  };
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
