// The one Ctrl-C handler. SIGINT/SIGTERM abort an AbortSignal that long work polls (training
// stops after its step and checkpoints); work that cannot stop part-way (data preparation) asks
// to exit at once instead. Either way the process-wide cleanups run first — removing temporary
// folders registered by io/atomic.ts — and a second Ctrl-C exits at once.
import { rmSync } from "node:fs";

const cleanups = new Set<() => void>();

/** Registers a synchronous cleanup run on an interrupt-driven exit; returns its remover. */
export function registerCleanup(cleanup: () => void): () => void {
  cleanups.add(cleanup);
  return () => {
    cleanups.delete(cleanup);
  };
}

/** Registers removal of a temporary path (file or folder) for as long as it exists. */
export function removeOnInterrupt(path: string): () => void {
  return registerCleanup(() => rmSync(path, { recursive: true, force: true }));
}

/** Runs every registered cleanup once (errors are ignored: the process is on its way out). */
export function runCleanups(): void {
  for (const c of [...cleanups]) {
    cleanups.delete(c);
    try {
      c();
    } catch {
      // A cleanup that fails must not keep the others from running.
    }
  }
}

// Under the `prefrec` command's re-execution wrapper (malloc-reexec.ts) a signal sent to the
// whole process group — Ctrl-C in a terminal, `timeout`, a supervisor — reaches this process
// twice: directly and forwarded by the wrapper. The copy must not count as a second Ctrl-C.
let forwardedSignals = false;
/** How close (ms) a forwarded copy follows the signal it repeats. */
export const REPEAT_WINDOW_MS = 500;

/** Notes that a wrapper process forwards signals here (called once at start-up). */
export function expectForwardedSignals(): void {
  forwardedSignals = true;
}

/**
 * A filter for one signal handler: true for a signal that repeats the same signal handled less
 * than REPEAT_WINDOW_MS earlier in a process whose wrapper forwards signals (the copy is
 * ignored); always false otherwise.
 */
export function repeatFilter(
  forwarded = () => forwardedSignals,
): (signal: string, now?: number) => boolean {
  const last = new Map<string, number>();
  return (signal, now = Date.now()) => {
    const before = last.get(signal);
    last.set(signal, now);
    return forwarded() && before !== undefined && now - before < REPEAT_WINDOW_MS;
  };
}

/** What an installed handler gives the command. */
export interface InterruptHandler {
  /** Aborted on the first SIGINT/SIGTERM. */
  readonly signal: AbortSignal;
  /** Removes the signal listeners (call when the work is over). */
  dispose(): void;
}

/** How the first interrupt is handled. */
export interface InterruptOptions {
  /**
   * "stop": abort the signal and let the work finish its step (printing `message`);
   * "exit": run the cleanups and exit with 130 straight away (work without a stopping point).
   */
  mode: "stop" | "exit";
  /** Printed on stderr on the first interrupt in "stop" mode. */
  message?: string;
  /** For tests: what exiting does (default process.exit). */
  exit?: (code: number) => void;
  /** For tests: the process whose signals are handled (default process). */
  target?: NodeJS.EventEmitter;
  /** For tests: whether signals are forwarded by a wrapper (default: as noted at start-up). */
  forwarded?: () => boolean;
}

/** Installs the SIGINT/SIGTERM handler for one command. */
export function handleInterrupts(options: InterruptOptions): InterruptHandler {
  const controller = new AbortController();
  const target = options.target ?? process;
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const quit = () => {
    runCleanups();
    exit(130);
  };
  const repeat = repeatFilter(options.forwarded);
  const onSignal = (signal: string) => {
    if (repeat(signal)) return;
    if (controller.signal.aborted || options.mode === "exit") {
      quit();
      return;
    }
    process.stderr.write(
      `\n${options.message ?? "stopping after the current step"} (Ctrl-C again to quit now)…\n`,
    );
    controller.abort();
  };
  target.on("SIGINT", onSignal);
  target.on("SIGTERM", onSignal);
  return {
    signal: controller.signal,
    dispose() {
      target.off("SIGINT", onSignal);
      target.off("SIGTERM", onSignal);
    },
  };
}
