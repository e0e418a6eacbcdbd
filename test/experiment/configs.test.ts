// The shipped experiment configs parse, and each compares the LM stages with Pop and SASRec.

import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { isBaselineStage, loadExperiment } from "../../src/experiment/config.js";

const root = fileURLToPath(new URL("../..", import.meta.url));

describe("shipped experiment configs", () => {
  for (const file of ["demo.yaml", "lastfm-sdpo.yaml", "movielens-100k.yaml"]) {
    it(`${file} parses and includes Pop and SASRec beside LM stages`, async () => {
      const config = await loadExperiment(join(root, "configs", file), "/data");
      const baselines = config.stages.filter(isBaselineStage).map((s) => s.baseline);
      assert.deepEqual(baselines.sort(), ["pop", "sasrec"]);
      assert.ok(config.stages.some((s) => s.objective?.type === "sft"));
    });
  }

  for (const file of ["lastfm-items.yaml", "movielens-items.yaml"]) {
    it(`${file} runs seeds 0, 1, 2 (one with --seeds 0)`, async () => {
      const path = join(root, "configs", file);
      assert.deepEqual((await loadExperiment(path, "/data")).seeds, [0, 1, 2]);
      assert.deepEqual((await loadExperiment(path, "/data", [0])).seeds, [0]);
    });
  }
});
