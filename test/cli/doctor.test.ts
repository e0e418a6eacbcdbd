// `prefrec doctor` through the real executable: it runs the engine check and reports providers.

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { join } from "node:path";
import { describe, it } from "node:test";
import { promisify } from "node:util";
import { providerStatus } from "../../src/cli/doctor.js";

const run = promisify(execFile);
const bin = join(import.meta.dirname, "..", "..", "bin", "prefrec.js");

describe("prefrec doctor", () => {
  it("prints a JSON report with a correct gradient check", async () => {
    const { stdout } = await run(process.execPath, [bin, "doctor", "--json", "--threads", "1"]);
    const report = JSON.parse(stdout);
    assert.equal(report.provider, "cpu");
    assert.equal(report.threads, 1);
    assert.equal(report.check.size, 512);
    assert.equal(report.check.gradientOk, true);
    assert.ok(report.check.gflops > 0);
    assert.ok(
      report.providers.some((p: { name: string; usable: boolean }) => p.name === "cpu" && p.usable),
    );
  });
  it("refuses an unusable provider with a clear message", async () => {
    await assert.rejects(
      run(process.execPath, [bin, "doctor", "--provider", "tpu"]),
      (error: { stderr: string }) => {
        assert.match(error.stderr, /--provider must be cpu or cuda, not "tpu"/);
        return true;
      },
    );
  });
  it("gives every provider a status", () => {
    assert.equal(providerStatus({ name: "cpu", bundled: true, usable: true }), "usable");
    assert.equal(
      providerStatus({ name: "webgpu", bundled: true, usable: false }),
      "bundled, not used by prefrec",
    );
    assert.equal(providerStatus({ name: "cuda", bundled: false, usable: false }), "not installed");
    assert.equal(
      providerStatus({ name: "tensorrt", bundled: false, usable: false }),
      "not installed, not used by prefrec",
    );
  });
});
