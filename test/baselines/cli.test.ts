// `prefrec train pop|sasrec` through the real executable: a run, its files, resume of a finished
// run, and one-line errors with exit code 2 for bad input.

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { promisify } from "node:util";
import { prepareDataset, writeSynth } from "../../src/data/index.js";

const run = promisify(execFile);
const bin = join(import.meta.dirname, "..", "..", "bin", "prefrec.js");
const prefrec = async (...args: string[]) => (await run(process.execPath, [bin, ...args])).stdout;
/** Runs a command expected to fail: its exit code and stderr. */
const failing = async (...args: string[]) => {
  try {
    await run(process.execPath, [bin, ...args]);
  } catch (e) {
    const err = e as { code: number; stderr: string };
    return { code: err.code, stderr: err.stderr };
  }
  throw new Error(`prefrec ${args.join(" ")} succeeded`);
};

const dir = await mkdtemp(join(tmpdir(), "prefrec-baselines-cli-"));
after(() => rm(dir, { recursive: true, force: true }));

test("prefrec train pop and sasrec write runs; bad input is one line, exit 2", async () => {
  await writeSynth(join(dir, "world"), { users: 40, items: 30, seed: 2 }, false, true);
  const data = join(dir, "data");
  await prepareDataset({
    source: "synth",
    path: join(dir, "world"),
    out: data,
    candidates: 5,
    negatives: 1,
    quiet: true,
  });
  const pop = join(dir, "pop");
  assert.match(
    await prefrec("train", "pop", "--data", data, "--out", pop, "--quiet"),
    /^done: .*pop/,
  );
  const config = JSON.parse(await readFile(join(pop, "config.json"), "utf8"));
  assert.equal(config.kind, "pop");
  const sasrec = join(dir, "sasrec");
  const flags = ["--hidden", "8", "--blocks", "1", "--epochs", "2", "--threads", "1", "--quiet"];
  assert.match(
    await prefrec("train", "sasrec", "--data", data, "--out", sasrec, ...flags),
    /2 epochs/,
  );
  const metrics = (await readFile(join(sasrec, "metrics.jsonl"), "utf8")).trim().split("\n");
  // One line per training step, one validation line per epoch.
  assert.equal(metrics.filter((l) => JSON.parse(l).split === "valid").length, 2);
  assert.match(await prefrec("train", "sasrec", "--resume", sasrec, "--quiet"), /2 epochs/);
  for (const [args, pattern] of [
    [["train", "pop", "--data", data, "--out", pop], /already exists and is not empty/],
    [
      ["train", "sasrec", "--data", join(dir, "nope"), "--out", join(dir, "x")],
      /not a prepared dataset/,
    ],
    [
      ["train", "sasrec", "--data", data, "--out", join(dir, "y"), "--dropout", "1.5"],
      /field dropout/,
    ],
    [["train", "gru4rec", "--resume", sasrec], /is a sasrec run/],
    [["train", "sasrec", "--resume", sasrec, "--epochs", "3"], /cannot change on resume: --epochs/],
    [
      ["train", "sasrec", "--data", data, "--out", join(dir, "z"), "--batch-size", "0"],
      /field batchSize \(--batch-size\)/,
    ],
  ] as const) {
    const { code, stderr } = await failing(...args);
    assert.equal(code, 2, stderr);
    assert.match(stderr, pattern);
    assert.equal(stderr.trim().split("\n").length, 1, stderr);
  }
});
