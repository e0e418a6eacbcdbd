// Seeded randomness for the data layer: every random choice takes an explicit seed, no global RNG.

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

/** mulberry32 generator with the helpers the data layer needs. */
export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** A uniform float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) | 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** A uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** A standard normal draw (Box–Muller; 1 − u keeps the log finite). */
  normal(mean = 0, std = 1): number {
    const u = 1 - this.next();
    const v = this.next();
    return mean + std * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** Shuffles in place (Fisher–Yates) and returns the array. */
  shuffle<T>(a: T[]): T[] {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
    return a;
  }

  /** k distinct elements of `a`, in draw order (partial Fisher–Yates on a copy). */
  sample<T>(a: readonly T[], k: number): T[] {
    if (k > a.length) throw new RangeError(`cannot sample ${k} of ${a.length} elements`);
    const copy = a.slice();
    for (let i = 0; i < k; i++) {
      const j = i + this.int(copy.length - i);
      const t = copy[i];
      copy[i] = copy[j];
      copy[j] = t;
    }
    return copy.slice(0, k);
  }

  /** k distinct indices drawn with probability proportional to `weights`, without replacement. */
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
        let r = this.next() * total;
        for (let i = 0; i < w.length; i++) {
          if (w[i] <= 0) continue;
          r -= w[i];
          pick = i;
          if (r < 0) break;
        }
      } else {
        const free = w.map((_, i) => i).filter((i) => !out.includes(i));
        pick = free[this.int(free.length)];
      }
      out.push(pick);
      w[pick] = 0;
    }
    return out;
  }
}
