// Errors of training runs, meant for the person running them.
import { UserError } from "../io/errors.js";

/** A training run cannot start or continue; the message says why. */
export class TrainingError extends UserError {
  constructor(message: string) {
    super(message);
    this.name = "TrainingError";
  }
}

/** Ctrl-C during setup: nothing of the run is kept. Exit code 130, as for SIGINT. */
export class SetupInterrupted extends UserError {
  constructor(what: string) {
    super(`interrupted during ${what}; the run was not started`, { exitCode: 130 });
    this.name = "SetupInterrupted";
  }
}

/** Throws SetupInterrupted when `signal` is aborted (checked between batches of setup work). */
export function checkAborted(signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted) throw new SetupInterrupted(what);
}
