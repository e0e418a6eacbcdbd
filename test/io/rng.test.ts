import assert from "node:assert/strict";
import { test } from "node:test";
import { createRng, dataRng, deriveSeed } from "../../src/io/rng.js";

test("same seed, same stream; different seeds differ", () => {
  const a = createRng(42);
  const b = createRng(42);
  const c = createRng(43);
  const xs = Array.from({ length: 100 }, () => a.nextUint32());
  assert.deepEqual(
    xs,
    Array.from({ length: 100 }, () => b.nextUint32()),
  );
  assert.notDeepEqual(
    xs,
    Array.from({ length: 100 }, () => c.nextUint32()),
  );
  assert.notDeepEqual(
    Array.from({ length: 10 }, () => createRng(0).fork("x").uniform()),
    Array.from({ length: 10 }, () => createRng(0).fork("y").uniform()),
  );
  assert.throws(() => createRng(1.5), /seed must be an integer/);
});

test("uniform, int and normal have the right ranges and moments", () => {
  const rng = createRng(7);
  const n = 200_000;
  let sum = 0;
  let sq = 0;
  for (let i = 0; i < n; i++) {
    const u = rng.uniform();
    assert.ok(u >= 0 && u < 1);
    const z = rng.normal();
    sum += z;
    sq += z * z;
  }
  assert.ok(Math.abs(sum / n) < 0.01, `mean ${sum / n}`);
  assert.ok(Math.abs(sq / n - 1) < 0.02, `var ${sq / n}`);
  const counts = new Array(5).fill(0);
  for (let i = 0; i < 50_000; i++) counts[rng.int(5)]++;
  for (const c of counts) assert.ok(Math.abs(c - 10_000) < 500, String(counts));
});

test("uniform streams are deterministic per seed and differ across seeds", () => {
  const a = Array.from(
    { length: 5 },
    (
      (r) => () =>
        r.uniform()
    )(createRng(7)),
  );
  const b = Array.from(
    { length: 5 },
    (
      (r) => () =>
        r.uniform()
    )(createRng(7)),
  );
  const c = Array.from(
    { length: 5 },
    (
      (r) => () =>
        r.uniform()
    )(createRng(8)),
  );
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
  for (const x of a) assert.ok(x >= 0 && x < 1);
});

test("int, shuffle, sample and weightedSample keep their contracts", () => {
  const r = createRng(1);
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

test("normal(mean, std) shifts and scales the standard normal", () => {
  const r = createRng(3);
  const xs = Array.from({ length: 20000 }, () => r.normal(2, 3));
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length);
  assert.ok(Math.abs(mean - 2) < 0.1, `mean ${mean}`);
  assert.ok(Math.abs(sd - 3) < 0.1, `sd ${sd}`);
});

test("deriveSeed depends on every key and on the base seed", () => {
  assert.equal(deriveSeed(1, "a", 2), deriveSeed(1, "a", 2));
  assert.notEqual(deriveSeed(1, "a", 2), deriveSeed(1, "a", 3));
  assert.notEqual(deriveSeed(1, "a", 2), deriveSeed(2, "a", 2));
});

test("dataRng is mulberry32: the reference algorithm, step by step", () => {
  // mulberry32 as published (Tommy Ettinger), written out independently of src/io/rng.ts.
  let a = 12345;
  const reference = () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const r = dataRng(12345);
  for (let i = 0; i < 1000; i++) assert.equal(r.uniform(), reference());
  // Helpers behave alike on both generators.
  const xs = Array.from({ length: 30 }, (_, i) => i);
  for (const g of [dataRng(4), createRng(4)])
    assert.deepEqual(
      g.shuffle(xs.slice()).sort((p, q) => p - q),
      xs,
    );
  assert.throws(() => dataRng(1).int(0), /positive integer/);
});
