// Logits of tiny checkpoints against an independent PyTorch implementation of transformers'
// LLaMA / Qwen2 (fixtures written by tools/reference_logits.py), loaded like any HF directory.

import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { loadCheckpoint } from "../../src/model/checkpoint.js";
import { forwardProgram } from "../../src/model/graph/programs.js";
import { testRuntime } from "./tiny.js";

const fixtures = join(import.meta.dirname, "..", "fixtures");

describe("logits match the PyTorch reference", () => {
  for (const name of ["tiny-llama", "tiny-qwen2"]) {
    it(`${name} (left-padded and full rows)`, async () => {
      const dir = join(fixtures, name);
      const { config, weights } = await loadCheckpoint(dir);
      const expected = JSON.parse(await readFile(join(dir, "expected.json"), "utf8")) as {
        ids: number[][];
        mask: number[][];
        logits: number[][][];
      };
      const B = expected.ids.length;
      const T = expected.ids[0].length;
      const positions = expected.mask.map((row) => {
        let seen = 0;
        return row.map((m) => (m ? seen++ : 0));
      });
      const program = forwardProgram(config, weights);
      const compiled = await testRuntime.compile(program.graph, { logits: program.outputs.logits });
      const out = await compiled.run({
        ids: { data: BigInt64Array.from(expected.ids.flat().map(BigInt)), shape: [B, T] },
        positions: { data: BigInt64Array.from(positions.flat().map(BigInt)), shape: [B, T] },
        mask: { data: Float32Array.from(expected.mask.flat()), shape: [B, T] },
      });
      const V = config.vocabSize;
      assert.deepEqual(out.logits.shape, [B, T, V]);
      const logits = out.logits.data as Float32Array;
      let compared = 0;
      for (let b = 0; b < B; b++) {
        for (let t = 0; t < T; t++) {
          if (!expected.mask[b][t]) continue;
          for (let v = 0; v < V; v++) {
            const got = logits[(b * T + t) * V + v];
            const want = expected.logits[b][t][v];
            assert.ok(Math.abs(got - want) < 1e-4, `[${b}, ${t}, ${v}]: ${got} vs ${want}`);
            compared++;
          }
        }
      }
      assert.equal(compared, 10 * V);
    });
  }
});
