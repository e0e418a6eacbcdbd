import assert from "node:assert/strict";
import { test } from "node:test";
import { createRng } from "../../src/io/rng.js";

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
