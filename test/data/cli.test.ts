import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { Command } from "@commander-js/extra-typings";
import { registerData } from "../../src/cli/data.js";
import { UserError } from "../../src/io/errors.js";
import { tempDir } from "./helpers.js";

function program() {
  const p = new Command().exitOverride();
  registerData(p);
  return p;
}

test("data synth → prepare → inspect through the CLI", async () => {
  const d = await tempDir();
  const out: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((s: string) => {
    out.push(String(s));
    return true;
  }) as typeof process.stdout.write;
  try {
    await program().parseAsync([
      "node",
      "prefrec",
      "data",
      "synth",
      "--out",
      join(d, "w"),
      "--users",
      "30",
      "--items",
      "60",
    ]);
    await program().parseAsync([
      "node",
      "prefrec",
      "data",
      "prepare",
      "--source",
      "synth",
      "--path",
      join(d, "w"),
      "--out",
      join(d, "ds"),
      "--split",
      "last",
      "--negatives",
      "2",
      "--show-ratings",
      "--quiet",
    ]);
    await program().parseAsync([
      "node",
      "prefrec",
      "data",
      "inspect",
      join(d, "ds"),
      "--samples",
      "1",
    ]);
  } finally {
    process.stdout.write = write;
  }
  const text = out.join("");
  assert.match(text, /wrote .*: 30 users, 60 items/);
  assert.match(text, /train \d+, valid 30, test 30 examples/);
  assert.match(text, /history length: min 3/);
  assert.match(text, /\| Rating: \d/);
  const manifest = JSON.parse(await readFile(join(d, "ds", "manifest.json"), "utf8"));
  assert.equal(manifest.params.numNegatives ?? manifest.params.negatives, 2);
});

test("data errors become UserErrors that name the file", async () => {
  const d = await tempDir();
  await assert.rejects(
    program().parseAsync([
      "node",
      "prefrec",
      "data",
      "prepare",
      "--source",
      "movielens-100k",
      "--path",
      d,
      "--out",
      join(d, "x"),
      "--quiet",
    ]),
    (e: unknown) =>
      e instanceof UserError && /u\.data: missing MovieLens 100K ratings/.test(e.message),
  );
});

test("data prepare checks its options before reading any data, with a fix that exists", async () => {
  const d = await tempDir();
  const prepare = (...args: string[]) =>
    program().parseAsync([
      "node",
      "prefrec",
      "data",
      "prepare",
      "--source",
      "movielens-100k",
      "--path",
      join(d, "does-not-exist"),
      "--out",
      join(d, "x"),
      "--quiet",
      ...args,
    ]);
  await assert.rejects(
    prepare("--negatives", "100"),
    (e: unknown) =>
      e instanceof UserError &&
      e.message ===
        "--negatives must be between 0 and candidates − 1 = 19, got 100 (each list holds the target and 19 others: lower --negatives, or raise --candidates to 101)",
  );
  await assert.rejects(
    prepare("--user-ratio", "8:1"),
    (e: unknown) =>
      e instanceof UserError && /userRatio: expected three shares like 8:1:1/.test(e.message),
  );
  await assert.rejects(
    prepare("--follow-candidates", "2", "--candidate-sampler", "sdpo"),
    (e: unknown) =>
      e instanceof UserError && /--follow-candidates cannot be combined/.test(e.message),
  );
});
