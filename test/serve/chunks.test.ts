// Engine runs of a gathered batch: requests sorted by candidate count then prompt length, runs of
// at most `size`, every answer back at its request's position.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Example } from "../../src/data/types.js";
import { scoreInRuns, sizeOrder } from "../../src/serve/chunks.js";
import { fakeCatalog } from "./fakes.js";

const catalog = fakeCatalog();
/** An example with `h` history items and `c` candidates (prompt length grows with both). */
const example = (id: string, h: number, c: number): Example =>
  catalog.example(
    id,
    Array.from({ length: h }, (_, i) => catalog.ref(i)),
    Array.from({ length: c }, (_, i) => catalog.ref(11 - i)),
  );

describe("engine runs of a batch", () => {
  const examples = [
    example("a", 5, 3),
    example("b", 1, 3),
    example("c", 2, 6),
    example("d", 9, 3),
    example("e", 1, 6),
    example("f", 3, 3),
    example("g", 1, 3),
  ];

  it("orders by candidate count, then prompt length, then position", () => {
    const ids = sizeOrder(examples).map((i) => examples[i].id);
    // b and g tie on both keys: input order decides.
    assert.deepEqual(ids, ["b", "g", "f", "a", "d", "e", "c"]);
  });

  it("scores in runs of at most `size` and answers in request order", async () => {
    const runs: string[][] = [];
    const out = await scoreInRuns(examples, 3, async (run) => {
      runs.push(run.map((e) => e.id));
      return run.map((e) => `${e.id}:${e.candidates.length}`);
    });
    assert.deepEqual(runs, [["b", "g", "f"], ["a", "d", "e"], ["c"]]);
    assert.deepEqual(
      out,
      examples.map((e) => `${e.id}:${e.candidates.length}`),
    );
  });

  it("rejects a scorer that returns the wrong number of rows", async () => {
    await assert.rejects(
      scoreInRuns(examples, 4, async (run) => run.slice(1)),
      /3 rows for 4 examples/,
    );
  });
});
