// Answer parsing against S-DPO's and LLaRA's published rules, and ranking metrics on hand-worked cases.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { llaraVerdict, sdpoVerdict } from "../../src/eval/parse.js";
import { rankingMetrics, rankOf } from "../../src/eval/ranking.js";

const cans = ["Muse", "Muse Live", "Björk", "The Beatles", "AC/DC"];

describe("S-DPO answer parsing (evaluate_batch.py)", () => {
  it("exactly one candidate that is the target: valid hit", () => {
    assert.deepEqual(sdpoVerdict("Björk", cans, 2), { matches: [2], valid: true, hit: true });
  });
  it("one candidate that is not the target: valid miss", () => {
    assert.deepEqual(sdpoVerdict("I think The Beatles", cans, 2), {
      matches: [3],
      valid: true,
      hit: false,
    });
  });
  it("zero candidates (hallucination) and two candidates (a list) are invalid", () => {
    assert.equal(sdpoVerdict("Radiohead", cans, 2).valid, false);
    const two = sdpoVerdict("Björk, AC/DC", cans, 2);
    assert.deepEqual(two.matches, [2, 4]);
    assert.equal(two.valid, false);
    assert.equal(two.hit, false);
  });
  it("a candidate that is a substring of another counts twice (as published)", () => {
    const v = sdpoVerdict("Muse Live", cans, 1);
    assert.deepEqual(v.matches, [0, 1]);
    assert.equal(v.valid, false);
    assert.deepEqual(sdpoVerdict("Muse", cans, 0), { matches: [0], valid: true, hit: true });
  });
  it("matching is case-sensitive and not restricted to the first line", () => {
    assert.equal(sdpoVerdict("björk", cans, 2).valid, false);
    assert.deepEqual(sdpoVerdict("well…\nBjörk", cans, 2), {
      matches: [2],
      valid: true,
      hit: true,
    });
  });
});

describe("LLaRA answer parsing (calculate_hr1)", () => {
  it("first line only, lower-cased", () => {
    assert.deepEqual(llaraVerdict("björk\nThe Beatles", cans, 2), {
      matches: [2],
      valid: true,
      hit: true,
    });
    assert.equal(llaraVerdict("Some text\nBjörk", cans, 2).valid, false);
  });
  it("the matched candidate must be the target", () => {
    assert.deepEqual(llaraVerdict("  AC/DC ", cans, 2), { matches: [4], valid: true, hit: false });
  });
});

describe("ranking metrics", () => {
  it("rank of the target, ties counted against it", () => {
    assert.equal(rankOf([-1, -3, -2], 0), 1);
    assert.equal(rankOf([-1, -3, -2], 2), 2);
    assert.equal(rankOf([-2, -2, -2], 1), 3);
    assert.equal(rankOf([-2, Number.NaN, -1], 1), 3);
  });
  it("HR@k, NDCG@k and MRR by hand", () => {
    const m = rankingMetrics([1, 2, 4, 11]);
    assert.equal(m.examples, 4);
    assert.equal(m.hr["1"], 0.25);
    assert.equal(m.hr["3"], 0.5);
    assert.equal(m.hr["5"], 0.75);
    assert.equal(m.hr["10"], 0.75);
    const ndcg5 = (1 + 1 / Math.log2(3) + 1 / Math.log2(5)) / 4;
    assert.ok(Math.abs(m.ndcg["5"] - ndcg5) < 1e-12);
    assert.ok(Math.abs(m.ndcg["10"] - ndcg5) < 1e-12);
    assert.ok(Math.abs(m.mrr - (1 + 1 / 2 + 1 / 4 + 1 / 11) / 4) < 1e-12);
  });
});
