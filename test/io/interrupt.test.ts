// The Ctrl-C handler and the temporary-folder hygiene: cleanups run on an interrupt, a second
// interrupt exits at once, and stale temporary folders of dead processes are swept.
import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, rm, utimes } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { STALE_AFTER_MS, sweepStaleTemps, withAtomicDir } from "../../src/io/atomic.js";
import { handleInterrupts, runCleanups } from "../../src/io/interrupt.js";

const root = await mkdtemp(join(tmpdir(), "prefrec-interrupt-"));
after(() => rm(root, { recursive: true, force: true }));

test("stop mode: the first signal aborts, the second runs cleanups and exits 130", () => {
  const target = new EventEmitter();
  const exits: number[] = [];
  const stderr = process.stderr.write;
  process.stderr.write = (() => true) as typeof process.stderr.write;
  try {
    const h = handleInterrupts({ mode: "stop", target, exit: (c) => exits.push(c) });
    assert.equal(h.signal.aborted, false);
    target.emit("SIGINT");
    assert.equal(h.signal.aborted, true);
    assert.deepEqual(exits, []);
    target.emit("SIGTERM");
    assert.deepEqual(exits, [130]);
    h.dispose();
    assert.equal(target.listenerCount("SIGINT"), 0);
  } finally {
    process.stderr.write = stderr;
  }
});

test("under the re-exec wrapper a forwarded copy of the signal is not a second Ctrl-C", () => {
  const target = new EventEmitter();
  const exits: number[] = [];
  const stderr = process.stderr.write;
  process.stderr.write = (() => true) as typeof process.stderr.write;
  try {
    const h = handleInterrupts({
      mode: "stop",
      target,
      exit: (c) => exits.push(c),
      forwarded: () => true,
    });
    target.emit("SIGINT", "SIGINT");
    target.emit("SIGINT", "SIGINT"); // the wrapper's copy of a Ctrl-C the whole group got
    assert.equal(h.signal.aborted, true);
    assert.deepEqual(exits, []);
    target.emit("SIGTERM", "SIGTERM"); // another signal: a real second interrupt
    assert.deepEqual(exits, [130]);
    h.dispose();
  } finally {
    process.stderr.write = stderr;
  }
  // Not under a wrapper: the same two signals are two interrupts.
  const plain = new EventEmitter();
  const plainExits: number[] = [];
  process.stderr.write = (() => true) as typeof process.stderr.write;
  try {
    const h = handleInterrupts({
      mode: "stop",
      target: plain,
      exit: (c) => plainExits.push(c),
      forwarded: () => false,
    });
    plain.emit("SIGINT", "SIGINT");
    plain.emit("SIGINT", "SIGINT");
    assert.deepEqual(plainExits, [130]);
    h.dispose();
  } finally {
    process.stderr.write = stderr;
  }
});

test("exit mode: an interrupt inside an atomic write removes its temporary folder", async () => {
  const target = new EventEmitter();
  const exits: number[] = [];
  const h = handleInterrupts({ mode: "exit", target, exit: (c) => exits.push(c) });
  const out = join(root, "out");
  let seen: string[] = [];
  await assert.rejects(
    withAtomicDir(out, async (tmp) => {
      await mkdir(join(tmp, "part"));
      seen = await readdir(root);
      target.emit("SIGINT"); // removes tmp, as the real handler does before process.exit
      throw new Error("the process would have exited here");
    }),
  );
  h.dispose();
  assert.deepEqual(exits, [130]);
  assert.equal(seen.filter((n) => n.startsWith(".out.tmp-")).length, 1);
  assert.deepEqual(await readdir(root), []);
  runCleanups(); // nothing left registered: a no-op
});

test("stale temporary siblings are swept: dead pid or too old; live ones are kept", async () => {
  const dir = join(root, "sweep");
  await mkdir(dir);
  const dead = ".data.tmp-99999999-0a1b2c3d"; // no such pid (above the kernel's pid_max)
  const live = `.data.tmp-${process.ppid}-0a1b2c3d`;
  const oldLive = `.model.old-${process.ppid}-ffff0000`;
  const unrelated = ".data.tmp-notapid";
  for (const n of [dead, live, oldLive, unrelated]) await mkdir(join(dir, n));
  const long = new Date(Date.now() - STALE_AFTER_MS - 60_000);
  await utimes(join(dir, oldLive), long, long);
  assert.deepEqual((await sweepStaleTemps(dir)).sort(), [dead, oldLive].sort());
  assert.ok(existsSync(join(dir, live)));
  assert.ok(existsSync(join(dir, unrelated)));
  // withAtomicDir sweeps its parent before writing.
  await mkdir(join(dir, dead));
  await withAtomicDir(join(dir, "data"), async () => {});
  assert.equal(existsSync(join(dir, dead)), false);
});
