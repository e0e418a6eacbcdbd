// `prefrec serve` and `prefrec report` from the command line: bad targets are one-line errors
// with exit code 2, and --help lists every serve option the README documents.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createServer, type Server } from "node:net";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { listenError } from "../../src/cli/serve.js";

const main = fileURLToPath(new URL("../../src/cli/main.ts", import.meta.url));
const prefrec = (...args: string[]) =>
  spawnSync(process.execPath, ["--import", "tsx", main, ...args], {
    encoding: "utf8",
    timeout: 60_000,
  });

describe("prefrec serve / report on the command line", () => {
  it("lists every serve option", () => {
    const r = prefrec("serve", "--help");
    assert.equal(r.status, 0);
    for (const o of [
      "--data",
      "--host",
      "--port",
      "--max-batch",
      "--engine-batch",
      "--max-wait-ms",
      "--max-queue",
      "--timeout-ms",
      "--max-history",
      "--max-candidates",
      "--max-answer-tokens",
      "--body-limit",
      "--max-prompt-tokens",
      "--threads",
      "--provider",
    ])
      assert.match(r.stdout, new RegExp(`${o}\\b`), o);
  });

  it("reports a missing target in one line with exit code 2", () => {
    for (const args of [
      ["serve", "/nonexistent/run"],
      ["report", "/nonexistent/run"],
      ["serve", "x", "--max-batch", "0"],
      ["serve", "x", "--port", "99999"],
    ]) {
      const r = prefrec(...args);
      assert.equal(r.status, 2, `${args.join(" ")}: ${r.stderr}`);
      const lines = r.stderr.split("\n").filter((l) => l && !l.startsWith("npm warn"));
      assert.equal(lines.length, 1, r.stderr);
      assert.doesNotMatch(r.stderr, /\n\s+at /, "no stack trace");
    }
  });
});

/** The error a second listen on a taken port, or on an unresolvable host, really gives. */
function listenFailure(host: string, port: number): Promise<unknown> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once("error", resolve);
    s.listen(port, host, () => s.close(() => resolve(null)));
  });
}

describe("serve: listening failures", () => {
  it("are one line naming the option, exit code 2", async () => {
    const taken: Server = createServer();
    await new Promise<void>((r) => taken.listen(0, "127.0.0.1", r));
    const port = (taken.address() as { port: number }).port;
    try {
      const inUse = listenError(await listenFailure("127.0.0.1", port), "127.0.0.1", port);
      assert.equal(inUse?.exitCode, 2);
      assert.match(
        inUse!.message,
        new RegExp(`^--port ${port}: 127\\.0\\.0\\.1:${port} is already in use`),
      );
    } finally {
      taken.close();
    }
    const unknown = listenError(
      await listenFailure("nosuchhost.invalid", 0),
      "nosuchhost.invalid",
      0,
    );
    assert.equal(unknown?.message, "--host nosuchhost.invalid: cannot resolve that name");
    assert.equal(listenError(new Error("other"), "h", 1), null);
  });
});
