// Graceful shutdown over a real loopback socket: on SIGTERM (and SIGINT) the server stops
// accepting connections, finishes the request in flight, and the process exits 0.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { request } from "node:http";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";

const child = fileURLToPath(new URL("./server-child.ts", import.meta.url));

/** One POST on a fresh connection; resolves with status and body, rejects on a socket error. */
function post(port: number, body: unknown): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port,
        path: "/v1/recommend",
        method: "POST",
        agent: false,
        headers: { "content-type": "application/json" },
      },
      (res) => {
        let text = "";
        res.on("data", (d) => {
          text += d;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on("error", reject);
    req.end(JSON.stringify(body));
  });
}

for (const signal of ["SIGTERM", "SIGINT"] as const)
  describe(`graceful shutdown on ${signal}`, () => {
    it("stops accepting, finishes the in-flight request, exits 0", {
      timeout: 60_000,
    }, async () => {
      const proc = spawn(process.execPath, ["--import", "tsx", child, "400"], {
        stdio: ["ignore", "pipe", "inherit"],
      });
      let out = "";
      const port = await new Promise<number>((resolve, reject) => {
        proc.stdout.on("data", (d) => {
          out += d;
          const m = out.match(/PORT (\d+)/);
          if (m) resolve(Number(m[1]));
        });
        proc.once("exit", (code) => reject(new Error(`server exited early (${code}): ${out}`)));
      });
      const exited = new Promise<number | null>((resolve) =>
        proc.once("exit", (code) => resolve(code)),
      );
      const inFlight = post(port, {
        history: [{ item: 1 }],
        candidates: [{ item: 2 }, { item: 3 }],
      });
      await new Promise((r) => setTimeout(r, 150));
      proc.kill(signal);
      await new Promise((r) => setTimeout(r, 100));
      await assert.rejects(
        post(port, { history: [{ item: 1 }], candidates: [{ item: 2 }] }),
        /ECONNREFUSED|ECONNRESET/,
      );
      const done = await inFlight;
      assert.equal(done.status, 200);
      assert.equal((JSON.parse(done.body) as { items: unknown[] }).items.length, 2);
      assert.equal(await exited, 0);
      assert.match(out, new RegExp(`SIGNAL ${signal}`));
      assert.match(out, /"path":"\/v1\/recommend","status":200/);
      assert.match(out, /CLOSED/);
    });
  });

describe("a signal during warm-up", () => {
  it("waits for the warm-up, then releases the model and exits 0 without a warm-up failure", {
    timeout: 60_000,
  }, async () => {
    const proc = spawn(process.execPath, ["--import", "tsx", child, "1500"], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    const exited = new Promise<number | null>((resolve) =>
      proc.once("exit", (code) => resolve(code)),
    );
    await new Promise<void>((resolve) => {
      proc.stdout.on("data", (d) => {
        out += d;
        if (/PORT \d+/.test(out)) resolve();
      });
    });
    proc.kill("SIGINT");
    assert.equal(await exited, 0, out);
    assert.match(out, /SIGNAL SIGINT/);
    assert.match(out, /CLOSED/);
    assert.doesNotMatch(out, /WARM-UP FAILED/);
  });
});
