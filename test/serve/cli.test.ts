// `prefrec serve` and `prefrec report` from the command line: bad targets are one-line errors
// with exit code 2, and --help lists every serve option the README documents.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";

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
    ]) {
      const r = prefrec(...args);
      assert.equal(r.status, 2, `${args.join(" ")}: ${r.stderr}`);
      const lines = r.stderr.split("\n").filter((l) => l && !l.startsWith("npm warn"));
      assert.equal(lines.length, 1, r.stderr);
      assert.doesNotMatch(r.stderr, /\n\s+at /, "no stack trace");
    }
  });
});
