// A profiled runtime (ONNX Runtime's profiler on) writes a JSON trace per session and computes the
// same outputs as an unprofiled one; the trace summary accounts for every node it reads.

import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { Graph, matmul, Runtime, softmax } from "../../src/graph/index.js";
import { summarizeTrace, type TraceEvent } from "../../tools/profile-summary.js";

function build() {
  const g = new Graph("profiled");
  const a = g.input("a", "float32", [3, 4]);
  const b = g.input("b", "float32", [4, 5]);
  return { g, outputs: { y: softmax(matmul(a, b), -1) } };
}

test("a profiled run writes a JSON trace and gives identical outputs", async () => {
  const dir = mkdtempSync(join(tmpdir(), "prefrec-profile-"));
  const plain = new Runtime({ threads: 1 });
  const profiled = new Runtime({ threads: 1, profilePrefix: join(dir, "trace") });
  try {
    const feeds = {
      a: Float32Array.from({ length: 12 }, (_, i) => Math.sin(i)),
      b: Float32Array.from({ length: 20 }, (_, i) => Math.cos(i)),
    };
    const p = build();
    const q = build();
    const expected = await (await plain.compile(p.g, p.outputs)).run(feeds);
    const compiled = await profiled.compile(q.g, q.outputs);
    assert.equal((await plain.compile(p.g, p.outputs)).timing, null);
    for (let i = 0; i < 3; i++) {
      const out = await compiled.run(feeds);
      assert.deepEqual(
        Array.from(out.y.data as Float32Array),
        Array.from(expected.y.data as Float32Array),
      );
    }
    assert.equal(compiled.timing?.runs, 3);
    assert.ok(compiled.timing!.sessionMs > 0);
    const path = compiled.endProfiling();
    assert.ok(existsSync(path) && path.startsWith(join(dir, "trace-1_")));
    const events = JSON.parse(readFileSync(path, "utf8")) as TraceEvent[];
    const nodes = events.filter((e) => e.cat === "Node" && e.name.endsWith("_kernel_time"));
    const ops = new Set(nodes.map((e) => e.args?.op_name));
    assert.ok(ops.has("MatMul") && ops.has("Softmax"), `ops in the trace: ${[...ops]}`);
    const s = summarizeTrace(events, { skipRuns: 1 });
    assert.equal(s.runs, 2);
    const total = s.categories.reduce((t, c) => t + c.us, 0);
    assert.equal(total, s.kernelUs);
    assert.equal(
      s.ops.find((o) => o.op === "MatMul")?.us,
      s.categories.find((c) => c.category === "gemm")?.us,
    );
  } finally {
    await plain.dispose();
    await profiled.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
});
