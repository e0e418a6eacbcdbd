import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { makeDirs, withAtomicDir, withAtomicFile, writeFileAtomic } from "../../src/io/atomic.js";
import { tempDir } from "./helpers.js";

test("writeFileAtomic writes the content and leaves no temp file", async (t) => {
  const dir = await tempDir(t);
  await writeFileAtomic(join(dir, "sub", "a.txt"), "hello");
  await writeFileAtomic(join(dir, "sub", "a.txt"), "again");
  assert.equal(await readFile(join(dir, "sub", "a.txt"), "utf8"), "again");
  assert.deepEqual(await readdir(join(dir, "sub")), ["a.txt"]);
});

test("a failed write keeps the old file and removes the temp file", async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, "a.txt");
  await writeFile(path, "old");
  await assert.rejects(
    withAtomicFile(path, async (tmp) => {
      await writeFile(tmp, "half");
      throw new Error("boom");
    }),
    /boom/,
  );
  assert.equal(await readFile(path, "utf8"), "old");
  assert.deepEqual(await readdir(dir), ["a.txt"]);
});

test("withAtomicDir: creates, refuses a non-empty dir unless replace, cleans up on failure", async (t) => {
  const root = await tempDir(t);
  const out = join(root, "model");
  await withAtomicDir(out, (tmp) => writeFile(join(tmp, "x"), "1"));
  assert.deepEqual(await readdir(out), ["x"]);
  await assert.rejects(
    withAtomicDir(out, (tmp) => writeFile(join(tmp, "y"), "2")),
    /already exists and is not empty/,
  );
  assert.deepEqual(await readdir(out), ["x"]);
  await withAtomicDir(out, (tmp) => writeFile(join(tmp, "y"), "2"), { replace: true });
  assert.deepEqual(await readdir(out), ["y"]);
  await assert.rejects(
    withAtomicDir(
      out,
      async (tmp) => {
        await writeFile(join(tmp, "z"), "3");
        throw new Error("fail");
      },
      { replace: true },
    ),
    /fail/,
  );
  assert.deepEqual(await readdir(out), ["y"]);
  assert.deepEqual(await readdir(root), ["model"]);
  const empty = join(root, "empty");
  await mkdir(empty);
  await withAtomicDir(empty, (tmp) => writeFile(join(tmp, "a"), "1"));
  assert.deepEqual(await readdir(empty), ["a"]);
});

test("writing under a folder that refuses children fails instead of spinning (Node's recursive mkdir loops under /proc)", {
  skip: !existsSync("/proc/self"),
  timeout: 10_000,
}, async () => {
  await assert.rejects(
    writeFileAtomic("/proc/prefrec-no-such/a/report.md", "x"),
    /ENOENT|EACCES|EPERM|not writable/,
  );
});

test("makeDirs creates every missing level and accepts existing ones", async (t) => {
  const dir = await tempDir(t);
  await makeDirs(join(dir, "a", "b", "c"));
  await makeDirs(join(dir, "a", "b", "c"));
  assert.deepEqual(await readdir(join(dir, "a", "b")), ["c"]);
});
