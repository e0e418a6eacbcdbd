// Engine runs of a gathered batch: requests sorted by candidate count then prompt length, runs of
// at most `size`, every answer back at its request's position.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Example } from "../../src/data/types.js";
import { cutRuns, scoreInRuns, sizeOrder } from "../../src/serve/chunks.js";
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

  it("keeps each run within the answer-token budget (examples × candidates × longest answer)", () => {
    // Shapes [candidates, longest answer]: padded tokens of a run = size × max n × max tc.
    const shapes = new Map<string, [number, number]>([
      ["a", [3, 2]],
      ["b", [3, 4]],
      ["c", [6, 2]],
      ["d", [3, 1]],
      ["e", [6, 9]],
      ["f", [3, 2]],
      ["g", [3, 2]],
    ]);
    const budget = { shape: (e: Example) => shapes.get(e.id)!, maxTokens: 24 };
    const ids = (runs: number[][]) => runs.map((r) => r.map((i) => examples[i].id));
    const order = sizeOrder(examples); // b g f a d e c
    // b+g: 2·3·4 = 24 fits; +f: 36 no. f+a+d: 3·3·2 = 18; e alone (54: over, but runs alone);
    // c: 6·2 = 12.
    assert.deepEqual(ids(cutRuns(examples, order, 8, budget)), [
      ["b", "g"],
      ["f", "a", "d"],
      ["e"],
      ["c"],
    ]);
    assert.deepEqual(ids(cutRuns(examples, order, 2, budget)), [
      ["b", "g"],
      ["f", "a"],
      ["d"],
      ["e"],
      ["c"],
    ]);
  });

  it("rejects a scorer that returns the wrong number of rows", async () => {
    await assert.rejects(
      scoreInRuns(examples, 4, async (run) => run.slice(1)),
      /3 rows for 4 examples/,
    );
  });
});
