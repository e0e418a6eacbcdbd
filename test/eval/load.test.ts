// loadRecommender's `weightsDtype` (what `eval` and `serve --weights-dtype` pass): a 16-bit
// checkpoint stays 16-bit by default and with "stored", is decoded with "float32", and both
// score the candidates alike (the cast to float32 is exact).

import assert from "node:assert/strict";
import { copyFile, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { loadExamples } from "../../src/data/index.js";
import { loadRecommender } from "../../src/eval/load.js";
import { Runtime } from "../../src/graph/index.js";
import { TOKENIZER_FILES } from "../../src/model/checkpoint.js";
import { loadLmConfig } from "../../src/model/config.js";
import { writeRandomCheckpoint } from "../../src/model/random-checkpoint.js";
import { buildTrainFixture, type TrainFixture } from "../train/fixture.js";

describe("loadRecommender --weights-dtype", () => {
  let dir = "";
  let fx: TrainFixture;
  let bf16 = "";
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "prefrec-eval-load-"));
    fx = await buildTrainFixture(dir);
    // The fixture's shape and tokenizer with random BF16 weights in two or more shards.
    bf16 = join(dir, "bf16");
    await writeRandomCheckpoint(bf16, await loadLmConfig(fx.model), { shardBytes: 2 ** 16 });
    for (const name of TOKENIZER_FILES)
      await copyFile(join(fx.model, name), join(bf16, name)).catch(() => undefined);
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("keeps 16-bit weights as stored by default, decodes them with float32, scores alike", async () => {
    const runtime = new Runtime({ threads: 1 });
    const held = async (weightsDtype?: "stored" | "float32") => {
      const loaded = await loadRecommender(bf16, { runtime, weightsDtype });
      const weights = [...loaded.lm!.weights.values()];
      return { loaded, stored: weights.filter((t) => t.stored).length, all: weights.length };
    };
    const byDefault = await held();
    assert.equal(byDefault.stored, byDefault.all);
    const stored = await held("stored");
    assert.equal(stored.stored, stored.all);
    const f32 = await held("float32");
    assert.equal(f32.stored, 0);
    const examples = (await loadExamples(fx.data, "test")).slice(0, 2);
    const a = await stored.loaded.recommender.scoreCandidates(examples);
    const b = await f32.loaded.recommender.scoreCandidates(examples);
    for (const [i, row] of a.entries())
      for (const [k, s] of row.entries())
        assert.ok(
          Math.abs(s - b[i][k]) <= 1e-4 * Math.max(1, Math.abs(b[i][k])),
          `${s} vs ${b[i][k]}`,
        );
  });
});
