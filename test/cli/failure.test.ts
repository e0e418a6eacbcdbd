// How the CLI words a failure: UserErrors and path-naming system errors as one line with their
// exit code; anything else as an internal error with a hint, its stack only under --debug.
import assert from "node:assert/strict";
import { test } from "node:test";
import { debugRequested, describeFailure } from "../../src/cli/failure.js";
import { DataError } from "../../src/data/errors.js";
import { RuntimeFailure, UserError } from "../../src/io/errors.js";

function systemError(code: string, syscall: string, path: string): Error {
  return Object.assign(new Error(`${code}: ${syscall} '${path}'`), { code, syscall, path });
}

test("user errors: one line, their exit code, no stack", () => {
  assert.deepEqual(describeFailure(new DataError("missing u.data", "/d/u.data"), false), {
    text: "prefrec: /d/u.data: missing u.data\n",
    exitCode: 2,
  });
  assert.deepEqual(describeFailure(new RuntimeFailure("no CUDA"), false), {
    text: "prefrec: no CUDA\n",
    exitCode: 1,
  });
  // Found through `cause` when a library wrapped it.
  const wrapped = new Error("outer", { cause: new UserError("inner mistake") });
  assert.equal(describeFailure(wrapped, false).text, "prefrec: inner mistake\n");
});

test("system errors on a path: what and where; disk trouble is a runtime failure", () => {
  assert.deepEqual(describeFailure(systemError("EACCES", "open", "/ro/x.json"), false), {
    text: "prefrec: open /ro/x.json: permission denied\n",
    exitCode: 2,
  });
  assert.equal(describeFailure(systemError("ENOSPC", "write", "/full/f"), false).exitCode, 1);
});

test("anything else is an internal error: a hint without --debug, the stack with it", () => {
  const bug = new TypeError("x is undefined");
  const plain = describeFailure(bug, false);
  assert.equal(plain.exitCode, 1);
  assert.match(plain.text, /^prefrec: internal error: x is undefined\n\(run again with --debug/);
  assert.doesNotMatch(plain.text, /^\s+at /m);
  const debug = describeFailure(bug, true);
  assert.match(debug.text, /^\s+at /m);
  assert.match(describeFailure(new UserError("bad"), true).text, /^\s+at [\s\S]*prefrec: bad\n$/m);
});

test("--debug anywhere or PREFREC_DEBUG=1", () => {
  assert.equal(debugRequested(["node", "prefrec", "eval", "--debug"], {}), true);
  assert.equal(debugRequested(["node", "prefrec"], { PREFREC_DEBUG: "1" }), true);
  assert.equal(debugRequested(["node", "prefrec"], { PREFREC_DEBUG: "0" }), false);
});
