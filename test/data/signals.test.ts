import assert from "node:assert/strict";
import { test } from "node:test";
import { observedSignal, phi, unobservedSignal } from "../../src/data/signals.js";

test("φ = rating / (1 + position)^0.5 on hand-checked values", () => {
  assert.equal(phi(5, 0), 5);
  assert.ok(Math.abs(phi(4, 1) - 2.8284271) < 1e-6);
  assert.ok(Math.abs(phi(5, 2) - 2.8867513) < 1e-6);
  assert.ok(Math.abs(phi(2, 3) - 1) < 1e-12);
  assert.ok(Math.abs(phi(3, 10) - 0.904534) < 1e-6);
});

test("φ never divides by zero and never returns 0, NaN or Infinity", () => {
  for (const [r, p] of [
    [0, 0],
    [-1, 0],
    [Number.NaN, 1],
    [3, -1],
    [3, Number.NaN],
  ]) {
    const v = phi(r, p);
    assert.ok(Number.isFinite(v) && v > 0, `phi(${r}, ${p}) = ${v}`);
  }
});

test("defaults: unobserved items get rating 3 at position 10; unrated observed items rating 5", () => {
  const u = unobservedSignal();
  assert.deepEqual(u, { rating: 3, position: 10, phi: 0.904534, observed: false });
  assert.deepEqual(observedSignal(undefined, 0), {
    rating: 5,
    position: 0,
    phi: 5,
    observed: true,
  });
  assert.deepEqual(observedSignal(4, 1), { rating: 4, position: 1, phi: 2.828427, observed: true });
  // RecPO's worked margin: chosen 5 at step 0 against a random negative → 5 / 0.905 ≈ 5.53 per unit λ.
  assert.ok(Math.abs(5 / phi(3, 10) - 5.5277) < 1e-3);
});
