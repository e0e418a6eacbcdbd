// Counter-based pseudo-random numbers inside a graph: a 32-bit integer hash of (element index,
// seed), so a fed seed reproduces exactly the same numbers on any machine and after a resume.

import { type Dim, dimProduct } from "./dim.js";
import type { Value } from "./graph.js";
import { add, bitwiseXor, cast, div, greaterOrEqual, mod, mul } from "./ops/elementwise.js";
import { range } from "./ops/indexing.js";
import { reshape } from "./ops/shape.js";

const TWO32 = 4294967296;

/** Uniform numbers in [0, 1) of `shape`, from an int64 scalar `seed` (< 2^31) and a stream id. */
export function uniformLike(
  shape: readonly Dim[],
  seed: Value,
  stream: number,
  dtype: "float32" | "float64" = "float32",
): Value {
  const g = seed.graph;
  const index = reshape(range(g, 0, dimProduct(shape)), shape);
  // Two rounds of multiply–xorshift (the "lowbias32" hash); every product stays below 2^63.
  let h = mod(add(mul(index, 2654435761), add(seed, (stream * 1000003) % 2147483647)), TWO32);
  h = bitwiseXor(h, div(h, 65536));
  h = mod(mul(h, 73244475), TWO32);
  h = bitwiseXor(h, div(h, 65536));
  h = mod(mul(h, 73244475), TWO32);
  h = bitwiseXor(h, div(h, 65536));
  return div(cast(h, dtype), TWO32);
}

/** Inverted dropout: zeros a share `p` of x's elements, scales the rest by 1/(1−p). */
export function dropout(x: Value, p: number, seed: Value, stream: number): Value {
  if (p <= 0) return x;
  const u = uniformLike(x.shape, seed, stream, x.dtype as "float32" | "float64");
  const mask = cast(greaterOrEqual(u, p), x.dtype);
  return mul(x, mul(mask, 1 / (1 - p)));
}
