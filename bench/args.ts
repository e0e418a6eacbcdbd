// Command-line handling shared by the benchmarks: flags parsed with one-line errors (exit 2), and
// any later failure (a server that exits, a file that cannot be read) printed as one line (exit 1)
// instead of a stack trace.

import { basename } from "node:path";
import { type ParseArgsConfig, parseArgs } from "node:util";

const script = basename(process.argv[1] ?? "bench");

process.on("uncaughtException", (error) => {
  process.stderr.write(`${script}: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});

/** A one-line usage error and exit 2. */
export function usageError(message: string): never {
  process.stderr.write(`${script}: ${message}\n`);
  process.exit(2);
}

/** `parseArgs` whose errors (unknown flag, missing or dash-leading value) are one line. */
export function benchArgs<T extends NonNullable<ParseArgsConfig["options"]>>(options: T) {
  try {
    return parseArgs({ options, strict: true });
  } catch (error) {
    usageError((error as Error).message.split("\n")[0]);
  }
}

/** A whole-number flag value ≥ `min` (else a usage error naming the flag). */
export function countArg(name: string, value: string | undefined, min = 1): number {
  const n = Number(value);
  if (value === undefined || !Number.isInteger(n) || n < min)
    usageError(`--${name}: expected a whole number ≥ ${min}, got ${value}`);
  return n;
}
