// The evaluator on a tiny model: every protocol on the same examples, consistent with direct
// scoring and generation, and reports written.

import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { loadExamples } from "../../src/data/index.js";
import { evaluate } from "../../src/eval/evaluate.js";
import { rankOf } from "../../src/eval/ranking.js";
import { writeEvalReport } from "../../src/eval/report.js";
import { Runtime } from "../../src/graph/index.js";
import { LanguageModel } from "../../src/model/lm.js";
import { LmRecommender } from "../../src/model/lm-recommender.js";
import { tokenizeExample } from "../../src/model/tokenizer/tokenize.js";
import { LmTokenizer } from "../../src/model/tokenizer/tokenizer.js";
import { buildTrainFixture, type TrainFixture } from "../train/fixture.js";

describe("evaluate", () => {
  let dir = "";
  let fx: TrainFixture;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "prefrec-eval-"));
    fx = await buildTrainFixture(dir);
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("runs every protocol consistently and writes the reports", async () => {
    const runtime = new Runtime({ threads: 1 });
    const lm = await LanguageModel.load(fx.model, { runtime });
    const tokenizer = await LmTokenizer.load(fx.model);
    const examples = (await loadExamples(fx.data, "test")).slice(0, 10);
    const { metrics, predictions } = await evaluate(new LmRecommender(lm, tokenizer), examples, {
      batchSize: 4,
      maxNewTokens: 6,
    });
    assert.equal(metrics.examples, 10);
    assert.equal(predictions.length, 10);
    // Constrained decoding always names one candidate.
    assert.equal(metrics.constrained!.validRatio, 1);
    for (const [i, p] of predictions.entries()) {
      assert.ok(examples[i].candidates.some((c) => c.title === p.constrained!.answer));
      assert.equal(p.constrained!.hit, p.constrained!.candidate === examples[i].target.index);
      // The S-DPO verdict agrees with its definition on the recorded answer.
      const found = examples[i].candidates.filter((c) => p.generation!.answer.includes(c.title));
      assert.equal(p.generation!.sdpo.valid, found.length === 1);
    }
    // Ranking equals scoring the candidates directly.
    const t = examples.map((e) => tokenizeExample(tokenizer, e));
    const direct = await lm.score(
      t.map((e) => e.prompt),
      t.map((e) => e.candidates),
    );
    for (const [i, p] of predictions.entries()) {
      assert.equal(p.ranking!.rankSum, rankOf(direct.logpSum[i], t[i].targetIndex));
    }
    const hr1 = predictions.filter((p) => p.ranking!.rankSum === 1).length / 10;
    assert.equal(metrics.ranking!.sum.hr["1"], hr1);
    // Greedy constrained decoding picks the first token greedily, so its hit rate need not equal
    // ranking's, but both are proper shares.
    assert.ok(metrics.constrained!.hr1 >= 0 && metrics.constrained!.hr1 <= 1);

    const out = join(dir, "report");
    const md = await writeEvalReport(
      out,
      {
        name: "tiny",
        model: { dir: fx.model, adapter: null },
        data: fx.data,
        split: "test",
        maxNewTokens: 6,
        metrics,
      },
      predictions,
    );
    assert.match(md, /\| tiny \| /);
    assert.match(md, /ValidRatio = share of answers containing exactly one candidate title/);
    const lines = (await readFile(join(out, "predictions.jsonl"), "utf8")).trim().split("\n");
    assert.equal(lines.length, 10);
    assert.ok(existsSync(join(out, "metrics.json")));
  });
});
