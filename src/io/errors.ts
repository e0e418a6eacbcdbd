// The base of every error meant for the person at the terminal. `cli/main.ts` prints these as one
// line without a stack trace (unless --debug or PREFREC_DEBUG=1); anything else is a bug.

/** A mistake in the input (a path, a file's content, an option): exit code 2. */
export class UserError extends Error {
  /** 2 for usage/input errors, 1 for runtime failures the user can act on. */
  readonly exitCode: number = 2;
  constructor(message: string, options?: { exitCode?: number; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = "UserError";
    if (options?.exitCode !== undefined) this.exitCode = options.exitCode;
  }
}

/** A failure at run time the user can act on (no CUDA, out of memory, disk full): exit code 1. */
export class RuntimeFailure extends UserError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, { exitCode: 1, cause: options?.cause });
    this.name = "RuntimeFailure";
  }
}
