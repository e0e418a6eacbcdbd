// The `prefrec` command's re-execution with glibc's mmap threshold: when it applies, that the
// variable is set once (no loop), that the child's exit code and signal become the wrapper's, that
// signals sent to the wrapper reach the child, and that a signal sent to the whole process group
// (which the child gets directly and forwarded) counts once.
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { REPEAT_WINDOW_MS, repeatFilter } from "../../src/io/interrupt.js";
import {
  FORWARDED_VARIABLE,
  MALLOC_THRESHOLD,
  MALLOC_VARIABLE,
  mallocReexecEnv,
  OPT_OUT_VARIABLE,
} from "../../src/io/malloc-reexec.js";

const glibc = { platform: "linux" as const, glibc: "2.36" };
const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), "fixtures", "reexec-child.ts");
/** Whether this machine is one where the wrapper re-executes (Linux with glibc). */
const applies = mallocReexecEnv({}) !== null;

test("the variable is added only on Linux with glibc, when unset and not opted out", () => {
  const env = { PATH: "/bin" };
  assert.deepEqual(mallocReexecEnv(env, glibc), {
    PATH: "/bin",
    [MALLOC_VARIABLE]: MALLOC_THRESHOLD,
    GLIBC_TUNABLES: "glibc.malloc.hugetlb=1",
  });
  // The user's tunables are kept; the huge-page one is added unless they set it themselves.
  const withTunables = (t: string) => mallocReexecEnv({ GLIBC_TUNABLES: t }, glibc)!.GLIBC_TUNABLES;
  assert.equal(
    withTunables("glibc.malloc.arena_max=2"),
    "glibc.malloc.arena_max=2:glibc.malloc.hugetlb=1",
  );
  assert.equal(withTunables("glibc.malloc.hugetlb=0"), "glibc.malloc.hugetlb=0");
  assert.equal(MALLOC_THRESHOLD, "1048576");
  assert.deepEqual(env, { PATH: "/bin" }); // the caller's environment is not changed
  // Already set (by the user, or by the wrapper for its child): no second re-execution.
  assert.equal(mallocReexecEnv({ [MALLOC_VARIABLE]: "65536" }, glibc), null);
  assert.equal(mallocReexecEnv({ [OPT_OUT_VARIABLE]: "system" }, glibc), null);
  assert.equal(mallocReexecEnv({}, { platform: "linux", glibc: undefined }), null); // musl
  assert.equal(mallocReexecEnv({}, { platform: "darwin", glibc: undefined }), null);
});

test("repeat filter: a same signal within the window is a repeat only when forwarded", () => {
  const off = repeatFilter(() => false);
  assert.equal(off("SIGINT", 0), false);
  assert.equal(off("SIGINT", 1), false);
  const on = repeatFilter(() => true);
  assert.equal(on("SIGINT", 1000), false);
  assert.equal(on("SIGINT", 1010), true);
  assert.equal(on("SIGTERM", 1020), false); // another signal
  assert.equal(on("SIGINT", 1010 + REPEAT_WINDOW_MS + 1), false); // a real second Ctrl-C
});

/** Starts the fixture through node + tsx; collects its stdout lines as JSON. */
function start(
  args: string[],
  env: NodeJS.ProcessEnv = {},
  detached = false,
): { child: ChildProcess; lines: Record<string, unknown>[]; ready: Promise<void> } {
  const clean = { ...process.env };
  delete clean[MALLOC_VARIABLE];
  delete clean[OPT_OUT_VARIABLE];
  delete clean[FORWARDED_VARIABLE];
  delete clean.GLIBC_TUNABLES;
  const child = spawn(process.execPath, ["--import", "tsx", SCRIPT, ...args], {
    env: { ...clean, ...env },
    stdio: ["ignore", "pipe", "inherit"],
    detached,
  });
  const lines: Record<string, unknown>[] = [];
  let buffer = "";
  const ready = new Promise<void>((resolve) => {
    child.stdout!.on("data", (chunk: Buffer) => {
      buffer += chunk.toString();
      const parts = buffer.split("\n");
      buffer = parts.pop()!;
      for (const p of parts) {
        const line = JSON.parse(p) as Record<string, unknown>;
        lines.push(line);
        if (line.ready) resolve();
      }
    });
  });
  return { child, lines, ready };
}

const exited = async (child: ChildProcess) => {
  const [code, signal] = (await once(child, "exit")) as [number | null, string | null];
  return { code, signal };
};

test("re-executes once with the variable set; the child's exit code is the wrapper's", {
  skip: !applies && "not Linux with glibc",
}, async () => {
  const run = start(["exit", "7"]);
  assert.deepEqual(await exited(run.child), { code: 7, signal: null });
  assert.equal(run.lines.length, 1); // one process did the work: no loop
  assert.equal(run.lines[0].threshold, MALLOC_THRESHOLD);
  assert.equal(run.lines[0].tunables, "glibc.malloc.hugetlb=1");
  assert.notEqual(run.lines[0].pid, run.child.pid); // a child, not the wrapper itself
  assert.equal(run.lines[0].marker, null); // the marker is consumed, not passed further down
});

test("no re-execution when opted out or when the variable is already set", {
  skip: !applies && "not Linux with glibc",
}, async () => {
  const optOut = start(["exit", "0"], { [OPT_OUT_VARIABLE]: "system" });
  assert.deepEqual(await exited(optOut.child), { code: 0, signal: null });
  assert.equal(optOut.lines[0].threshold, null);
  assert.equal(optOut.lines[0].pid, optOut.child.pid);
  const preset = start(["exit", "0"], { [MALLOC_VARIABLE]: "65536" });
  assert.deepEqual(await exited(preset.child), { code: 0, signal: null });
  assert.equal(preset.lines[0].threshold, "65536");
  assert.equal(preset.lines[0].pid, preset.child.pid);
});

test("a child killed by a signal makes the wrapper die of the same signal", {
  skip: !applies && "not Linux with glibc",
}, async () => {
  const run = start(["die"]);
  assert.deepEqual(await exited(run.child), { code: null, signal: "SIGTERM" });
  assert.equal(run.lines.length, 1);
});

test("a signal sent to the wrapper alone reaches the child once", {
  skip: !applies && "not Linux with glibc",
}, async () => {
  const run = start(["wait"]);
  await run.ready;
  run.child.kill("SIGTERM");
  assert.deepEqual(await exited(run.child), { code: 0, signal: null });
  assert.deepEqual(
    run.lines.filter((l) => l.signal),
    [{ signal: "SIGTERM", repeat: false }],
  );
});

test("a signal sent to the process group (Ctrl-C) counts once in the child", {
  skip: !applies && "not Linux with glibc",
}, async () => {
  // Its own process group, as a terminal's foreground job is: the kernel signals every member.
  const run = start(["wait"], {}, true);
  await run.ready;
  process.kill(-run.child.pid!, "SIGINT");
  assert.deepEqual(await exited(run.child), { code: 0, signal: null });
  // Received directly and forwarded by the wrapper — twice, or once when the kernel merged the
  // copy into the still-pending first (a signal is not queued twice): handled once either way.
  const seen = run.lines.filter((l) => l.signal);
  assert.ok(seen.length >= 1 && seen.every((l) => l.signal === "SIGINT"));
  assert.equal(seen.filter((l) => !l.repeat).length, 1);
});
