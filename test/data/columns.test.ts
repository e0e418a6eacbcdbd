// CSV sources detect conventional column names, record the mapping, and say when histories
// follow file order because there is no time column.
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { loadExamples } from "../../src/data/dataset.js";
import { prepareDataset } from "../../src/data/prepare.js";
import { describeColumns, resolveColumns } from "../../src/data/sources/columns.js";
import { tempDir, writeFiles } from "./helpers.js";

/** Rows of 12 users × 6 items, written in shuffled (not time) order. */
function shuffledLog(header: string, withTime: boolean): string {
  const rows: [number, string][] = [];
  for (let u = 0; u < 12; u++)
    for (let k = 0; k < 6; k++) {
      const item = `m${(u * 5 + k * 7) % 30}`;
      const time = 1_600_000_000 + k * 3600;
      rows.push([
        (u * 31 + (5 - k) * 17) % 97,
        `u${u},${item},${1 + ((u + k) % 5)}${withTime ? `,${time}` : ""}`,
      ]);
    }
  rows.sort((a, b) => a[0] - b[0]);
  return `${header}\n${rows.map((r) => r[1]).join("\n")}\n`;
}

const base = (d: string, file: string, out: string) => ({
  source: "csv",
  path: join(d, file),
  out: join(d, out),
  split: "last" as const,
  candidates: 5,
  negatives: 2,
  quiet: true,
});

test("user_id/movie_id/rating/timestamp are detected; histories follow time, not file order", async () => {
  const d = await tempDir();
  await writeFiles(d, { "log.csv": shuffledLog("user_id,movie_id,rating,timestamp", true) });
  const m = await prepareDataset(base(d, "log.csv", "ds"));
  assert.deepEqual(m.source.columns, {
    user: "user_id",
    item: "movie_id",
    rating: "rating",
    time: "timestamp",
    detected: ["user", "item", "rating", "time"],
    order: "time",
  });
  for (const e of await loadExamples(join(d, "ds"), "train")) {
    const times = e.history.map((h) => h.time as number);
    assert.deepEqual(
      times,
      times.slice().sort((a, b) => a - b),
      `history of ${e.user} out of order`,
    );
    assert.ok(e.history.some((h) => h.rating !== undefined));
  }
});

test("without a time column the manifest and the message say file order", async () => {
  const d = await tempDir();
  await writeFiles(d, { "log.csv": shuffledLog("User,Item,Stars", false) });
  const m = await prepareDataset(base(d, "log.csv", "ds"));
  const columns = m.source.columns;
  assert.ok(columns);
  assert.equal(columns.time, null);
  assert.equal(columns.order, "file order");
  assert.equal(columns.rating, "Stars");
  assert.match(
    describeColumns(columns),
    /time: none; no time column: each user's history is in file order/,
  );
  const manifest = JSON.parse(await readFile(join(d, "ds", "manifest.json"), "utf8"));
  assert.equal(manifest.source.columns.order, "file order");
});

test("given names win over detection and must exist; user and item must be found", () => {
  const header = ["uid", "item_id", "rating", "when"];
  const m = resolveColumns(header, { time: "when" }, "log.csv");
  assert.deepEqual(m, {
    user: "uid",
    item: "item_id",
    rating: "rating",
    time: "when",
    detected: ["user", "item", "rating"],
  });
  assert.match(describeColumns(m), /user=uid \(detected\), .*time=when; histories ordered by time/);
  assert.throws(
    () => resolveColumns(header, { rating: "stars" }, "log.csv"),
    /log\.csv:1: header lacks column stars \(--rating\); found uid, item_id, rating, when/,
  );
  assert.throws(
    () => resolveColumns(["who", "what"], {}, "log.csv"),
    /log\.csv:1: no user column: none of user, user_id.*name it with --user/,
  );
});

test("an empty CSV names the file", async () => {
  const d = await tempDir();
  await writeFiles(d, { "empty.csv": "\n\n" });
  await assert.rejects(
    prepareDataset(base(d, "empty.csv", "ds")),
    /empty\.csv: empty file: expected a header line/,
  );
});
