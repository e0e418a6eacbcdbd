// The evaluator over the Recommender contract: the LM wrapper (summed and per-token scores equal
// direct scoring), a model that is no language model (ranking from its own scores, generation
// "n/a"), the full-catalog protocol against a hand computation, and bad batch sizes.

import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Example } from "../../src/data/index.js";
import { loadExamples } from "../../src/data/index.js";
import { catalogRank } from "../../src/eval/catalog.js";
import { evaluate, metricsMarkdown } from "../../src/eval/evaluate.js";
import { loadRecommender, targetKind } from "../../src/eval/load.js";
import { rankOf } from "../../src/eval/ranking.js";
import { Runtime } from "../../src/graph/index.js";
import type { LmRecommender } from "../../src/model/lm-recommender.js";
import { tokenizeExample } from "../../src/model/tokenizer/tokenize.js";
import type { Recommender } from "../../src/recommender.js";
import { buildTrainFixture, type TrainFixture } from "../train/fixture.js";

/** A deterministic ID model: scores from a hash of (example, item); scores the whole catalog. */
class HashRecommender implements Recommender {
  constructor(readonly items: number) {}
  score(e: Example, item: number): number {
    let h = (item * 2654435761) ^ (Number(e.id.split("-")[1]) * 40503);
    h = Math.imul(h ^ (h >>> 13), 0x5bd1e995);
    return ((h ^ (h >>> 15)) >>> 0) % 7; // few distinct values: ties happen
  }
  describe() {
    return {
      kind: "hash",
      name: "hash",
      items: "none" as const,
      fullCatalog: true,
      generates: false,
    };
  }
  async scoreCandidates(examples: readonly Example[]) {
    return examples.map((e) => e.candidates.map((c) => this.score(e, c.item)));
  }
  async scoreAll(examples: readonly Example[]) {
    return examples.map((e) =>
      Float32Array.from({ length: this.items }, (_, i) => this.score(e, i)),
    );
  }
}

describe("evaluator over the Recommender contract", () => {
  let dir = "";
  let fx: TrainFixture;
  let examples: Example[] = [];
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "prefrec-rec-"));
    fx = await buildTrainFixture(dir);
    examples = (await loadExamples(fx.data, "test")).slice(0, 8);
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("the LM recommender scores candidates by summed and per-token answer log-probs", async () => {
    const loaded = await loadRecommender(fx.model, { runtime: new Runtime({ threads: 1 }) });
    const rec = loaded.recommender as LmRecommender;
    assert.deepEqual(
      { ...rec.describe(), details: undefined },
      {
        kind: "lm",
        name: fx.model,
        items: "title",
        fullCatalog: false,
        generates: true,
        details: undefined,
      },
    );
    const sum = await rec.scoreCandidates(examples, { batchSize: 3 });
    const mean = await rec.scoreCandidates(examples, { variant: "mean", batchSize: 5 });
    const t = examples.map((e) => tokenizeExample(loaded.tokenizer!, e));
    const direct = await loaded.lm!.score(
      t.map((e) => e.prompt),
      t.map((e) => e.candidates),
    );
    for (let i = 0; i < examples.length; i++) {
      for (let k = 0; k < examples[i].candidates.length; k++) {
        assert.ok(Math.abs(sum[i][k] - direct.logpSum[i][k]) < 1e-4);
        const perToken = direct.logpSum[i][k] / direct.tokenCount[i][k];
        assert.ok(Math.abs(mean[i][k] - perToken) < 1e-4);
      }
    }
    await assert.rejects(
      rec.scoreCandidates(examples, { batchSize: 0 }),
      /batch size must be a positive integer, got 0/,
    );
    await assert.rejects(
      evaluate(rec, examples, { batchSize: 0 }),
      /batch size must be a positive integer/,
    );
  });

  it("a model that does not generate: ranking from its scores, generation n/a, catalog ranks by hand", async () => {
    const items =
      1 + Math.max(...examples.flatMap((e) => [...e.candidates, ...e.history].map((c) => c.item)));
    const model = new HashRecommender(items);
    const progress: string[] = [];
    const { metrics, predictions } = await evaluate(model, examples, {
      batchSize: 3,
      onProgress: (p, done) => progress.push(`${p}:${done}`),
    });
    assert.deepEqual(metrics.notApplicable, ["generation", "constrained"]);
    assert.equal(metrics.generation, undefined);
    assert.equal(metrics.ranking!.mean, undefined);
    assert.deepEqual(progress, [
      "ranking:3",
      "ranking:6",
      "ranking:8",
      "catalog:3",
      "catalog:6",
      "catalog:8",
    ]);
    for (const [i, e] of examples.entries()) {
      const scores = e.candidates.map((c) => model.score(e, c.item));
      assert.equal(predictions[i].ranking!.rankSum, rankOf(scores, e.target.index));
      // Catalog rank by hand: 1 + items (not the target, not seen before) scoring ≥ the target.
      const seen = new Set(e.history.map((h) => h.item).filter((item) => item !== e.target.item));
      const t = model.score(e, e.target.item);
      let rank = 1;
      for (let item = 0; item < items; item++)
        if (item !== e.target.item && !seen.has(item) && model.score(e, item) >= t) rank++;
      assert.equal(predictions[i].catalog!.rank, rank);
    }
    const ranks = predictions.map((p) => p.catalog!.rank);
    assert.equal(metrics.catalog!.hr10, ranks.filter((r) => r <= 10).length / ranks.length);
    const ndcg = ranks.reduce((s, r) => s + (r <= 10 ? 1 / Math.log2(r + 1) : 0), 0) / ranks.length;
    assert.ok(Math.abs(metrics.catalog!.ndcg10 - ndcg) < 1e-12);
    const md = metricsMarkdown([{ name: "hash", metrics }]);
    assert.match(md, /\| hash \| n\/a \| n\/a \| n\/a \| n\/a \| n\/a \| \d/);
    assert.match(md, /HR@10 \(catalog\) \| NDCG@10 \(catalog\) \|/);
  });

  it("catalog rank: history masked, the target never, ties against the target", () => {
    const e = {
      id: "test-0",
      history: [
        { item: 0, title: "a" },
        { item: 2, title: "c" },
      ],
      target: { item: 2 },
    } as unknown as Example;
    // Item 0 is masked (seen); item 2 is the target although seen; item 3 ties with it.
    assert.equal(catalogRank(Float32Array.from([9, 1, 5, 5, 4]), e), 2);
    assert.equal(catalogRank(Float32Array.from([9, 1, Number.NaN, 5, 4]), e), 4);
    assert.throws(() => catalogRank(Float32Array.from([1, 2]), e), /outside the scored catalog/);
  });
});

describe("loadRecommender dispatch", () => {
  it("names what a directory is: baseline run, no run at all, a run without checkpoints", async () => {
    const dir = await mkdtemp(join(tmpdir(), "prefrec-load-"));
    try {
      const baseline = join(dir, "sasrec");
      await mkdir(baseline);
      await writeFile(join(baseline, "config.json"), JSON.stringify({ kind: "sasrec" }));
      assert.equal(await targetKind(baseline), "baseline-run");
      await assert.rejects(loadRecommender(baseline), /sasrec is a classic baseline run/);
      const other = join(dir, "other");
      await mkdir(other);
      await writeFile(join(other, "config.json"), JSON.stringify({ hello: 1 }));
      await assert.rejects(
        loadRecommender(other),
        /other is not a prefrec run or model directory: no config\.json \/ checkpoint found/,
      );
      const run = join(dir, "run");
      await mkdir(run);
      await writeFile(
        join(run, "config.json"),
        JSON.stringify({ model: "m", objective: { type: "sft" }, lora: null }),
      );
      assert.equal(await targetKind(run), "lm-run");
      await assert.rejects(
        loadRecommender(run),
        /run: no checkpoint .*the run failed or never saved one/,
      );
      await assert.rejects(
        loadRecommender(run, { checkpoint: "best" }),
        /run: the run has no checkpoint yet/,
      );
      await writeFile(join(run, "config.json"), "{not json");
      await assert.rejects(loadRecommender(run), /run\/config\.json: not valid JSON/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
