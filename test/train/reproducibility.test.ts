// The reproducibility claim each run's summary makes: with the CPU provider and one intra-op
// thread, two runs of the same config are byte-identical (weights, optimizer state, metrics);
// with more threads the summary says bit-identity is not guaranteed and how to get it.
import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { after, before, describe, it } from "node:test";
import { Runtime } from "../../src/graph/index.js";
import { parseTrainConfig } from "../../src/train/config.js";
import { train } from "../../src/train/trainer.js";
import { buildTrainFixture, type TrainFixture } from "./fixture.js";

/** Every file under `dir` (relative path → bytes). */
async function contents(dir: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const full = join(d, e.name);
      if (e.isDirectory()) await walk(full);
      else out.set(relative(dir, full), await readFile(full));
    }
  };
  await walk(dir);
  return out;
}

describe("reproducibility", () => {
  let dir = "";
  let fx: TrainFixture;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "prefrec-repro-"));
    fx = await buildTrainFixture(dir, { users: 40, maxTrain: 16 });
  });
  after(() => rm(dir, { recursive: true, force: true }));

  const config = () =>
    parseTrainConfig({
      data: fx.data,
      model: fx.model,
      objective: { type: "sft" },
      lora: { r: 4, alpha: 8, dropout: 0.1 },
      batchSize: 4,
      lr: 1e-3,
      maxSteps: 6,
      evalExamples: 4,
      evalEvery: 3,
    });

  it("two runs with --threads 1 are byte-identical, and their summaries say so", async () => {
    const runs = ["a", "b"].map((r) => join(dir, r));
    const summaries = [];
    for (const run of runs)
      summaries.push(
        await train(config(), run, { quiet: true, runtime: new Runtime({ threads: 1 }) }),
      );
    const [a, b] = await Promise.all(runs.map(contents));
    const checkpoints = [...a.keys()].filter((k) => k.endsWith(".safetensors"));
    assert.ok(checkpoints.length >= 2, [...a.keys()].join());
    const withoutClock = (bytes: Buffer | undefined) => {
      const { elapsed: _, ...rest } = JSON.parse(String(bytes));
      return rest;
    };
    for (const [name, bytes] of a) {
      if (name === "summary.json" || name === "metrics.jsonl") continue; // hold wall-clock times
      if (name.endsWith("state.json"))
        assert.deepEqual(withoutClock(b.get(name)), withoutClock(bytes), name);
      else assert.ok(b.get(name)?.equals(bytes), `${name} differs between identical runs`);
    }
    const losses = (m: Buffer | undefined) =>
      String(m)
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l))
        .map(({ loss, split, step }) => ({ loss, split, step }));
    assert.deepEqual(losses(a.get("metrics.jsonl")), losses(b.get("metrics.jsonl")));
    for (const s of summaries) {
      assert.equal(s.reproducibility.bitIdentical, true);
      assert.match(s.reproducibility.note, /^bit-identical/);
    }
  });

  it("with 2 threads the summary names the settings that are bit-identical", async () => {
    const s = await train(config(), join(dir, "two"), {
      quiet: true,
      runtime: new Runtime({ threads: 2 }),
    });
    assert.equal(s.reproducibility.bitIdentical, false);
    assert.match(
      s.reproducibility.note,
      /not guaranteed bit-identical with 2 intra-op threads: use --provider cpu --threads 1/,
    );
    const written = JSON.parse(await readFile(join(dir, "two", "summary.json"), "utf8"));
    assert.deepEqual(written.reproducibility, s.reproducibility);
  });
});
