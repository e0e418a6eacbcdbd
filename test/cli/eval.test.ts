// `prefrec eval` and `prefrec model score|generate` through the real executable: one answer
// format everywhere (model score = the ranking protocol's score, generate --candidates-file =
// eval's constrained choice), and the bad-input errors of eval (report folder checked before
// evaluating, no silent overwrite, no silent checkpoint fallback, non-runs named).

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { loadExamples } from "../../src/data/index.js";
import { evaluate } from "../../src/eval/evaluate.js";
import { Runtime } from "../../src/graph/index.js";
import { LanguageModel } from "../../src/model/lm.js";
import { LmRecommender } from "../../src/model/lm-recommender.js";
import { LmTokenizer } from "../../src/model/tokenizer/tokenizer.js";
import { parseTrainConfig } from "../../src/train/config.js";
import { train } from "../../src/train/trainer.js";
import { buildTrainFixture, type TrainFixture } from "../train/fixture.js";

const run = promisify(execFile);
const bin = join(import.meta.dirname, "..", "..", "bin", "prefrec.js");
const prefrec = async (...args: string[]) => (await run(process.execPath, [bin, ...args])).stdout;
/** Runs prefrec expecting failure; returns stderr and the exit code. */
const fails = async (...args: string[]) => {
  try {
    await run(process.execPath, [bin, ...args]);
  } catch (error) {
    const e = error as { stderr: string; code: number };
    return { stderr: e.stderr, code: e.code };
  }
  throw new Error(`prefrec ${args.join(" ")} succeeded`);
};

describe("prefrec eval and the answer format", () => {
  let dir = "";
  let fx: TrainFixture;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "prefrec-cli-eval-"));
    fx = await buildTrainFixture(dir);
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("model score equals the ranking protocol's score; generate --candidates-file equals eval's constrained choice", async () => {
    const examples = (await loadExamples(fx.data, "test")).slice(0, 3);
    const model = new LmRecommender(
      await LanguageModel.load(fx.model, { runtime: new Runtime({ threads: 1 }) }),
      await LmTokenizer.load(fx.model),
    );
    const ranked = await model.scoreCandidates(examples);
    const { predictions } = await evaluate(model, examples, {
      protocols: ["constrained"],
      batchSize: 2,
    });
    for (const [i, e] of examples.entries()) {
      const titles = e.candidates.map((c) => c.title);
      const scored = JSON.parse(
        await prefrec(
          "model",
          "score",
          fx.model,
          "--prompt",
          e.prompt,
          "--completion",
          ...titles,
          "--json",
        ),
      ) as { completions: { text: string; logp: number }[] };
      scored.completions.forEach((c, k) => {
        assert.equal(c.text, titles[k]);
        assert.ok(Math.abs(c.logp - ranked[i][k]) < 1e-4, `${c.logp} vs ${ranked[i][k]}`);
      });
      const file = join(dir, `cands-${i}.txt`);
      await writeFile(file, `${titles.join("\n")}\n`);
      const generated = JSON.parse(
        await prefrec(
          "model",
          "generate",
          fx.model,
          "--prompt",
          e.prompt,
          "--candidates-file",
          file,
          "--json",
        ),
      );
      assert.equal(generated.candidate, predictions[i].constrained!.answer);
      assert.equal(generated.text, generated.candidate);
    }
  });

  it("eval: report folder checked first, no overwrite without --force, no silent checkpoint fallback", async () => {
    // A run without validation has a last checkpoint and no best one.
    const runDir = join(dir, "run");
    await train(
      parseTrainConfig({
        data: fx.data,
        model: fx.model,
        objective: { type: "sft" },
        lora: null,
        maxSteps: 1,
        batchSize: 4,
        evalExamples: 0,
      }),
      runDir,
      { quiet: true, runtime: new Runtime({ threads: 1 }) },
    );
    const common = ["--data", fx.data, "--protocols", "ranking", "--max-examples", "2", "--quiet"];
    const best = await fails("eval", runDir, ...common, "--checkpoint", "best");
    assert.match(best.stderr, /no best checkpoint \(no validation ran\); it has: last/);
    assert.equal(best.code, 2);
    // Default: best, else last — and the report lands in RUN/eval-test.
    await prefrec("eval", runDir, ...common);
    assert.ok(existsSync(join(runDir, "eval-test", "metrics.json")));
    // memory.json next to the report: the estimate made before loading and the measured peak.
    const memoryOf = async () =>
      JSON.parse(await readFile(join(runDir, "eval-test", "memory.json"), "utf8"));
    const memory = await memoryOf();
    assert.equal(memory.weightsDtype, "stored");
    assert.ok(memory.measuredPeakRssGib > 0);
    assert.ok(memory.estimated.total_gib >= memory.estimated.weights_gib);
    const again = await fails("eval", runDir, ...common);
    assert.match(again.stderr, /eval-test already holds files; pass --force/);
    await prefrec("eval", runDir, ...common, "--force", "--weights-dtype", "float32");
    assert.equal((await memoryOf()).weightsDtype, "float32");
    // An output folder that cannot be created fails before any evaluation.
    const blocker = join(dir, "a-file");
    await writeFile(blocker, "x");
    const blocked = await fails("eval", runDir, ...common, "--out", join(blocker, "report"));
    assert.match(
      blocked.stderr,
      /a-file\/report: cannot create it \(.*a-file is not a directory\)/,
    );
    assert.doesNotMatch(blocked.stderr, /\n\s+at /);
    // Counts of 0 are rejected (they used to loop forever).
    const zero = await fails("eval", runDir, ...common, "--batch-size", "0");
    assert.match(zero.stderr, /--batch-size/);
  });

  it("eval names what a directory is not", async () => {
    const empty = join(dir, "empty");
    await mkdir(empty);
    const none = await fails("eval", empty, "--data", fx.data);
    assert.match(
      none.stderr,
      /empty is not a prefrec run or model directory: no config\.json \/ checkpoint found/,
    );
    // A failed run that left only its config.json says so, instead of "unsupported model type".
    const failed = join(dir, "failed");
    await mkdir(failed);
    await writeFile(
      join(failed, "config.json"),
      await readFile(join(dir, "run", "config.json"), "utf8"),
    );
    const noCheckpoint = await fails("eval", failed, "--data", fx.data);
    assert.match(noCheckpoint.stderr, /failed: no checkpoint .* the run failed or never saved one/);
    const missing = await fails("eval", join(dir, "nope"), "--data", fx.data);
    assert.match(missing.stderr, /nope does not exist/);
  });
});
