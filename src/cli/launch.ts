// What the `prefrec` executable does before loading the commands: commands that run models start
// Node again once with glibc's mmap threshold set (io/malloc-reexec.ts: lower peak memory on large
// models, measured in docs/results.md); the others (data, tokenizer, report, doctor, help) gain
// nothing from it and skip the second start-up.

import { reexecWithMallocThreshold } from "../io/malloc-reexec.js";

/** Top-level commands that load and run a model. */
export const MODEL_COMMANDS: ReadonlySet<string> = new Set([
  "model",
  "train",
  "eval",
  "experiment",
  "demo",
  "serve",
]);

/** The top-level command of a command line (arguments after node and the script), if any. */
export function commandOf(args: readonly string[]): string | undefined {
  return args.find((a) => !a.startsWith("-"));
}

/** Re-executes with the malloc setting when the command runs models; true when a child now
 *  does the work (this process only waits for it). */
export function launchInChild(argv: readonly string[] = process.argv): boolean {
  const command = commandOf(argv.slice(2));
  return command !== undefined && MODEL_COMMANDS.has(command) && reexecWithMallocThreshold();
}
