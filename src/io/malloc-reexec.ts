// glibc's malloc keeps freed blocks of up to 32 MiB in its heap (its mmap threshold rises as large
// blocks are freed), and a large model's per-layer float32 weight copies and activations leave
// that heap fragmented: measured 0.3 GiB more resident memory at the TinyLlama-1.1B shape
// (docs/results.md). glibc reads MALLOC_MMAP_THRESHOLD_ only at process start, so the `prefrec`
// command starts Node again once with it set: blocks of 1 MiB or more then go back to the system
// when freed. The variable itself guards against a loop; PREFREC_MALLOC=system opts out.

import { spawn } from "node:child_process";
import { constants } from "node:os";
import { expectForwardedSignals } from "./interrupt.js";

/** The variable set for the re-executed process, and its value (bytes). */
export const MALLOC_VARIABLE = "MALLOC_MMAP_THRESHOLD_";
export const MALLOC_THRESHOLD = String(2 ** 20);
/** glibc's tunables: malloc asks for transparent huge pages on the memory it maps (glibc ≥ 2.35;
 *  older ones skip an unknown tunable), so the blocks the threshold maps afresh on every run fault
 *  in 2 MiB at a time — measured: about half of the threshold's extra CPU time on small models. */
export const TUNABLES_VARIABLE = "GLIBC_TUNABLES";
export const HUGE_PAGES_TUNABLE = "glibc.malloc.hugetlb=1";
/** Set to `system` to keep glibc's defaults (no re-execution). */
export const OPT_OUT_VARIABLE = "PREFREC_MALLOC";
/** Set in the child when a wrapper process forwards signals to it (see interrupt.ts). */
export const FORWARDED_VARIABLE = "PREFREC_SIGNALS_FORWARDED";

/** Signals a wrapper process passes on to its child. */
const FORWARDED: readonly NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];

/** Where the process runs, for the decision (the live process by default). */
export interface Host {
  platform: NodeJS.Platform;
  /** glibc's version, or undefined where the C library is another one (musl). */
  glibc: string | undefined;
}

/** The live process's platform and C library. */
export function currentHost(): Host {
  const header =
    process.platform === "linux"
      ? (process.report.getReport() as { header?: { glibcVersionRuntime?: string } }).header
      : undefined;
  return { platform: process.platform, glibc: header?.glibcVersionRuntime };
}

/**
 * The environment to start the process again with (the threshold, and huge pages for what malloc
 * maps), or null when it should run as it is: not
 * Linux with glibc, the variable already set (by the user, or by this function in the parent),
 * or opted out with PREFREC_MALLOC=system.
 */
export function mallocReexecEnv(env: NodeJS.ProcessEnv, host?: Host): NodeJS.ProcessEnv | null {
  if (env[MALLOC_VARIABLE] !== undefined) return null;
  if (env[OPT_OUT_VARIABLE] === "system") return null;
  // Only now: the process report behind currentHost() takes milliseconds (the child skips it).
  const where = host ?? currentHost();
  if (where.platform !== "linux" || where.glibc === undefined) return null;
  const tunables = env[TUNABLES_VARIABLE];
  return {
    ...env,
    [MALLOC_VARIABLE]: MALLOC_THRESHOLD,
    // Added to the user's tunables unless they choose the huge-page setting themselves.
    [TUNABLES_VARIABLE]: !tunables
      ? HUGE_PAGES_TUNABLE
      : tunables.includes("glibc.malloc.hugetlb")
        ? tunables
        : `${tunables}:${HUGE_PAGES_TUNABLE}`,
  };
}

/**
 * Starts this script again with glibc's mmap threshold set when `mallocReexecEnv` says so and
 * returns true: the child inherits stdin/stdout/stderr, gets SIGINT/SIGTERM/SIGHUP forwarded, and
 * this process exits with the child's code or dies of the child's signal. Returns false (nothing
 * started) otherwise; in a child it also notes that signals may arrive twice.
 */
export function reexecWithMallocThreshold(
  env: NodeJS.ProcessEnv = process.env,
  host?: Host,
): boolean {
  if (env[FORWARDED_VARIABLE] !== undefined) {
    // Not inherited further: a grandchild gets its signals once.
    delete env[FORWARDED_VARIABLE];
    expectForwardedSignals();
  }
  const childEnv = mallocReexecEnv(env, host);
  if (childEnv === null) return false;
  const args = [...process.execArgv, ...process.argv.slice(1)];
  const child = spawn(process.execPath, args, {
    stdio: "inherit",
    env: { ...childEnv, [FORWARDED_VARIABLE]: "1" },
  });
  const forward = (signal: NodeJS.Signals) => {
    child.kill(signal);
  };
  for (const s of FORWARDED) process.on(s, forward);
  child.on("error", (error) => {
    process.stderr.write(`prefrec: could not start ${process.execPath}: ${error.message}\n`);
    process.exit(1);
  });
  child.on("exit", (code, signal) => {
    for (const s of FORWARDED) process.off(s, forward);
    if (signal !== null) {
      // Die the same way, so a shell or supervisor sees the signal (not just a code); the exit
      // code a shell would show is the fallback should the signal not end this process.
      setTimeout(() => process.exit(128 + (constants.signals[signal] ?? 0)), 1000);
      process.kill(process.pid, signal);
      return;
    }
    process.exit(code ?? 1);
  });
  return true;
}
