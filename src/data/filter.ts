// The DuckDB stage: deduplicate, rating threshold, k-core, and per-user chronological order.

import { open } from "node:fs/promises";
import { join } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { DataError } from "./errors.js";
import { forEachLine } from "./lines.js";
import type { InteractionLog } from "./log.js";

/** Filter settings. */
export interface FilterOptions {
  dedup: "first" | "last" | "none";
  /** Keep only interactions with rating ≥ this (positives); undefined keeps all. */
  ratingThreshold?: number;
  /** k-core: every kept user has ≥ userCore and every kept item ≥ itemCore interactions. */
  userCore: number;
  itemCore: number;
}

/** One step of the filter report written to the manifest. */
export interface FilterStep {
  step: string;
  removed: number;
  remaining: number;
}

/** Per-user chronological sequences in flat arrays: user k owns rows offsets[k]..offsets[k+1). */
export interface Sequences {
  /** Dense user index (into `userIds`) per sequence, in output order. */
  users: Int32Array;
  offsets: Int32Array;
  /** Dense item index (into the log's itemIds) per row. */
  items: Int32Array;
  ratings: Float64Array;
  times: Float64Array;
  steps: FilterStep[];
}

/** Compares ids naturally ("u2" < "u10"; numbers numerically), so dense ids follow the source ids. */
export function naturalCompare(a: string, b: string): number {
  const ra = a.match(/\d+|\D+/g) ?? [];
  const rb = b.match(/\d+|\D+/g) ?? [];
  for (let k = 0; k < Math.min(ra.length, rb.length); k++) {
    const x = ra[k];
    const y = rb[k];
    if (x === y) continue;
    const dx = /^\d/.test(x);
    const dy = /^\d/.test(y);
    if (dx && dy) {
      const xs = x.replace(/^0+/, "");
      const ys = y.replace(/^0+/, "");
      if (xs.length !== ys.length) return xs.length - ys.length;
      if (xs !== ys) return xs < ys ? -1 : 1;
      return x.length - y.length;
    }
    return x < y ? -1 : 1;
  }
  return ra.length - rb.length;
}

/** Rank of each id under natural order: rank[idx] = position of ids[idx] when sorted. */
function ranks(ids: readonly string[]): Int32Array {
  const order = ids.map((_, i) => i);
  if (ids.every((id) => /^\d{1,15}$/.test(id))) {
    const v = ids.map(Number);
    order.sort((a, b) => v[a] - v[b] || ids[a].length - ids[b].length);
  } else order.sort((a, b) => naturalCompare(ids[a], ids[b]));
  const r = new Int32Array(ids.length);
  order.forEach((idx, k) => {
    r[idx] = k;
  });
  return r;
}

/** Writes ASCII digits of a non-negative integer at `pos`; returns the new position. */
function putUint(buf: Buffer, pos: number, x: number): number {
  if (x < 10) {
    buf[pos] = 48 + x;
    return pos + 1;
  }
  let digits = 0;
  for (let y = x; y >= 1; y = Math.floor(y / 10)) digits++;
  for (let k = digits - 1; k >= 0; k--) {
    buf[pos + k] = 48 + (x % 10);
    x = Math.floor(x / 10);
  }
  return pos + digits;
}

/** A number field: integers written digit by digit (the common case), others via String; NaN empty. */
function putNum(buf: Buffer, pos: number, x: number): number {
  if (Number.isNaN(x)) return pos;
  if (Number.isSafeInteger(x) && x >= 0) return putUint(buf, pos, x);
  return pos + buf.write(String(x), pos, "latin1");
}

/**
 * Writes the log as `user\titem\trating\ttime\trow` lines into a byte buffer by hand: building
 * 10M template strings was the slowest part of preparation.
 */
async function writeLogTsv(
  file: string,
  log: InteractionLog,
  userRank: Int32Array,
  itemRank: Int32Array,
): Promise<void> {
  const fh = await open(file, "w");
  const buf = Buffer.allocUnsafe(1 << 22);
  let pos = 0;
  try {
    for (let n = 0; n < log.length; n++) {
      if (pos > buf.length - 256) {
        await fh.write(buf, 0, pos);
        pos = 0;
      }
      pos = putUint(buf, pos, userRank[log.users[n]]);
      buf[pos++] = 9;
      pos = putUint(buf, pos, itemRank[log.items[n]]);
      buf[pos++] = 9;
      pos = putNum(buf, pos, log.ratings[n]);
      buf[pos++] = 9;
      pos = putNum(buf, pos, log.times[n]);
      buf[pos++] = 9;
      pos = putUint(buf, pos, n);
      buf[pos++] = 10;
    }
    await fh.write(buf, 0, pos);
  } finally {
    await fh.close();
  }
}

/**
 * Runs the filters in DuckDB over a temporary copy of the log and returns the sequences ordered by
 * user (natural id order), then time (missing times last), then file order: ties are deterministic.
 */
export async function filterAndOrder(
  log: InteractionLog,
  opts: FilterOptions,
  workDir: string,
): Promise<Sequences> {
  if (log.length === 0)
    throw new DataError("the source has no interactions (after skipping bad rows)");
  const userRank = ranks(log.userIds);
  const itemRank = ranks(log.itemIds);
  const userByRank = new Int32Array(log.userIds.length);
  userRank.forEach((r, idx) => {
    userByRank[r] = idx;
  });
  const inFile = join(workDir, "log.tsv");
  const outFile = join(workDir, "sequences.tsv");
  await writeLogTsv(inFile, log, userRank, itemRank);

  const instance = await DuckDBInstance.create(":memory:", { threads: "2" });
  const con = await instance.connect();
  const steps: FilterStep[] = [];
  const count = async (): Promise<number> => {
    const r = await con.runAndReadAll("SELECT count(*)::INTEGER AS n FROM d");
    return Number(r.getRows()[0][0]);
  };
  try {
    const q = (s: string) => s.replaceAll("'", "''");
    await con.run(
      `CREATE TABLE raw AS SELECT * FROM read_csv('${q(inFile)}', delim='\t', header=false, auto_detect=false,
        columns={'u':'INTEGER','i':'INTEGER','r':'DOUBLE','t':'DOUBLE','o':'BIGINT'}, nullstr='')`,
    );
    const order = opts.dedup === "last" ? "t DESC NULLS FIRST, o DESC" : "t NULLS LAST, o";
    const dupes = await con.runAndReadAll(
      "SELECT count(*)::BIGINT FROM (SELECT 1 FROM raw GROUP BY u, i HAVING count(*) > 1)",
    );
    // Without repeated pairs every dedup mode is the identity: skip the window function.
    if (opts.dedup === "none" || Number(dupes.getRows()[0][0]) === 0)
      await con.run("ALTER TABLE raw RENAME TO d");
    else
      await con.run(
        `CREATE TABLE d AS SELECT u, i, r, t, o FROM (SELECT *, row_number() OVER (PARTITION BY u, i ORDER BY ${order}) AS rn FROM raw) WHERE rn = 1`,
      );
    let remaining = await count();
    steps.push({ step: `deduplicate (${opts.dedup})`, removed: log.length - remaining, remaining });
    if (opts.ratingThreshold !== undefined) {
      const nulls = await con.runAndReadAll("SELECT count(*)::INTEGER FROM d WHERE r IS NULL");
      if (Number(nulls.getRows()[0][0]) === remaining)
        throw new DataError(
          `--rating-threshold ${opts.ratingThreshold}: this source has no ratings`,
        );
      await con.run(`DELETE FROM d WHERE r < ${Number(opts.ratingThreshold)}`);
      const now = await count();
      steps.push({
        step: `rating >= ${opts.ratingThreshold}`,
        removed: remaining - now,
        remaining: now,
      });
      if (now === 0)
        throw new DataError(
          `rating threshold ${opts.ratingThreshold} removed all ${remaining} interactions (no rating is that high)`,
        );
      remaining = now;
    }
    if (opts.userCore > 1 || opts.itemCore > 1) {
      const before = remaining;
      for (;;) {
        await con.run(
          `DELETE FROM d WHERE u IN (SELECT u FROM d GROUP BY u HAVING count(*) < ${opts.userCore})
             OR i IN (SELECT i FROM d GROUP BY i HAVING count(*) < ${opts.itemCore})`,
        );
        const now = await count();
        if (now === remaining) break;
        remaining = now;
      }
      steps.push({
        step: `k-core (users >= ${opts.userCore}, items >= ${opts.itemCore})`,
        removed: before - remaining,
        remaining,
      });
      if (remaining === 0)
        throw new DataError(
          `k-core filtering (users >= ${opts.userCore}, items >= ${opts.itemCore} interactions) removed all ${before} interactions; lower --user-core/--item-core`,
        );
    }
    await con.run(
      `COPY (SELECT u, o FROM d ORDER BY u, t NULLS LAST, o) TO '${q(outFile)}' (FORMAT csv, DELIMITER '\t', HEADER false)`,
    );
  } finally {
    con.closeSync();
    instance.closeSync();
  }

  const total = steps[steps.length - 1].remaining;
  const items = new Int32Array(total);
  const ratings = new Float64Array(total);
  const times = new Float64Array(total);
  const users: number[] = [];
  const offsets: number[] = [];
  let n = 0;
  let prev = -1;
  // DuckDB returns (user rank, row id) in sequence order; the values come from the log's own arrays.
  await forEachLine(outFile, (line) => {
    if (!line) return;
    const a = line.indexOf("\t");
    const u = Number(line.slice(0, a));
    const row = Number(line.slice(a + 1));
    if (u !== prev) {
      users.push(userByRank[u]);
      offsets.push(n);
      prev = u;
    }
    items[n] = log.items[row];
    ratings[n] = log.ratings[row];
    times[n] = log.times[row];
    n++;
  });
  offsets.push(n);
  return {
    users: Int32Array.from(users),
    offsets: Int32Array.from(offsets),
    items,
    ratings,
    times,
    steps,
  };
}
