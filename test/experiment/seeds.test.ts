// Experiments with `seeds`: one ordinary experiment directory per seed, each equal to the
// single-seed run of that seed; mean ± std (and the last-prompt-per-user view) checked against
// a hand computation from the per-seed files; reuse, resume, refusals and the --seeds flag.

import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Command, CommanderError } from "@commander-js/extra-typings";
import { registerExperiment } from "../../src/cli/experiment.js";
import { loadExamples } from "../../src/data/index.js";
import type { EvalMetrics } from "../../src/eval/evaluate.js";
import { loadExperiment, parseExperiment } from "../../src/experiment/config.js";
import { runExperimentSeeds, type SeedsResult } from "../../src/experiment/seeds.js";
import { Runtime } from "../../src/graph/index.js";
import { writeReport } from "../../src/report/index.js";

const runtime = new Runtime({ threads: 1 });

const base = {
  name: "seeded",
  data: {
    synth: { users: 50, items: 40, seed: 2 },
    prepare: { candidates: 6, negatives: 2, maxTrain: 40, maxValid: 6, maxTest: 12 },
  },
  tokenizer: { vocab: 300 },
  model: { preset: "tiny" },
  training: { lora: null, batchSize: 4, lr: 0.001, evalExamples: 4, hiddenDropout: 0.1 },
  stages: [
    { name: "sft", objective: { type: "sft" }, maxSteps: 2 },
    { name: "pop", baseline: "pop" },
  ],
  evaluation: { protocols: ["constrained", "ranking"], maxExamples: 10, batchSize: 4 },
};
const seeded = (seeds: number[], extra: Record<string, unknown> = {}) =>
  parseExperiment({ ...base, seeds, ...extra });

const readJson = async (file: string) => JSON.parse(await readFile(file, "utf8"));
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
/** Sample standard deviation, written out. */
const sampleStd = (xs: number[]) => {
  const m = mean(xs);
  let sum = 0;
  for (const x of xs) sum += (x - m) * (x - m);
  return Math.sqrt(sum / (xs.length - 1));
};
const close = (a: number, b: number, what: string) =>
  assert.ok(Math.abs(a - b) < 1e-12, `${what}: ${a} vs ${b}`);

describe("experiment seeds", () => {
  const dirs: string[] = [];
  const tmp = async () => {
    const d = await mkdtemp(join(tmpdir(), "prefrec-seeds-"));
    dirs.push(d);
    return d;
  };
  let out: string;
  let first: SeedsResult;
  before(async () => {
    out = await tmp();
    first = (await runExperimentSeeds(seeded([0, 1, 2]), {
      out,
      quiet: true,
      runtime,
    })) as SeedsResult;
  });
  after(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it("each seed-<s> directory is the single-seed experiment of seed s", async () => {
    for (const s of [0, 1, 2]) assert.ok(existsSync(join(out, `seed-${s}`, "results.json")));
    const single = await tmp();
    const alone = await runExperimentSeeds(
      parseExperiment({ ...base, seed: 1, model: { preset: "tiny", seed: 1 } }),
      { out: single, quiet: true, runtime },
    );
    assert.ok(!("aggregate" in alone), "without seeds: an ordinary experiment");
    const a = await readJson(join(out, "seed-1", "results.json"));
    const b = await readJson(join(single, "results.json"));
    assert.deepEqual(a.config, b.config);
    assert.equal(a.config.seed, 1);
    assert.equal(a.config.model.seed, 1);
    assert.equal(a.config.seeds, undefined);
    assert.deepEqual(
      a.rows.map((r: { metrics: unknown }) => r.metrics),
      b.rows.map((r: { metrics: unknown }) => r.metrics),
    );
    assert.deepEqual(Object.keys(b).sort(), ["config", "name", "rows"]);
    // The seed matters: seeds 0 and 1 prepared different data (the test cap is seeded).
    const e0 = await loadExamples(join(out, "seed-0", "data", "prepared"), "test");
    const e1 = await loadExamples(join(out, "seed-1", "data", "prepared"), "test");
    assert.notDeepEqual(
      e0.map((e) => e.candidates.map((c) => c.item)),
      e1.map((e) => e.candidates.map((c) => c.item)),
    );
  });

  it("results.json: mean, sample std, n and per-seed values from the seeds' own files", async () => {
    const json = await readJson(join(out, "results.json"));
    assert.deepEqual(json.seeds, [0, 1, 2]);
    assert.equal(json.config.seed, undefined, "seed comes from seeds");
    assert.deepEqual(json.config.seeds, [0, 1, 2]);
    assert.deepEqual(
      json.rows.map((r: { seed: number; stage: string }) => `${r.seed}:${r.stage}`),
      ["0:sft", "0:pop", "1:sft", "1:pop", "2:sft", "2:pop"],
    );
    for (const stage of ["sft", "pop"]) {
      const method = json.methods.find((m: { stage: string }) => m.stage === stage);
      const files = await Promise.all(
        [0, 1, 2].map((s) => readJson(join(out, `seed-${s}`, "eval", stage, "metrics.json"))),
      );
      for (const [path, read] of [
        ["ranking.sum.hr.1", (m: EvalMetrics) => m.ranking!.sum.hr["1"]],
        ["ranking.sum.mrr", (m: EvalMetrics) => m.ranking!.sum.mrr],
        ["ranking.sum.ndcg.5", (m: EvalMetrics) => m.ranking!.sum.ndcg["5"]],
      ] as const) {
        const xs = files.map((f) => read(f.metrics) as number);
        const got = method.metrics[path];
        assert.deepEqual(got.values, xs, `${stage} ${path}`);
        assert.equal(got.n, 3);
        close(got.mean, mean(xs), `${stage} ${path} mean`);
        close(got.std, sampleStd(xs), `${stage} ${path} std`);
      }
      // Training seconds and throughput per seed, from each seed's run summary.
      const summaries = await Promise.all(
        [0, 1, 2].map((s) => readJson(join(out, `seed-${s}`, "stages", stage, "summary.json"))),
      );
      assert.deepEqual(
        method.train.seconds.values,
        summaries.map((x) => x.seconds),
      );
      assert.deepEqual(
        method.train.examplesPerSecond.values,
        summaries.map((x) => x.examplesPerSecond),
      );
    }
    // Paired margins: the final LM stage against the baseline, per seed, from the same files.
    const [margin] = json.margins;
    assert.equal(`${margin.method}-${margin.versus}:${margin.relation}`, "sft-pop:baseline");
    const perSeed = async (stage: string) =>
      Promise.all(
        [0, 1, 2].map(async (s) => {
          const f = await readJson(join(out, `seed-${s}`, "eval", stage, "metrics.json"));
          return (f.metrics as EvalMetrics).ranking!.sum.hr["1"];
        }),
      );
    const [lm, popHr] = [await perSeed("sft"), await perSeed("pop")];
    const diffs = lm.map((x, i) => x - popHr[i]);
    const hr1 = margin.metrics["ranking.sum.hr.1"];
    assert.deepEqual(hr1.diff.values, diffs);
    close(hr1.diff.mean, mean(diffs), "margin mean");
    close(hr1.diff.std, sampleStd(diffs), "margin std");
    assert.equal(hr1.ahead, diffs.filter((d) => d > 0).length);
    const pop = json.methods.find((m: { stage: string }) => m.stage === "pop");
    assert.deepEqual(pop.notApplicable, ["constrained"]);
    assert.equal(pop.metrics["constrained.hr1"], undefined);
    const sft = json.methods.find((m: { stage: string }) => m.stage === "sft");
    assert.equal(sft.metrics["constrained.hr1"].n, 3);
  });

  it("the last prompt of each test user, by hand from predictions.jsonl", async () => {
    const json = await readJson(join(out, "results.json"));
    for (const stage of ["sft", "pop"]) {
      const hr1: number[] = [];
      const mrr: number[] = [];
      const users: number[] = [];
      for (const s of [0, 1, 2]) {
        const dir = join(out, `seed-${s}`);
        const examples = (await loadExamples(join(dir, "data", "prepared"), "test")).slice(0, 10);
        // Each synthetic user's examples are consecutive prefixes: keep the last one per user.
        const last = new Map<string, string>();
        for (const e of examples) last.set(String(e.user), e.id);
        const lines = (await readFile(join(dir, "eval", stage, "predictions.jsonl"), "utf8"))
          .trim()
          .split("\n")
          .map((l) => JSON.parse(l));
        const ranks = lines
          .filter((p) => [...last.values()].includes(p.id))
          .map((p) => p.ranking.rankSum);
        assert.equal(ranks.length, last.size);
        users.push(last.size);
        hr1.push(ranks.filter((r) => r === 1).length / ranks.length);
        mrr.push(mean(ranks.map((r) => 1 / r)));
      }
      const view = json.methods.find((m: { stage: string }) => m.stage === stage).lastPerUser;
      assert.deepEqual(view.users, users);
      assert.ok(
        users.some((u) => u < 10),
        "some user has several test prompts",
      );
      assert.deepEqual(view.metrics["hr.1"].values, hr1);
      close(view.metrics.mrr.mean, mean(mrr), `${stage} per-user MRR`);
      close(view.metrics.mrr.std, sampleStd(mrr), `${stage} per-user MRR std`);
    }
  });

  it("results.md: a mean ± std table per protocol, n stated, n/a kept, what the seed varies", async () => {
    const md = await readFile(join(out, "results.md"), "utf8");
    assert.equal(md, first.markdown);
    assert.match(md, /n = 3 runs \(seeds 0, 1, 2\)/);
    assert.match(md, /## Constrained generation/);
    assert.match(md, /## Ranking over the candidates/);
    assert.match(md, /## Ranking, last prompt of each test user/);
    assert.match(md, /Every row has this view/);
    assert.doesNotMatch(md, /## Generation/, "generation was not asked for");
    assert.match(md, /\| pop \| 3 \| n\/a \| n\/a \|/);
    const json = await readJson(join(out, "results.json"));
    const hr = json.methods[0].metrics["ranking.sum.hr.1"];
    const cell = `${hr.mean.toFixed(4)} ± ${hr.std.toFixed(4)}`;
    assert.ok(md.includes(`| sft | 3 | ${cell} |`), `sft ranking row with ${cell}`);
    const margin = json.margins[0].metrics["ranking.sum.hr.1"];
    const sign = margin.diff.mean >= 0 ? "+" : "−";
    const marginCell = `${sign}${Math.abs(margin.diff.mean).toFixed(4)} ± ${margin.diff.std.toFixed(4)} (${margin.ahead}/3)`;
    assert.ok(
      md.includes(`| sft − pop | vs baseline | ${marginCell} |`),
      `margin row ${marginCell}`,
    );
    assert.match(md, /## What varies with the seed/);
    assert.match(md, /dropout masks/);
    assert.match(md, /seeds:\n {2}- 0\n {2}- 1\n {2}- 2/);
  });

  it("a rerun reuses every seed's steps and writes the same results", async () => {
    const json = await readFile(join(out, "results.json"), "utf8");
    const t0 = performance.now();
    await runExperimentSeeds(seeded([0, 1, 2]), { out, quiet: true, runtime });
    assert.ok(performance.now() - t0 < 8000, "nothing is recomputed");
    assert.equal(await readFile(join(out, "results.json"), "utf8"), json);
  });

  it("an interrupted multi-seed run resumes to the same results", async () => {
    const resumedDir = await tmp();
    const controller = new AbortController();
    controller.abort(); // seed 0's first stage stops after one training step
    await assert.rejects(
      runExperimentSeeds(seeded([0, 1]), {
        out: resumedDir,
        quiet: true,
        runtime,
        signal: controller.signal,
      }),
      /interrupted/,
    );
    assert.ok(!existsSync(join(resumedDir, "seed-1")), "the next seed did not start");
    const resumed = (await runExperimentSeeds(seeded([0, 1]), {
      out: resumedDir,
      quiet: true,
      runtime,
    })) as SeedsResult;
    assert.deepEqual(
      resumed.rows.map((r) => [r.seed, r.stage, r.metrics]),
      first.rows.filter((r) => r.seed < 2).map((r) => [r.seed, r.stage, r.metrics]),
    );
  });

  it("prefrec report on the multi-seed directory: bars over seeds, each seed's loss", async () => {
    const files = await writeReport(out);
    const md = await readFile(files.markdown, "utf8");
    assert.match(md, /\| sft \| 3 \| /);
    assert.match(md, /## Stage sft: training/);
    assert.match(md, /seed-0/);
    assert.ok(files.pngs.some((p) => p.endsWith("stage-sft-loss.png")));
  });

  it("refuses seeds with a seed anywhere else, and bad seed lists", () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ seed: 0 }, /: seed cannot be given with seeds/],
      [{ model: { preset: "tiny", seed: 1 } }, /: model\.seed cannot be given with seeds/],
      [{ training: { ...base.training, seed: 3 } }, /: training\.seed cannot be given with seeds/],
      [
        { stages: [{ name: "pop", baseline: "pop", seed: 2 }] },
        /stage "pop": seed cannot be given with seeds/,
      ],
    ];
    for (const [extra, message] of cases) assert.throws(() => seeded([0, 1], extra), message);
    for (const [seeds, message] of [
      [[], /seeds: expected at least one seed/],
      [[0, 0], /seeds: each seed once/],
      [[-1], /seeds\[0\]: expected a whole number ≥ 0/],
      [[0, 1.5], /seeds\[1\]: expected a whole number ≥ 0/],
      ["0,1", /seeds: expected a list of seeds/],
    ] as [unknown, RegExp][])
      assert.throws(() => parseExperiment({ ...base, seeds }), message);
  });

  it("--seeds replaces the file's seeding; bad values are one line naming the flag", async () => {
    const file = join(await tmp(), "exp.json");
    await writeFile(file, JSON.stringify({ ...base, seed: 4, model: { preset: "tiny", seed: 4 } }));
    const config = await loadExperiment(file, ".", [2, 0]);
    assert.deepEqual(config.seeds, [2, 0]);
    await writeFile(file, JSON.stringify({ ...base, seeds: [0], seed: 4 }));
    await assert.rejects(loadExperiment(file, "."), /exp\.json: seed cannot be given with seeds/);
    for (const value of ["0,a", "", "1,1", "-1", "1.5", "0,,1", "0, 1e3"]) {
      const program = new Command()
        .exitOverride()
        .configureOutput({ writeErr: () => {}, writeOut: () => {} });
      registerExperiment(program);
      const message = await program
        .parseAsync(["node", "prefrec", "experiment", file, "--seeds", value])
        .then(
          () => assert.fail(`--seeds ${value} was accepted`),
          (error: unknown) => {
            assert.ok(error instanceof CommanderError, String(error));
            return error.message;
          },
        );
      assert.match(message, /--seeds/);
      assert.match(message, value === "1,1" ? /each seed once/ : /whole numbers ≥ 0/);
      assert.equal(message.split("\n").length, 1, message);
    }
  });
});
