// The CLI's own usage errors (a missing option, a bad value): one line, exit code 2 by default.
import { UserError } from "../io/errors.js";

/** A usage error of the command line, printed as one line without a stack trace. */
export class CliError extends UserError {
  constructor(message: string, exitCode = 2) {
    super(message, { exitCode });
    this.name = "CliError";
  }
}
