import assert from "node:assert/strict";
import { test } from "node:test";
import { PyRandom } from "../../src/data/pyrandom.js";

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
