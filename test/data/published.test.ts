// S-DPO JSON files and LLaRA splits round-trip into examples exactly (history, candidates, target).
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { loadExamples, toIds, toSdpoRecord } from "../../src/data/dataset.js";
import { inspectDataset } from "../../src/data/inspect.js";
import { prepareDataset } from "../../src/data/prepare.js";
import { splitHistory } from "../../src/data/sources/sdpo.js";
import { tempDir, writeFiles } from "./helpers.js";

const NAMES = Array.from({ length: 30 }, (_, i) =>
  i === 2 ? ":wumpscut:" : i === 9 ? "Ke$ha" : `Artist ${i}`,
);

test("splitHistory resolves titles that contain '::'", () => {
  const known = new Set([":wumpscut:", "And One", "Duran Duran"]);
  assert.deepEqual(splitHistory(":wumpscut:::And One::Duran Duran", known), [
    ":wumpscut:",
    "And One",
    "Duran Duran",
  ]);
  assert.deepEqual(splitHistory("a::b", new Set()), ["a", "b"]);
});

test("S-DPO files: history, the candidate list in file order and the target are kept as is", async () => {
  const d = await tempDir();
  const rec = (h: number[], cands: number[], t: number) => ({
    historyList: h.map((i) => NAMES[i]).join("::"),
    itemList: cands.map((i) => NAMES[i]),
    trueSelection: NAMES[t],
  });
  const train = [
    rec([2, 4, 5], [9, 7, 1, 12, 20], 7),
    rec([4, 5, 7, 2], [3, 11, 13, 2 + 20, 8], 8),
  ];
  const val = [rec([1, 2, 3], [4, 5, 6, 10, 11], 6)];
  const testRecs = [rec([7, 8, 9, 10], [2, 1, 0, 14, 15], 0)];
  await writeFiles(d, {
    "s/lastfm-train.json": JSON.stringify(train, null, 4),
    "s/lastfm-val.json": JSON.stringify(val),
    "s/lastfm-test.json": JSON.stringify(testRecs),
  });
  const m = await prepareDataset({
    source: "sdpo",
    path: join(d, "s"),
    out: join(d, "ds"),
    quiet: true,
    negatives: 3,
  });
  assert.deepEqual(m.counts, { train: 2, valid: 1, test: 1 });
  assert.equal(m.domain, "music");
  for (const [split, recs] of [
    ["train", train],
    ["valid", val],
    ["test", testRecs],
  ] as const) {
    const exs = await loadExamples(join(d, "ds"), split);
    assert.deepEqual(exs.map(toSdpoRecord), recs);
    for (const e of exs) {
      assert.equal(e.negatives.length, 3);
      assert.ok(
        e.negatives.every((n) => n.item !== e.target.item && e.candidates[n.index].item === n.item),
      );
      assert.ok(e.prompt.includes(e.candidates.map((c) => c.title).join(", ")));
    }
  }
  const first = (await loadExamples(join(d, "ds"), "train"))[0];
  assert.deepEqual(
    first.history.map((h) => h.title),
    [":wumpscut:", "Artist 4", "Artist 5"],
  );
  assert.deepEqual([first.target.rating, first.target.position, first.target.phi], [5, 0, 5]);
  // inspect says the splits are the source's own, not "users 0" and a split that did not happen.
  assert.equal(m.source.kind, "examples");
  const text = await inspectDataset(join(d, "ds"), 0);
  assert.match(
    text,
    /splits as published by the source \(the split options do not apply\); users not identified/,
  );
  assert.doesNotMatch(text, /users train 0|split users/);
});

test("LLaRA splits: S-DPO's Python candidate rule reproduced; export to S-DPO and back is exact", async () => {
  const d = await tempDir();
  const pad = NAMES.length;
  const row = (seq: number[], next: number) =>
    JSON.stringify({
      seq: [...seq, ...Array(10 - seq.length).fill(pad)],
      len_seq: Math.max(1, seq.length),
      next,
    });
  await writeFiles(d, {
    "l/id2name.txt": `${NAMES.map((n, i) => `${i}::${n}`).join("\n")}\n`,
    "l/train.jsonl": `${[row([], 3), row([3], 4), row([3, 4], 5), row([3, 4, 5], 7), row([3, 4, 5, 7], 1), row([], 20), row([20], 21), row([20, 21], 22), row([20, 21, 22], 23)].join("\n")}\n`,
    "l/val.jsonl": `${row([1, 2, 6], 8)}\n`,
    "l/test.jsonl": `${row([11, 12, 13, 14], 15)}\n`,
  });
  const m = await prepareDataset({
    source: "llara",
    path: join(d, "l"),
    out: join(d, "ds"),
    quiet: true,
    candidates: 5,
  });
  assert.deepEqual(m.counts, { train: 3, valid: 1, test: 1 });
  assert.deepEqual(m.users, { train: 2, valid: 1, test: 1 });
  const train = await loadExamples(join(d, "ds"), "train");
  // CPython: pool = range(30) minus {3,4,5,7}; random.seed(7); sample(pool, 4); append 7; seed(7); shuffle.
  assert.deepEqual(toIds(train[0]), {
    user: "train-1",
    history: [3, 4, 5],
    candidates: [7, 14, 24, 8, 16],
    target: 7,
  });
  // Export to S-DPO's JSON and load it back with id2name: identical examples.
  const s = join(d, "s");
  await writeFiles(d, { "s/x": "" });
  for (const [split, name] of [
    ["train", "train"],
    ["valid", "val"],
    ["test", "test"],
  ] as const)
    await writeFile(
      join(s, `lastfm-${name}.json`),
      JSON.stringify((await loadExamples(join(d, "ds"), split)).map(toSdpoRecord)),
    );
  await prepareDataset({
    source: "sdpo",
    path: s,
    out: join(d, "back"),
    titleFile: join(d, "l/id2name.txt"),
    quiet: true,
  });
  for (const split of ["train", "valid", "test"] as const) {
    const a = (await loadExamples(join(d, "ds"), split)).map((e) => [
      e.history.map((h) => h.item),
      e.candidates.map((c) => c.item),
      e.target.item,
    ]);
    const b = (await loadExamples(join(d, "back"), split)).map((e) => [
      e.history.map((h) => h.item),
      e.candidates.map((c) => c.item),
      e.target.item,
    ]);
    assert.deepEqual(b, a);
  }
});

test("LLaRA pairs (item, rating) keep ratings for RecPO signals and rating prompts", async () => {
  const d = await tempDir();
  const pad = NAMES.length;
  const seq = [
    [1, 5],
    [2, 3],
    [3, 4],
  ];
  await writeFiles(d, {
    "l/id2name.txt": `${NAMES.map((n, i) => `${i}::${n}`).join("\n")}\n`,
    "l/test.jsonl": `${JSON.stringify({ seq: [...seq, ...Array(7).fill([pad, 0])], len_seq: 3, next: [4, 2] })}\n${JSON.stringify({ seq: [[5, 4], [6, 4], [7, 1], ...Array(7).fill([pad, 0])], len_seq: 3, next: [8, 5] })}\n`,
  });
  await prepareDataset({
    source: "llara",
    path: join(d, "l"),
    out: join(d, "ds"),
    quiet: true,
    showRatings: true,
  });
  const [e] = await loadExamples(join(d, "ds"), "test");
  assert.deepEqual(
    e.history.map((h) => h.rating),
    [5, 3, 4],
  );
  assert.deepEqual([e.target.rating, e.target.phi], [2, 2]);
  assert.ok(e.prompt.includes(":wumpscut: | Rating: 3"));
});
