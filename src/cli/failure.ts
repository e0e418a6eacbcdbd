// How the CLI reports a failure: a UserError (or an operating-system error on a named path) as
// one line `prefrec: …`, anything else as an internal error whose stack shows only under --debug.
import { UserError } from "../io/errors.js";

/** Operating-system error codes that are about the environment (disk, limits), not the input. */
const RUNTIME_CODES = new Set(["ENOSPC", "EIO", "EMFILE", "ENFILE", "ENOMEM", "EDQUOT"]);

const CODE_TEXT: Record<string, string> = {
  ENOENT: "no such file or directory",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  EROFS: "read-only file system",
  ENOTDIR: "not a directory",
  EISDIR: "is a directory, not a file",
  ENOSPC: "no space left on device",
  EEXIST: "already exists",
  ENOTEMPTY: "directory not empty",
  EDQUOT: "disk quota exceeded",
};

interface SystemError extends Error {
  code: string;
  syscall?: string;
  path?: string;
  dest?: string;
}

function isSystemError(error: unknown): error is SystemError {
  return (
    error instanceof Error &&
    typeof (error as SystemError).code === "string" &&
    typeof (error as SystemError).path === "string"
  );
}

/** Follows `cause` links to the first UserError or path-naming system error, if any. */
function userFacing(error: unknown): UserError | SystemError | null {
  for (let e = error, depth = 0; e instanceof Error && depth < 8; depth++) {
    if (e instanceof UserError || isSystemError(e)) return e;
    e = e.cause;
  }
  return null;
}

/** What the CLI prints and the exit code it uses for `error`. */
export function describeFailure(
  error: unknown,
  debug: boolean,
): { text: string; exitCode: number } {
  const found = userFacing(error);
  const stack = debug && error instanceof Error && error.stack ? `${error.stack}\n` : "";
  if (found instanceof UserError) {
    return { text: `${stack}prefrec: ${found.message}\n`, exitCode: found.exitCode };
  }
  if (found) {
    const what = CODE_TEXT[found.code] ?? found.code;
    const verb = found.syscall ? `${found.syscall} ` : "";
    return {
      text: `${stack}prefrec: ${verb}${found.path}: ${what}\n`,
      exitCode: RUNTIME_CODES.has(found.code) ? 1 : 2,
    };
  }
  const message = error instanceof Error ? error.message : String(error);
  const detail = debug
    ? `${error instanceof Error && error.stack ? error.stack : message}\n`
    : `prefrec: internal error: ${message}\n(run again with --debug or PREFREC_DEBUG=1 for the stack trace, and please report it)\n`;
  return { text: debug ? `prefrec: internal error\n${detail}` : detail, exitCode: 1 };
}

/** Whether the stack of failures should be shown: `--debug` anywhere or PREFREC_DEBUG=1. */
export function debugRequested(argv: readonly string[], env: NodeJS.ProcessEnv): boolean {
  return argv.includes("--debug") || (env.PREFREC_DEBUG ?? "") === "1";
}
