import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { gzipSync } from "node:zlib";
import { badRowPolicy } from "../../src/data/errors.js";
import type { LoadedLog, LoadOptions } from "../../src/data/log.js";
import { prepareDataset } from "../../src/data/prepare.js";
import { loadSource } from "../../src/data/sources/index.js";
import { playCountsToRatings } from "../../src/data/sources/lastfm.js";
import { llaraMovieTitle } from "../../src/data/sources/movielens.js";
import { parsePyLiteral } from "../../src/data/sources/pyliteral.js";
import { hoursToRating } from "../../src/data/sources/steam.js";
import { tempDir, writeFiles } from "./helpers.js";

const opts = (path: string, extra: Partial<LoadOptions> = {}): LoadOptions => ({
  path,
  policy: badRowPolicy(false),
  ...extra,
});

/** The log as plain rows, for easy comparison. */
function rows(l: LoadedLog) {
  return Array.from({ length: l.log.length }, (_, n) => ({
    user: l.log.userIds[l.log.users[n]],
    item: l.log.itemIds[l.log.items[n]],
    rating: Number.isNaN(l.log.ratings[n]) ? undefined : l.log.ratings[n],
    time: Number.isNaN(l.log.times[n]) ? undefined : l.log.times[n],
  }));
}

test("MovieLens 100K: u.data + Latin-1 u.item with genres", async () => {
  const d = await tempDir();
  await writeFiles(d, {
    "u.data": "1\t2\t5\t881250949\n2\t1\t3\t891717742\n",
    "u.item": Buffer.concat([
      Buffer.from(
        "1|Toy Story (1995)|01-Jan-1995||http://x|0|0|0|1|1|1|0|0|0|0|0|0|0|0|0|0|0|0|0\n",
      ),
      Buffer.from("2|Caf"),
      Buffer.from([0xe9]),
      Buffer.from(
        " Society, The (1996)|01-Jan-1996||http://y|0|1|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0\n",
      ),
    ]),
  });
  const l = (await loadSource("movielens-100k", opts(d))) as LoadedLog;
  assert.deepEqual(rows(l), [
    { user: "1", item: "2", rating: 5, time: 881250949 },
    { user: "2", item: "1", rating: 3, time: 891717742 },
  ]);
  assert.equal(l.catalog.get("2")?.title, "Café Society, The (1996)");
  assert.deepEqual(l.catalog.get("1")?.attributes?.genres, ["Animation", "Children's", "Comedy"]);
  assert.equal(l.domain, "movie");
  assert.equal(llaraMovieTitle("Café Society, The (1996)"), "The Café Society");
});

test('MovieLens 100K: the placeholder title "unknown" is no item; its ratings are counted in the manifest', async () => {
  const d = await tempDir();
  const row = (id: number, title: string) =>
    `${id}|${title}|01-Jan-1995||http://x|0|0|0|1|1|1|0|0|0|0|0|0|0|0|0|0|0|0|0\n`;
  const items = Array.from({ length: 12 }, (_, i) => row(i + 1, `Movie ${i + 1} (1995)`));
  items.push(row(267, "unknown"));
  const ratings: string[] = [];
  for (let u = 1; u <= 10; u++)
    for (let k = 0; k < 6; k++)
      ratings.push(`${u}\t${((u + k * 5) % 12) + 1}\t4\t${880000000 + k}`);
  ratings.push("1\t267\t3\t880000100", "2\t267\t5\t880000100");
  await writeFiles(d, { "u.data": `${ratings.join("\n")}\n`, "u.item": items.join("") });
  const l = (await loadSource("movielens-100k", opts(d))) as LoadedLog;
  assert.equal(l.catalog.has("267"), false);
  assert.equal(l.log.length, 60);
  const m = await prepareDataset({
    source: "movielens-100k",
    path: d,
    out: join(d, "ds"),
    split: "last",
    candidates: 5,
    negatives: 2,
    quiet: true,
  });
  assert.deepEqual(m.filters[0], {
    step: 'dropped on load: ratings of u.item\'s placeholder title "unknown" (item 267)',
    removed: 2,
    remaining: 60,
  });
  const items2 = (await readFile(join(d, "ds", "items.jsonl"), "utf8")).split("\n").filter(Boolean);
  assert.ok(!items2.some((l2) => JSON.parse(l2).title === "unknown"));
});

test("MovieLens 1M: :: separated ratings.dat and movies.dat", async () => {
  const d = await tempDir();
  await writeFiles(d, {
    "ratings.dat": "1::1193::5::978300760\n1::661::3::978302109\n",
    "movies.dat":
      "1193::One Flew Over the Cuckoo's Nest (1975)::Drama\n661::James and the Giant Peach (1996)::Animation|Children's|Musical\n",
  });
  const l = (await loadSource("movielens-1m", opts(d))) as LoadedLog;
  assert.equal(l.log.length, 2);
  assert.deepEqual(l.catalog.get("661")?.attributes?.genres, [
    "Animation",
    "Children's",
    "Musical",
  ]);
});

test("LastFM HetRec: play counts become per-user 1–5 quintiles; first tag time is the clock", async () => {
  assert.deepEqual(playCountsToRatings([10, 20, 30, 40, 50]), [1, 2, 3, 4, 5]);
  assert.deepEqual(playCountsToRatings([7, 7]), [1, 1]);
  assert.deepEqual(playCountsToRatings([1, 100]), [1, 3]);
  const d = await tempDir();
  await writeFiles(d, {
    "artists.dat":
      "id\tname\turl\tpictureURL\n51\tDuran Duran\thttp://a\thttp://b\n52\tMorcheeba\thttp://a\thttp://b\n",
    "user_artists.dat": "userID\tartistID\tweight\n2\t51\t13883\n2\t52\t11690\n",
    "user_taggedartists-timestamps.dat":
      "userID\tartistID\ttagID\ttimestamp\n2\t52\t13\t1238536800000\n2\t52\t15\t1238536700000\n",
  });
  const l = (await loadSource("lastfm-hetrec", opts(d))) as LoadedLog;
  assert.deepEqual(rows(l), [
    { user: "2", item: "51", rating: 3, time: undefined },
    { user: "2", item: "52", rating: 1, time: 1238536700 },
  ]);
  assert.equal(l.catalog.get("52")?.title, "Morcheeba");
});

test("goodbooks-10k: quoted books.csv, file order as time", async () => {
  const d = await tempDir();
  await writeFiles(d, {
    "books.csv":
      'book_id,goodreads_book_id,authors,original_publication_year,title\n1,2767052,Suzanne Collins,2008.0,"The Hunger Games (The Hunger Games, #1)"\n2,3,"J.K. Rowling, Mary GrandPré",1997.0,Harry Potter\n',
    "ratings.csv": "user_id,book_id,rating\n1,2,4\n1,1,5\n",
  });
  const l = (await loadSource("goodbooks", opts(d))) as LoadedLog;
  assert.deepEqual(rows(l), [
    { user: "1", item: "2", rating: 4, time: undefined },
    { user: "1", item: "1", rating: 5, time: undefined },
  ]);
  assert.equal(l.catalog.get("1")?.title, "The Hunger Games (The Hunger Games, #1)");
  assert.equal(l.catalog.get("2")?.attributes?.authors, "J.K. Rowling, Mary GrandPré");
  assert.equal(l.hasTime, false);
});

test("Amazon: 2018 and 2023 layouts, gzip, metadata titles", async () => {
  const d = await tempDir();
  await writeFiles(d, {
    "a2018/reviews.json":
      '{"reviewerID":"A1","asin":"B01","overall":5.0,"unixReviewTime":1400000000}\n{"reviewerID":"A1","asin":"B99","overall":4.0,"unixReviewTime":1400000001}\n',
    "a2018/meta.json": '{"asin":"B01","title":"A Good Book","main_cat":"Books"}\n',
    "a2023/Books.jsonl.gz": gzipSync(
      '{"user_id":"U1","parent_asin":"P1","asin":"X","rating":4.0,"timestamp":1588687728923}\n',
    ),
    "a2023/meta_Books.jsonl.gz": gzipSync(
      '{"parent_asin":"P1","title":"Another Book","main_category":"Books"}\n',
    ),
  });
  const a = (await loadSource("amazon", opts(join(d, "a2018")))) as LoadedLog;
  assert.deepEqual(rows(a), [{ user: "A1", item: "B01", rating: 5, time: 1400000000 }]);
  assert.equal(a.catalog.get("B01")?.title, "A Good Book");
  assert.deepEqual(a.dropped, [
    { reason: "reviews of items without a titled metadata entry", count: 1 },
  ]);
  const b = (await loadSource("amazon", opts(join(d, "a2023")))) as LoadedLog;
  assert.deepEqual(rows(b), [{ user: "U1", item: "P1", rating: 4, time: 1588687728.923 }]);
  assert.equal(b.catalog.get("P1")?.title, "Another Book");
});

test("Steam: Python-literal lines, hours as a 1–5 intensity, game names", async () => {
  assert.deepEqual(parsePyLiteral("{'a': [1, 2.5, True, None], \"b\": 'it\\'s'}"), {
    a: [1, 2.5, true, null],
    b: "it's",
  });
  assert.deepEqual([0.5, 3, 10, 50, 500].map(hoursToRating), [1, 2, 3, 4, 5]);
  const d = await tempDir();
  await writeFiles(d, {
    "steam_reviews.json":
      "{'username': 'Chaos Syren', 'hours': 0.1, 'product_id': '725280', 'date': '2017-12-17', 'text': 'ok'}\n{'username': 'Chaos Syren', 'hours': 120.0, 'product_id': '10', 'date': '2017-12-18', 'text': 'a \"quote\"'}\n",
    "steam_games.json":
      "{'app_name': 'Psi Project', 'id': '725280', 'genres': ['Action']}\n{'app_name': 'Counter-Strike', 'id': '10'}\n",
  });
  const l = (await loadSource("steam", opts(d))) as LoadedLog;
  assert.deepEqual(rows(l), [
    { user: "Chaos Syren", item: "725280", rating: 1, time: 1513468800 },
    { user: "Chaos Syren", item: "10", rating: 5, time: 1513555200 },
  ]);
  assert.equal(l.catalog.get("10")?.title, "Counter-Strike");
});

test("generic CSV/TSV/JSONL with a column mapping and a title file", async () => {
  const d = await tempDir();
  await writeFiles(d, {
    "log.tsv": "uid\tiid\tstars\twhen\nu1\tx\t4\t2020-01-01T00:00:00Z\nu1\ty\t2\t1577836900\n",
    "log.jsonl": '{"uid":"u1","iid":"x"}\n{"uid":"u2","iid":"y"}\n',
    "titles.csv": 'id,title\nx,"Item X, the first"\ny,Item Y\n',
  });
  const columns = { user: "uid", item: "iid", rating: "stars", time: "when" };
  const l = (await loadSource(
    "csv",
    opts(join(d, "log.tsv"), { columns, titleFile: join(d, "titles.csv") }),
  )) as LoadedLog;
  assert.deepEqual(rows(l), [
    { user: "u1", item: "x", rating: 4, time: 1577836800 },
    { user: "u1", item: "y", rating: 2, time: 1577836900 },
  ]);
  assert.equal(l.catalog.get("x")?.title, "Item X, the first");
  const j = (await loadSource(
    "csv",
    opts(join(d, "log.jsonl"), { columns: { user: "uid", item: "iid" } }),
  )) as LoadedLog;
  assert.equal(j.log.length, 2);
  assert.equal(j.hasRatings, false);
});

test("a UTF-8 byte-order mark and CRLF line ends do not disturb the header", async () => {
  const d = await tempDir();
  await writeFiles(d, { "log.csv": "\ufeffuser,item\r\nu1,x\r\nu2,y\r\n" });
  const l = (await loadSource("csv", opts(join(d, "log.csv")))) as LoadedLog;
  assert.deepEqual(
    rows(l).map((r) => [r.user, r.item]),
    [
      ["u1", "x"],
      ["u2", "y"],
    ],
  );
});
