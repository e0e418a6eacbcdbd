// Behaviour of the baselines: training sequences from the train split only (no leak), Pop on a
// hand-made log, SASRec's causal mask, exact resume, and a run directory evaluators can load.

import assert from "node:assert/strict";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { parseBaselineConfig } from "../../src/baselines/config.js";
import { historyFeeds } from "../../src/baselines/feeds.js";
import { isBaselineRun, loadBaselineRun } from "../../src/baselines/load.js";
import { initParams, paramFeeds } from "../../src/baselines/params.js";
import { modelShapes, scoreProgram } from "../../src/baselines/programs.js";
import { trainingSequences } from "../../src/baselines/sequences.js";
import { Runtime } from "../../src/graph/index.js";
import { readSafetensorsF32 } from "../../src/io/safetensors.js";
import { type BaselineData, trainBaseline } from "../../src/train/baselines.js";
import { example, prefixExamples } from "./helpers.js";

const root = await mkdtemp(join(tmpdir(), "prefrec-baselines-"));
after(() => rm(root, { recursive: true, force: true }));
const runtime = new Runtime({ threads: 1 });
const tiny = { data: "unused", hidden: 8, blocks: 1, heads: 1, batchSize: 4, threads: 1 };

test("training sequences: prefix rows are joined back into one sequence per user, capped histories included", () => {
  const train = prefixExamples(
    "train",
    [
      [1, 2, 3, 4, 5, 6],
      [7, 8, 9],
    ],
    () => [0],
    1,
    3,
  );
  // Without user ids (S-DPO's files) the rows still join up by their histories.
  const anonymous = train.map((e) => ({ ...e, user: "" }));
  for (const rows of [train, anonymous]) {
    assert.deepEqual(trainingSequences(rows), [
      [1, 2, 3, 4, 5, 6],
      [7, 8, 9],
    ]);
  }
  assert.throws(
    () => trainingSequences([{ ...train[0], split: "valid" }]),
    /not a training example/,
  );
});

test("Pop ranks candidates by training-set counts, and ties count against the target", async () => {
  // Training sequences a: 1 2 1 and b: 3 1, so counts 1 ×3, 2 ×1, 3 ×1, 4 ×0 (valid/test only).
  const train = [
    example("train", 0, "a", [1], 2, [0]),
    example("train", 1, "a", [1, 2], 1, [0]),
    example("train", 2, "b", [3], 1, [0]),
  ];
  const valid = [example("valid", 0, "c", [3], 4, [1, 2, 3])];
  const out = join(root, "pop");
  const config = parseBaselineConfig({ ...tiny, kind: "pop" });
  await trainBaseline(config, { out, data: { train, valid, numItems: 5 }, quiet: true, runtime });
  const pop = await loadBaselineRun(out, { runtime });
  const e = example("test", 0, "d", [4], 3, [1, 2, 4, 0]);
  assert.deepEqual(await pop.scoreCandidates([e]), [[1, 3, 1, 0, 0]]);
  assert.deepEqual([...(await pop.scoreAll([e]))[0]], [0, 3, 1, 1, 0]);
  assert.equal(pop.describe().kind, "pop");
  assert.ok(await isBaselineRun(out));
  assert.equal(JSON.parse(await readFile(join(out, "config.json"), "utf8")).kind, "pop");
});

test("SASRec's causal mask: a later item never changes an earlier position's output", async () => {
  const c = parseBaselineConfig({ ...tiny, kind: "sasrec", blocks: 2, dropout: 0 });
  const sizes = { numItems: 9, inputLen: 5 };
  const shapes = modelShapes(c, sizes);
  const params = initParams(shapes, 3);
  const program = scoreProgram(c, sizes);
  const compiled = await runtime.compile(program.graph, program.outputs);
  const scoresAfter = async (history: number[]) => {
    const out = await compiled.run({
      ...paramFeeds(shapes, params),
      ...historyFeeds([history], 5, 9, true),
    });
    return [...(out.scores.data as Float32Array)];
  };
  // Scoring after 3 items reads position 2; the items at positions 3 and 4 are padding then.
  const base = await scoresAfter([1, 2, 3]);
  // Same prefix, different future items placed in the input (pick still at position 2).
  const feeds = historyFeeds([[1, 2, 3, 7, 8]], 5, 9, true);
  const pick = new Float32Array(5);
  pick[2] = 1;
  const out = await compiled.run({
    ...paramFeeds(shapes, params),
    ...feeds,
    pick: { data: pick, shape: [1, 5] },
  });
  assert.deepEqual([...(out.scores.data as Float32Array)], base);
  // And the last position does see them.
  assert.notDeepEqual(await scoresAfter([1, 2, 3, 7, 8]), base);
});

/** Sequences over items 0…10 (item 11 is never trained on): users follow 0→1→2→… cycles. */
function world(): BaselineData {
  const seqs = (n: number, offset: number) =>
    Array.from({ length: n }, (_, u) =>
      Array.from({ length: 8 }, (_, t) => (u * 5 + offset + t) % 11),
    );
  const others = (u: number, t: number) => [(u + t + 3) % 11, (u + 2 * t + 7) % 11];
  return {
    train: prefixExamples("train", seqs(6, 0), others),
    valid: prefixExamples("valid", seqs(2, 1), others),
    numItems: 12,
  };
}

test("no leak: valid and test examples never reach the training sequences or the weights", async () => {
  const data = world();
  // A crafted split: item 11 appears only in valid/test; the trained weights must not depend
  // on those examples at all (validation only chooses the best checkpoint).
  const leaky: BaselineData = {
    ...data,
    valid: [example("valid", 0, "v", [11, 11, 11], 11, [0, 1]), ...data.valid.slice(0, 3)],
  };
  const c = parseBaselineConfig({ ...tiny, kind: "sasrec", epochs: 2, patience: 0 });
  await trainBaseline(c, { out: join(root, "leak-a"), data, quiet: true, runtime });
  await trainBaseline(c, { out: join(root, "leak-b"), data: leaky, quiet: true, runtime });
  const a = await readSafetensorsF32(
    join(root, "leak-a", "checkpoints", "last", "model.safetensors"),
  );
  const b = await readSafetensorsF32(
    join(root, "leak-b", "checkpoints", "last", "model.safetensors"),
  );
  for (const [name, t] of a) assert.deepEqual(b.get(name)!.data, t.data, name);
  assert.ok(!trainingSequences(data.train).flat().includes(11));
  const pop = parseBaselineConfig({ ...tiny, kind: "pop" });
  await trainBaseline(pop, { out: join(root, "leak-pop"), data: leaky, quiet: true, runtime });
  const counts = await readSafetensorsF32(
    join(root, "leak-pop", "checkpoints", "last", "model.safetensors"),
  );
  assert.equal(counts.get("counts")!.data[11], 0);
});

for (const kind of ["sasrec", "gru4rec", "caser"] as const) {
  test(`${kind}: an interrupted run resumed with --resume ends exactly like an uninterrupted one`, async () => {
    const data = world();
    const c = parseBaselineConfig({
      ...tiny,
      kind,
      epochs: 3,
      patience: 0,
      dropout: 0.2,
      loss: "bce",
      window: 3,
    });
    const straight = join(root, `${kind}-straight`);
    const resumed = join(root, `${kind}-resumed`);
    await trainBaseline(c, { out: straight, data, quiet: true, runtime });
    const first = await trainBaseline(c, {
      out: resumed,
      data,
      quiet: true,
      runtime,
      stopAfter: 5,
    });
    assert.equal(first.interrupted, true);
    await trainBaseline(c, { out: resumed, data, quiet: true, runtime, resume: true });
    for (const which of ["last", "best"]) {
      const a = await readSafetensorsF32(join(straight, "checkpoints", which, "model.safetensors"));
      const b = await readSafetensorsF32(join(resumed, "checkpoints", which, "model.safetensors"));
      for (const [name, t] of a) assert.deepEqual(b.get(name)!.data, t.data, `${which} ${name}`);
    }
    const lines = (await readFile(join(resumed, "metrics.jsonl"), "utf8")).trim().split("\n");
    const straightLines = (await readFile(join(straight, "metrics.jsonl"), "utf8"))
      .trim()
      .split("\n");
    const strip = (l: string) => {
      const { train_seconds, epoch_seconds, targets_per_s, ...rest } = JSON.parse(l);
      return rest;
    };
    assert.deepEqual(lines.map(strip), straightLines.map(strip));
  });
}

test("bad input: a non-empty --out, a missing run, a broken config.json and a bad option are one-line errors", async () => {
  const c = parseBaselineConfig({ ...tiny, kind: "pop" });
  await mkdir(join(root, "occupied"), { recursive: true });
  await writeFile(join(root, "occupied", "notes.txt"), "mine");
  await assert.rejects(
    trainBaseline(c, { out: join(root, "occupied"), data: world(), quiet: true, runtime }),
    /already exists and is not empty/,
  );
  await assert.rejects(loadBaselineRun(join(root, "nothing-here")), /not a run directory/);
  await mkdir(join(root, "broken"), { recursive: true });
  await writeFile(join(root, "broken", "config.json"), "{");
  await assert.rejects(loadBaselineRun(join(root, "broken")), /config\.json: invalid JSON/);
  assert.throws(
    () => parseBaselineConfig({ kind: "sasrec", data: "d", hidden: -1 }),
    /field hidden/,
  );
});

test("the evaluator's loader dispatches a baseline run to loadBaselineRun", async () => {
  const { loadRecommender } = await import("../../src/eval/load.js");
  const out = join(root, "dispatch-pop");
  const data = world();
  await trainBaseline(parseBaselineConfig({ ...tiny, kind: "pop" }), {
    out,
    data,
    quiet: true,
    runtime,
  });
  const { recommender } = await loadRecommender(out, { runtime });
  assert.equal(recommender.describe().kind, "pop");
  const e = example("test", 0, "d", [1], 2, [11, 3]);
  const all = (await recommender.scoreAll!([e]))[0];
  assert.deepEqual(await recommender.scoreCandidates([e]), [[all[2], all[11], all[3]]]);
  assert.equal(all[11], 0);
});
