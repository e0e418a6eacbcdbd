import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { loadExamples, loadPrepared } from "../../src/data/dataset.js";
import { prepareDataset } from "../../src/data/prepare.js";
import { generateWorld, loadSynthTruth, truthScore, writeSynth } from "../../src/data/synth.js";
import { tempDir } from "./helpers.js";

test("synth is deterministic per seed: byte-identical folders", async () => {
  const d = await tempDir();
  await writeSynth(join(d, "a"), { users: 40, items: 60, seed: 3 });
  await writeSynth(join(d, "b"), { users: 40, items: 60, seed: 3 });
  await writeSynth(join(d, "c"), { users: 40, items: 60, seed: 4 });
  for (const f of ["interactions.csv", "items.jsonl", "truth.json"])
    assert.ok((await readFile(join(d, "a", f))).equals(await readFile(join(d, "b", f))), f);
  assert.notEqual(
    await readFile(join(d, "a", "interactions.csv"), "utf8"),
    await readFile(join(d, "c", "interactions.csv"), "utf8"),
  );
});

test("synth world: readable unique titles, ratings 1–5, increasing times, popularity skew", () => {
  const w = generateWorld({ users: 100, items: 80, seed: 1 });
  assert.equal(new Set(w.titles).size, 80);
  assert.ok(w.titles.every((t) => /^[A-Z][A-Za-z ]+( \d+)?$/.test(t)));
  const counts = new Array(80).fill(0);
  let prev = { user: -1, time: 0 };
  for (const x of w.interactions) {
    assert.ok(Number.isInteger(x.rating) && x.rating >= 1 && x.rating <= 5);
    if (x.user === prev.user) assert.ok(x.time > prev.time);
    prev = x;
    counts[x.item]++;
  }
  const ratings = new Set(w.interactions.map((x) => x.rating));
  assert.ok(ratings.size >= 4, "ratings use most of the scale");
  counts.sort((a, b) => b - a);
  const top = counts.slice(0, 8).reduce((a, b) => a + b, 0);
  const bottom = counts.slice(-8).reduce((a, b) => a + b, 0);
  assert.ok(top > 3 * bottom, `popularity skew: top ${top} vs bottom ${bottom}`);
});

test("the saved truth carries real signal: it ranks test targets far above chance", async () => {
  const d = await tempDir();
  await writeSynth(join(d, "w"), { users: 150, items: 120, seed: 2 });
  await prepareDataset({
    source: "synth",
    path: join(d, "w"),
    out: join(d, "ds"),
    quiet: true,
    split: "last",
  });
  const truth = await loadSynthTruth(join(d, "w"));
  const { items } = await loadPrepared(join(d, "ds"));
  const idx = (item: number) => Number(items[item].id.slice(1));
  let hits = 0;
  let rankSum = 0;
  const exs = await loadExamples(join(d, "ds"), "test");
  for (const e of exs) {
    const u = Number(e.user.slice(1));
    const scores = e.candidates.map((c) => truthScore(truth, u, idx(c.item), 1));
    const t = scores[e.target.index];
    const rank = scores.filter((s) => s > t).length;
    rankSum += rank;
    if (rank === 0) hits++;
  }
  const hr1 = hits / exs.length;
  const meanRank = rankSum / exs.length;
  assert.ok(hr1 > 3 / 20, `truth HR@1 ${hr1} vs chance 0.05`);
  assert.ok(meanRank < 5, `mean rank ${meanRank} vs chance 9.5`);
});
