// A real tiny LM behind the server: a request built from a prepared example (its history,
// candidates and template) renders exactly the example's prompt, and its scores are the
// evaluator's ranking-protocol scores; concurrent (micro-batched) requests get the rankings they
// get alone, with scores equal up to float32 rounding.

import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { loadExamples } from "../../src/data/index.js";
import type { Example } from "../../src/data/types.js";
import { evaluate } from "../../src/eval/evaluate.js";
import { loadRecommender } from "../../src/eval/load.js";
import { Runtime } from "../../src/graph/index.js";
import type { LmRecommender } from "../../src/model/lm-recommender.js";
import { createApp } from "../../src/serve/app.js";
import { ServeCatalog } from "../../src/serve/catalog.js";
import { buildTrainFixture } from "../train/fixture.js";

describe("serving a tiny LM", () => {
  let dir: string;
  let examples: Example[];
  let catalog: ServeCatalog;
  let lm: LmRecommender;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "prefrec-serve-lm-"));
    const fx = await buildTrainFixture(dir, { users: 60, maxTrain: 8 });
    examples = (await loadExamples(fx.data, "test")).slice(0, 8);
    catalog = await ServeCatalog.load(fx.data);
    lm = (await loadRecommender(fx.model, { runtime: new Runtime({ threads: 1 }) }))
      .recommender as LmRecommender;
  });
  after(async () => {
    await lm?.lm.runtime.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  const body = (e: Example) => ({
    history: e.history.map((h) => ({
      item: h.item,
      ...(h.rating !== undefined ? { rating: h.rating } : {}),
    })),
    candidates: e.candidates.map((c) => ({ item: c.item })),
    template: e.template,
    excludeSeen: false,
    k: e.candidates.length,
  });
  const post = async (app: ReturnType<typeof createApp>["app"], b: unknown) => {
    const res = await app.request("/v1/recommend", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(b),
    });
    assert.equal(res.status, 200);
    return (await res.json()) as { items: { item: number; score: number; rank: number }[] };
  };

  it("warms up a title-item LM (which cannot rank the catalog) and becomes ready", async () => {
    assert.equal(lm.describe().fullCatalog, false);
    const { app, service } = createApp({ recommender: lm, catalog });
    assert.equal((await app.request("/readyz")).status, 503);
    await service.warmUp();
    assert.equal((await app.request("/readyz")).status, 200);
  });

  it("refuses requests over the answer-token limit with a 400 naming the list", async () => {
    const e = examples[0];
    const lengths = lm.answerLengths([e])[0];
    const padded = lengths.length * Math.max(...lengths);
    const send = async (maxAnswerTokens: number, path: string, b: unknown) => {
      const { app } = createApp({ recommender: lm, catalog, batching: { maxAnswerTokens } });
      const res = await app.request(path, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(b),
      });
      return {
        status: res.status,
        body: (await res.json()) as { error?: { path: string; code: string } },
      };
    };
    assert.equal((await send(padded, "/v1/recommend", body(e))).status, 200);
    const over = await send(padded - 1, "/v1/recommend", body(e));
    assert.equal(over.status, 400);
    assert.deepEqual(
      [over.body.error?.code, over.body.error?.path],
      ["too_many_answer_tokens", "candidates"],
    );
    // Free-text answers: 3 answers, the longest 40 words (≥ 40 tokens with EOS).
    const answers = ["short", "a bit longer answer", Array(40).fill("word").join(" ")];
    const score = await send(100, "/v1/score", { prompt: "Answer:", answers });
    assert.equal(score.status, 400);
    assert.equal(score.body.error?.path, "answers");
    assert.equal((await send(1000, "/v1/score", { prompt: "Answer:", answers })).status, 200);
  });

  it("renders the prepared example's prompt and scores as the evaluator does", async () => {
    for (const e of examples) {
      const rebuilt = catalog.example("x", e.history, e.candidates, { template: e.template });
      assert.equal(
        rebuilt.prompt,
        e.prompt,
        `${e.id}: the served prompt differs from the prepared one`,
      );
    }
    const { app } = createApp({ recommender: lm, catalog, batching: { maxBatch: 1 } });
    const { predictions } = await evaluate(lm, examples, {
      protocols: ["ranking"],
      batchSize: 1,
    });
    for (const [i, e] of examples.entries()) {
      const r = await post(app, body(e));
      const byItem = new Map(r.items.map((x) => [x.item, x.score]));
      const served = e.candidates.map((c) => byItem.get(c.item)!);
      // The evaluator stores log-probs rounded to 5 decimals.
      for (const [k, s] of served.entries())
        assert.ok(Math.abs(s - predictions[i].ranking!.logpSum[k]) < 1e-4, `${e.id}[${k}]`);
      assert.equal(
        r.items.find((x) => x.item === e.target.item)!.rank,
        predictions[i].ranking!.rankSum,
      );
    }
  });

  it("answers concurrent requests in one batch exactly as it answers them one by one", async () => {
    const alone = createApp({ recommender: lm, catalog, batching: { maxBatch: 1 } });
    const sequential: Awaited<ReturnType<typeof post>>[] = [];
    for (const e of examples) sequential.push(await post(alone.app, body(e)));
    // One batch of 8 as one engine run, and as size-sorted runs of 3, 3 and 2.
    for (const engineBatch of [8, 3]) {
      const batched = createApp({
        recommender: lm,
        catalog,
        batching: { maxBatch: 8, engineBatch, maxWaitMs: 50 },
      });
      const concurrent = await Promise.all(examples.map((e) => post(batched.app, body(e))));
      assert.deepEqual(batched.service.batchSizes, [8]);
      sameAnswers(concurrent, sequential);
    }
  });

  function sameAnswers(
    concurrent: Awaited<ReturnType<typeof post>>[],
    sequential: Awaited<ReturnType<typeof post>>[],
  ) {
    for (const [i, r] of concurrent.entries()) {
      assert.deepEqual(
        r.items.map((x) => x.item),
        sequential[i].items.map((x) => x.item),
      );
      // Same ranking; scores equal up to float32 rounding: padding a batch to its longest prompt
      // changes the order of the engine's reductions (measured: ≤ 2 ulps at |logp| ≈ 20).
      r.items.forEach((x, k) => {
        const alone = sequential[i].items[k].score;
        assert.ok(
          Math.abs(x.score - alone) <= 1e-6 * Math.max(1, Math.abs(alone)),
          `${x.score} vs ${alone}`,
        );
      });
    }
  }
});
