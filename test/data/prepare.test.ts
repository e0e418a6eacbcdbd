import assert from "node:assert/strict";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { loadExamples, loadPrepared, verifyPrepared } from "../../src/data/dataset.js";
import { DataError } from "../../src/data/errors.js";
import { type PrepareOptions, prepareDataset } from "../../src/data/prepare.js";
import type { Example } from "../../src/data/types.js";
import { tempDir, writeFiles } from "./helpers.js";

/** 10 users × 6 items over a catalog of 40, times k*100 + user so every event is distinct. */
function tenUsers(): string {
  const lines = ["user,item,rating,time"];
  for (let u = 0; u < 10; u++)
    for (let k = 0; k < 6; k++)
      lines.push(`u${u},i${(u * 3 + k * 7) % 40},${1 + ((u + k) % 5)},${k * 100 + u}`);
  return `${lines.join("\n")}\n`;
}
const titles = () =>
  `id,title\n${Array.from({ length: 40 }, (_, i) => `i${i},Title ${i}`).join("\n")}\n`;

async function fixture(): Promise<string> {
  const d = await tempDir();
  await writeFiles(d, { "log.csv": tenUsers(), "titles.csv": titles() });
  return d;
}

const base = (d: string, out: string, extra: Partial<PrepareOptions> = {}) => ({
  source: "csv",
  path: join(d, "log.csv"),
  titleFile: join(d, "titles.csv"),
  columns: { user: "user", item: "item", rating: "rating", time: "time" },
  out: join(d, out),
  quiet: true,
  ...extra,
});

function checkInvariants(e: Example, C: number, K: number, userItems?: Set<number>) {
  assert.equal(e.candidates.length, C, `${e.id}: ${C} candidates`);
  assert.equal(new Set(e.candidates.map((c) => c.item)).size, C, `${e.id}: distinct candidates`);
  assert.equal(
    e.candidates.filter((c) => c.item === e.target.item).length,
    1,
    `${e.id}: target once`,
  );
  assert.equal(e.candidates[e.target.index].item, e.target.item);
  assert.equal(e.negatives.length, K);
  assert.equal(new Set(e.negatives.map((n) => n.item)).size, K);
  for (const n of e.negatives) {
    assert.notEqual(n.item, e.target.item);
    assert.equal(e.candidates[n.index].item, n.item);
    for (const h of e.history)
      assert.notEqual(n.item, h.item, `${e.id}: history item among negatives`);
  }
  if (userItems)
    for (const c of e.candidates)
      if (c.item !== e.target.item)
        assert.ok(!userItems.has(c.item), `${e.id}: candidate ${c.item} was interacted with`);
  for (const c of e.candidates) assert.ok(Number.isFinite(c.phi) && c.phi > 0);
  assert.ok(e.prompt.includes(e.target.title));
  for (const h of e.history) assert.ok(e.prompt.includes(h.title));
}

test("users split: 8:1:1 users, every position with ≥ 3 history items, candidate invariants", async () => {
  const d = await fixture();
  const m = await prepareDataset(base(d, "ds", { candidates: 20, negatives: 3 }));
  assert.deepEqual(m.users, { train: 8, valid: 1, test: 1 });
  assert.deepEqual(m.counts, { train: 24, valid: 3, test: 3 });
  const used = new Set<number>();
  for (let u = 0; u < 10; u++) for (let k = 0; k < 6; k++) used.add((u * 3 + k * 7) % 40);
  assert.equal(m.items, used.size);
  const ds = await loadPrepared(join(d, "ds"));
  const all: Example[] = [];
  for (const s of ["train", "valid", "test"] as const)
    all.push(...(await loadExamples(join(d, "ds"), s)));
  const byUser = new Map<string, Set<number>>();
  for (const e of all) {
    const set = byUser.get(e.user) ?? new Set<number>();
    for (const h of e.history) set.add(h.item);
    set.add(e.target.item);
    byUser.set(e.user, set);
  }
  for (const e of all) {
    checkInvariants(e, 20, 3, byUser.get(e.user));
    assert.ok(e.history.length >= 3);
    assert.equal(e.target.position, 0);
    assert.equal(ds.items[e.target.item].title, e.target.title);
  }
  // A user's examples are all in one split.
  const splitOf = new Map<string, string>();
  for (const e of all) {
    assert.equal(splitOf.get(e.user) ?? e.split, e.split);
    splitOf.set(e.user, e.split);
  }
  assert.deepEqual(await verifyPrepared(join(d, "ds")), []);
});

test("last split: valid = second last, test = last; history window applies", async () => {
  const d = await fixture();
  const m = await prepareDataset(base(d, "ds", { split: "last", historyWindow: 4 }));
  assert.deepEqual(m.counts, { train: 10, valid: 10, test: 10 });
  const test0 = (await loadExamples(join(d, "ds"), "test"))[0];
  // u0's items: (0 + 7k) % 40 → i0 i7 i14 i21 i28 i35; test target i35, window 4 → i7..i28.
  assert.equal(test0.user, "u0");
  assert.equal(test0.target.title, "Title 35");
  assert.deepEqual(
    test0.history.map((h) => h.title),
    ["Title 7", "Title 14", "Title 21", "Title 28"],
  );
  assert.equal(test0.target.time, 500);
  assert.equal((await loadExamples(join(d, "ds"), "valid"))[0].target.title, "Title 28");
});

test("time split: global cut points (absolute times or quantiles)", async () => {
  const d = await fixture();
  const m = await prepareDataset(base(d, "ds", { split: "time", timeValid: 400, timeTest: 500 }));
  assert.deepEqual(m.counts, { train: 10, valid: 10, test: 10 });
  assert.deepEqual(m.timeCuts, [400, 500]);
  // Quantiles of the 60 sorted times: index 36 → 306, index 54 → 504.
  const q = await prepareDataset(base(d, "dq", { split: "time", timeValid: 0.6, timeTest: 0.9 }));
  assert.deepEqual(q.timeCuts, [306, 504]);
  assert.deepEqual(q.counts, { train: 6, valid: 18, test: 6 });
  await assert.rejects(
    prepareDataset(base(d, "dz", { split: "time", timeValid: 0.5, timeTest: 0.9 })),
    /no training examples with --split time \(valid 24, test 6\)/,
  );
});

test("same seed ⇒ byte-identical files; another seed ⇒ different candidates", async () => {
  const d = await fixture();
  await prepareDataset(base(d, "a", { seed: 5 }));
  await prepareDataset(base(d, "b", { seed: 5 }));
  await prepareDataset(base(d, "c", { seed: 6 }));
  for (const f of ["items.jsonl", "train.jsonl", "valid.jsonl", "test.jsonl", "manifest.json"]) {
    const x = await readFile(join(d, "a", f));
    const y = await readFile(join(d, "b", f));
    assert.ok(x.equals(y), `${f} differs between runs with the same seed`);
  }
  assert.notEqual(
    await readFile(join(d, "a", "train.jsonl"), "utf8"),
    await readFile(join(d, "c", "train.jsonl"), "utf8"),
  );
});

test("dedup and k-core on a hand-checked example", async () => {
  const d = await tempDir();
  await writeFiles(d, {
    "log.csv": [
      "user,item,time",
      "u1,i1,1",
      "u1,i2,2",
      "u1,i3,3",
      "u1,i4,4",
      "u1,i2,5", // duplicate of (u1,i2): removed by dedup
      "u2,i1,1",
      "u2,i2,2",
      "u2,i3,3",
      "u3,i1,1",
      "u3,i5,2",
      "u4,i6,1",
      "u5,i7,1",
      "u5,i8,2",
      "u6,i7,1",
      "u6,i8,2",
      "",
    ].join("\n"),
  });
  const m = await prepareDataset({
    source: "csv",
    path: join(d, "log.csv"),
    columns: { user: "user", item: "item", time: "time" },
    out: join(d, "ds"),
    quiet: true,
    userCore: 2,
    itemCore: 2,
    minHistory: 2,
    candidates: 2,
    negatives: 1,
    userRatio: [1, 0, 0],
  }).catch((e) => e);
  // k-core round 1 drops u4 (1 event) and i4, i5, i6 (1 each); round 2 drops u3 (only i1 left).
  // Left: u1, u2 with i1..i3 and u5, u6 with i7, i8 → 10 interactions, 5 items.
  assert.ok(!(m instanceof Error), String(m));
  assert.deepEqual(
    m.filters.map((f: { step: string; removed: number; remaining: number }) => [
      f.removed,
      f.remaining,
    ]),
    [
      [0, 15],
      [1, 14],
      [4, 10],
    ],
  );
  assert.equal(m.items, 5);
  assert.deepEqual(m.users, { train: 2, valid: 0, test: 0 });
  assert.deepEqual(m.counts, { train: 2, valid: 0, test: 0 });
});

test("RecPO: follow candidates carry real ratings and positions; max-phi picks the best", async () => {
  const d = await tempDir();
  const rows = ["user,item,rating,time", "u,a,5,1", "u,b,4,2", "u,c,3,3", "u,d,3,4", "u,e,5,5"];
  for (let i = 0; i < 10; i++) rows.push(`v,x${i},3,${i}`);
  await writeFiles(d, { "log.csv": `${rows.join("\n")}\n` });
  const common = {
    source: "csv",
    path: join(d, "log.csv"),
    columns: { user: "user", item: "item", rating: "rating", time: "time" },
    quiet: true,
    split: "users" as const,
    userRatio: [1, 0, 0] as [number, number, number],
    candidates: 5,
    negatives: 2,
    followCandidates: 3,
  };
  await prepareDataset({ ...common, out: join(d, "next") });
  const ex = (await loadExamples(join(d, "next"), "train")).find(
    (e) => e.user === "u" && e.history.length === 3,
  );
  assert.ok(ex);
  assert.equal(ex.target.title, "item d");
  assert.deepEqual([ex.target.rating, ex.target.position, ex.target.phi], [3, 0, 3]);
  const e = ex.candidates.find((c) => c.title === "item e");
  assert.deepEqual(e && [e.rating, e.position, e.phi, e.observed], [5, 1, 3.535534, true]);
  for (const c of ex.candidates)
    if (!c.observed) assert.deepEqual([c.rating, c.position, c.phi], [3, 10, 0.904534]);
  await prepareDataset({ ...common, out: join(d, "best"), chosen: "max-phi" });
  const best = (await loadExamples(join(d, "best"), "train")).find(
    (x) => x.user === "u" && x.history.length === 3,
  );
  assert.equal(best?.target.title, "item e");
  assert.ok(best?.negatives.every((n) => n.title !== "item e"));
});

test("popularity negatives and --max-train caps are seeded", async () => {
  const d = await fixture();
  const m = await prepareDataset(
    base(d, "p", { negativeSampling: "popularity", maxTrain: 5, negatives: 4 }),
  );
  assert.equal(m.counts.train, 5);
  for (const e of await loadExamples(join(d, "p"), "train")) checkInvariants(e, 20, 4);
});

test("bad input: file and line named; --skip-bad counts rows in the manifest", async () => {
  const d = await tempDir();
  const good = "user,item,rating\nu1,x,4\nu1,y,3\nu1,z,5\nu1,w,2\nu2,v1,3\n";
  await writeFiles(d, {
    "titles.csv": "id,title\nx,X\ny,Y\nz,Z\nw,W\nv1,V1\nv,\n",
    "cols.csv": `${good}u1,x\n`,
    "rating.csv": `${good}u1,x,great\n`,
    "unknown.csv": `${good}u1,q,3\n`,
    "enc.csv": Buffer.concat([
      Buffer.from(`${good}u1,`),
      Buffer.from([0xff, 0xfe]),
      Buffer.from(",3\n"),
    ]),
  });
  const run = (file: string, extra: Partial<PrepareOptions> = {}) =>
    prepareDataset({
      source: "csv",
      path: join(d, file),
      titleFile: join(d, "titles.csv"),
      columns: { user: "user", item: "item", rating: "rating" },
      out: join(d, `out-${file}`),
      quiet: true,
      candidates: 2,
      negatives: 1,
      userRatio: [1, 0, 0],
      ...extra,
    });
  const expectError = async (file: string, re: RegExp) => {
    await assert.rejects(run(file), (e: unknown) => {
      assert.ok(e instanceof DataError, String(e));
      assert.match(e.message, re);
      return true;
    });
    assert.deepEqual(
      (await readdir(d)).filter((n) => n.includes(`out-${file}`)),
      [],
      "a failed run leaves no output folder",
    );
  };
  // The empty title (line 7 of titles.csv) is found first, as titles load before the log.
  await expectError("cols.csv", /titles\.csv:7: field title: empty title/);
  await writeFiles(d, { "titles.csv": "id,title\nx,X\ny,Y\nz,Z\nw,W\nv1,V1\n" });
  await expectError("cols.csv", /cols\.csv:7: wrong column count: expected 3, got 2/);
  await expectError("rating.csv", /rating\.csv:7: field rating: expected a number, got "great"/);
  await expectError("unknown.csv", /unknown\.csv:7: unknown item id q/);
  await expectError("enc.csv", /enc\.csv:7: bad encoding/);
  const m = await run("rating.csv", { skipBad: true });
  assert.equal(m.skippedBad.total, 1);
  assert.deepEqual(m.skippedBad.byFile, { "rating.csv": 1 });
});

test("empty results name the filter that removed everything", async () => {
  const d = await fixture();
  await assert.rejects(
    prepareDataset(base(d, "x", { ratingThreshold: 6 })),
    /rating threshold 6 removed all 60 interactions/,
  );
  await assert.rejects(
    prepareDataset(base(d, "y", { userCore: 100 })),
    /k-core .* removed all 60 interactions/,
  );
  await assert.rejects(
    prepareDataset(base(d, "z", { minHistory: 6 })),
    /no examples: .*--min-history 6/,
  );
  await assert.rejects(
    prepareDataset(base(d, "w", { negatives: 20 })),
    /--negatives must be between 0 and/,
  );
  assert.deepEqual((await readdir(d)).sort(), ["log.csv", "titles.csv"]);
});

test("an existing non-empty output folder is kept unless forced", async () => {
  const d = await fixture();
  await writeFiles(d, { "ds/keep.txt": "x" });
  await assert.rejects(prepareDataset(base(d, "ds")), /not empty/);
  await prepareDataset(base(d, "ds", { force: true }));
  assert.ok((await readdir(join(d, "ds"))).includes("manifest.json"));
});

test("--min-target-rating keeps only examples with a well-rated target and reports the drop", async () => {
  const d = await fixture();
  const all = await prepareDataset(base(d, "all"));
  const m = await prepareDataset(base(d, "hi", { minTargetRating: 4 }));
  for (const s of ["train", "valid", "test"] as const) {
    const exs = await loadExamples(join(d, "hi"), s);
    assert.equal(exs.length, m.counts[s]);
    assert.ok(exs.every((e) => e.target.rating >= 4));
    assert.deepEqual(
      exs.map((e) => e.id),
      exs.map((_, i) => `${s}-${i}`),
    );
  }
  const dropped = m.filters.filter((f) => f.step.includes("target rating >= 4"));
  assert.equal(dropped.length, 3);
  assert.equal(
    dropped.reduce((a, f) => a + f.removed + f.remaining, 0),
    all.counts.train + all.counts.valid + all.counts.test,
  );
  await assert.rejects(
    prepareDataset(base(d, "none", { minTargetRating: 6 })),
    /--min-target-rating 6 removed all 24/,
  );
});
