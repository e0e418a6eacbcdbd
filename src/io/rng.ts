// The project's seeded randomness, passed explicitly wherever a random choice is made, so runs are
// reproducible from one integer seed: one `Rng` interface (uniforms, integers, normals, shuffles,
// samples), deriveSeed to turn (seed, keys…) into independent streams, and two core generators:
// xoshiro128** (weights, LoRA init, batch order) and mulberry32 (`dataRng`: data preparation and
// the synthetic world — kept so that prepared datasets and the demo keep their exact bytes).
// CPython's generator, needed to reproduce published data, is a different job: data/pyrandom.ts.

/** A seeded random stream: 32-bit integers, uniforms in [0, 1) and standard normals. */
export interface Rng {
  /** The next unsigned 32-bit integer. */
  nextUint32(): number;
  /** A uniform float in [0, 1) (53 random bits from xoshiro128**, 32 from mulberry32). */
  uniform(): number;
  /** A normal sample, standard by default (Box–Muller). */
  normal(mean?: number, std?: number): number;
  /** A uniform integer in [0, n). */
  int(n: number): number;
  /** A new independent stream derived from this one's seed and a label. */
  fork(label: string | number): Rng;
  /** Shuffles `a` in place (Fisher–Yates) and returns it. */
  shuffle<T>(a: T[]): T[];
  /** k distinct elements of `a`, in draw order (partial Fisher–Yates on a copy). */
  sample<T>(a: readonly T[], k: number): T[];
  /** k distinct indices drawn with probability proportional to `weights`, without replacement. */
  weightedSample(weights: readonly number[], k: number): number[];
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
  const standardNormal = (): number => {
    // The second value of each Box–Muller pair is kept for the next call.
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
  };
  return withHelpers({
    nextUint32,
    uniform,
    normal: (mean = 0, std = 1) => mean + std * standardNormal(),
    fork: (label) => createRng(hashLabel(base, label) | 0),
  });
}

/**
 * The data layer's stream: mulberry32 from a 32-bit seed (usually a deriveSeed). Normals take
 * one Box–Muller value per pair, with 1 − u keeping the log finite.
 */
export function dataRng(seed: number): Rng {
  let state = seed >>> 0;
  const nextUint32 = (): number => {
    state = (state + 0x6d2b79f5) | 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
  const uniform = () => nextUint32() / 4294967296;
  return withHelpers({
    nextUint32,
    uniform,
    normal(mean = 0, std = 1) {
      const u = 1 - uniform();
      const v = uniform();
      return mean + std * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    },
    fork: (label) => dataRng(deriveSeed(seed, String(label))),
  });
}

/** The parts of an Rng each core generator supplies; withHelpers derives the rest from them. */
type Core = Pick<Rng, "nextUint32" | "uniform" | "normal" | "fork">;

function withHelpers(core: Core): Rng {
  const { uniform } = core;
  const int = (n: number): number => {
    if (!Number.isInteger(n) || n <= 0)
      throw new Error(`rng.int needs a positive integer, got ${n}`);
    return Math.floor(uniform() * n);
  };
  return {
    ...core,
    int,
    shuffle<T>(a: T[]): T[] {
      for (let i = a.length - 1; i > 0; i--) {
        const j = int(i + 1);
        const t = a[i];
        a[i] = a[j];
        a[j] = t;
      }
      return a;
    },
    sample<T>(a: readonly T[], k: number): T[] {
      if (k > a.length) throw new RangeError(`cannot sample ${k} of ${a.length} elements`);
      const copy = a.slice();
      for (let i = 0; i < k; i++) {
        const j = i + int(copy.length - i);
        const t = copy[i];
        copy[i] = copy[j];
        copy[j] = t;
      }
      return copy.slice(0, k);
    },
    weightedSample(weights: readonly number[], k: number): number[] {
      if (k > weights.length)
        throw new RangeError(`cannot sample ${k} of ${weights.length} elements`);
      const w = weights.slice();
      const out: number[] = [];
      for (let n = 0; n < k; n++) {
        let total = 0;
        for (const x of w) total += x;
        let pick = -1;
        if (total > 0) {
          let r = uniform() * total;
          for (let i = 0; i < w.length; i++) {
            if (w[i] <= 0) continue;
            r -= w[i];
            pick = i;
            if (r < 0) break;
          }
        } else {
          const free = w.map((_, i) => i).filter((i) => !out.includes(i));
          pick = free[int(free.length)];
        }
        out.push(pick);
        w[pick] = 0;
      }
      return out;
    },
  };
}

/** Mixes a 32-bit state (splitmix32 finaliser); used to derive independent seeds from keys. */
function mix32(x: number): number {
  x = (x + 0x9e3779b9) | 0;
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

/** FNV-1a of a string, so string keys (user ids, split names) can seed streams. */
function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/**
 * Derives a 32-bit seed from a base seed and keys, so that e.g. the candidates of
 * (user, position) do not depend on the order in which examples are built.
 */
export function deriveSeed(seed: number, ...keys: (number | string)[]): number {
  let h = mix32((seed >>> 0) ^ Math.floor(seed / 0x100000000));
  for (const k of keys) {
    const v =
      typeof k === "number" ? mix32(k >>> 0) ^ mix32(Math.floor(k / 0x100000000)) : hashString(k);
    h = mix32(h ^ v);
  }
  return h;
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
