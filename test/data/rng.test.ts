import assert from "node:assert/strict";
import { test } from "node:test";
import { PyRandom } from "../../src/data/pyrandom.js";
import { deriveSeed, Rng } from "../../src/data/rng.js";

test("Rng is deterministic per seed and differs across seeds", () => {
  const a = Array.from(
    { length: 5 },
    (
      (r) => () =>
        r.next()
    )(new Rng(7)),
  );
  const b = Array.from(
    { length: 5 },
    (
      (r) => () =>
        r.next()
    )(new Rng(7)),
  );
  const c = Array.from(
    { length: 5 },
    (
      (r) => () =>
        r.next()
    )(new Rng(8)),
  );
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
  for (const x of a) assert.ok(x >= 0 && x < 1);
});

test("int, shuffle, sample and weightedSample keep their contracts", () => {
  const r = new Rng(1);
  for (let i = 0; i < 1000; i++) {
    const k = r.int(7);
    assert.ok(Number.isInteger(k) && k >= 0 && k < 7);
  }
  const xs = Array.from({ length: 50 }, (_, i) => i);
  assert.deepEqual(
    r.shuffle(xs.slice()).sort((a, b) => a - b),
    xs,
  );
  const s = r.sample(xs, 20);
  assert.equal(new Set(s).size, 20);
  assert.throws(() => r.sample(xs, 51), RangeError);
  const w = r.weightedSample([0, 0, 5, 0, 1], 2);
  assert.deepEqual(
    w.slice().sort((a, b) => a - b),
    [2, 4],
  );
});

test("normal has roughly mean 0 and std 1", () => {
  const r = new Rng(3);
  const xs = Array.from({ length: 20000 }, () => r.normal());
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length);
  assert.ok(Math.abs(mean) < 0.05, `mean ${mean}`);
  assert.ok(Math.abs(sd - 1) < 0.05, `sd ${sd}`);
});

test("deriveSeed depends on every key and on the base seed", () => {
  assert.equal(deriveSeed(1, "a", 2), deriveSeed(1, "a", 2));
  assert.notEqual(deriveSeed(1, "a", 2), deriveSeed(1, "a", 3));
  assert.notEqual(deriveSeed(1, "a", 2), deriveSeed(2, "a", 2));
});

test("PyRandom reproduces CPython's random module bit for bit", () => {
  // Reference values printed by CPython 3: random.seed(42); getrandbits(32) ×3; random()
  const r = new PyRandom(42);
  assert.deepEqual([r.uint32(), r.uint32(), r.uint32()], [2746317213, 478163327, 107420369]);
  assert.equal(r.random(), 0.7415504997598329);
  const big = new PyRandom(123456789012);
  assert.deepEqual([big.uint32(), big.uint32()], [1619264890, 2798649831]);
  // random.seed(3); random.sample(range(50), 10)  (pool strategy)
  assert.deepEqual(
    new PyRandom(3).sample([...Array(50).keys()], 10),
    [15, 37, 34, 8, 23, 38, 30, 40, 48, 4],
  );
  // random.seed(7); random.sample(range(4606), 19)  (set strategy)
  assert.deepEqual(
    new PyRandom(7).sample([...Array(4606).keys()], 19),
    [
      2652, 1235, 3234, 395, 593, 4389, 771, 2995, 475, 4156, 1758, 307, 704, 3552, 3425, 572, 1971,
      743, 4514,
    ],
  );
  const x = [...Array(20).keys()];
  new PyRandom(7).shuffle(x);
  assert.deepEqual(x, [17, 15, 11, 18, 7, 6, 19, 3, 14, 0, 9, 5, 16, 8, 13, 2, 1, 12, 4, 10]);
});
