// The HTTP app through app.request() (no socket): every status code the server answers, field
// paths in validation errors, the unknown-item rule, full-catalog vs candidates-required, the
// OpenAPI document and docs page, readiness, queue-full 503, timeouts and request log lines.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { renderPrompt } from "../../src/data/prompts.js";
import { createApp, type RequestLog } from "../../src/serve/app.js";
import { type FakeOptions, FakeRecommender, fakeCatalog, fakeScore } from "./fakes.js";

function setup(fake: FakeOptions = {}, extra: Partial<Parameters<typeof createApp>[0]> = {}) {
  const recommender = new FakeRecommender(fake);
  const logs: RequestLog[] = [];
  const { app, service } = createApp({
    recommender,
    catalog: fakeCatalog(),
    batching: { maxWaitMs: 1 },
    log: (e) => logs.push(e),
    ...extra,
  });
  const post = async (path: string, body: unknown, headers: Record<string, string> = {}) => {
    const res = await app.request(path, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: typeof body === "string" ? body : JSON.stringify(body),
    });
    return {
      status: res.status,
      headers: res.headers,
      // biome-ignore lint/suspicious/noExplicitAny: tests read response bodies loosely
      json: (await res.json()) as Record<string, any>,
    };
  };
  return { app, service, recommender, logs, post };
}

describe("POST /v1/recommend", () => {
  it("ranks the candidates by the model's scores, top k, seen items excluded by default", async () => {
    const { post } = setup();
    const cands = [2, 9, 5, 4, 3].map((item) => ({ item }));
    const r = await post("/v1/recommend", {
      history: [{ item: 3 }, { title: "Item 4", rating: 5 }],
      candidates: cands,
      k: 3,
    });
    assert.equal(r.status, 200);
    // Independent ranking: closeness to item 4, history items (3, 4) dropped.
    const expected = [5, 2, 9]
      .map((i) => ({ item: i, score: fakeScore(4, i, `Item ${i}`) }))
      .sort((a, b) => b.score - a.score);
    assert.deepEqual(
      r.json.items,
      expected.map((e, i) => ({
        item: e.item,
        title: `Item ${e.item}`,
        score: e.score,
        rank: i + 1,
      })),
    );
    assert.equal(r.json.model, "fake-model");
    assert.equal(typeof r.json.latencyMs, "number");
    assert.equal(r.json.warnings, undefined);
    const all = await post("/v1/recommend", {
      history: [{ item: 4 }],
      candidates: cands,
      excludeSeen: false,
      k: 100,
    });
    assert.deepEqual(
      all.json.items.map((i: { item: number }) => i.item),
      [4, 5, 3, 2, 9],
    );
  });

  it("accepts source ids and titles; ranks the whole catalog when the model can", async () => {
    const { post } = setup({ fullCatalog: true });
    const r = await post("/v1/recommend", { history: [{ item: "s6" }, { title: "Item 7" }], k: 4 });
    assert.equal(r.status, 200);
    // 12 items, history 6 and 7 masked; closest to 7: 8, then 5 (shorter title wins over none: 8 vs 6 masked), 9, 4…
    const expected = Array.from({ length: 12 }, (_, i) => i)
      .filter((i) => i !== 6 && i !== 7)
      .map((i) => ({ i, s: fakeScore(7, i, `Item ${i}`) }))
      .sort((a, b) => b.s - a.s || a.i - b.i)
      .slice(0, 4)
      .map((x) => x.i);
    assert.deepEqual(
      r.json.items.map((i: { item: number }) => i.item),
      expected,
    );
  });

  it("answers 400 saying candidates are required when the model cannot score the catalog", async () => {
    const { post } = setup();
    const r = await post("/v1/recommend", { history: [{ item: 1 }] });
    assert.equal(r.status, 400);
    assert.equal(r.json.error.code, "candidates_required");
    assert.equal(r.json.error.path, "candidates");
    assert.match(r.json.error.message, /required for this model/);
  });

  it("ignores unknown history items with a warning; 422 when none is known or a candidate is unknown", async () => {
    const { post } = setup();
    const r = await post("/v1/recommend", {
      history: [{ item: 99 }, { item: 2 }, { title: "Nope" }],
      candidates: [{ item: 1 }, { item: 3 }],
    });
    assert.equal(r.status, 200);
    assert.deepEqual(
      r.json.warnings.map((w: { path: string }) => w.path),
      ["history[0]", "history[2]"],
    );
    const none = await post("/v1/recommend", {
      history: [{ item: "zz" }],
      candidates: [{ item: 1 }],
    });
    assert.equal(none.status, 422);
    assert.equal(none.json.error.path, "history");
    const cand = await post("/v1/recommend", {
      history: [{ item: 1 }],
      candidates: [{ item: 2 }, { title: "Unknown" }],
    });
    assert.equal(cand.status, 422);
    assert.equal(cand.json.error.path, "candidates[1]");
  });

  const bad: [string, unknown, number, string][] = [
    ["malformed JSON", '{"history": [', 400, "body"],
    ["a JSON array", "[1,2]", 400, "body"],
    ["history of the wrong type", { history: "Item 1" }, 400, "history"],
    [
      "a rating that is a string",
      { history: [{ item: 1, rating: "5" }], candidates: [{ item: 2 }] },
      400,
      "history[0].rating",
    ],
    ["an empty history", { history: [], candidates: [{ item: 2 }] }, 400, "history"],
    ["no history", { candidates: [{ item: 2 }] }, 400, "history"],
    [
      "duplicate candidates",
      { history: [{ item: 1 }], candidates: [{ item: 2 }, { item: 3 }, { item: 2 }] },
      400,
      "candidates[2]",
    ],
    [
      "duplicate candidate titles",
      { history: [{ item: 1 }], candidates: [{ title: "Item 2" }, { title: "Item 2" }] },
      400,
      "candidates[1]",
    ],
    ["a huge k", { history: [{ item: 1 }], candidates: [{ item: 2 }], k: 1e308 }, 400, "k"],
    [
      "a huge item id",
      { history: [{ item: 1e300 }], candidates: [{ item: 2 }] },
      400,
      "history[0].item",
    ],
    [
      "an overflowing rating",
      '{"history":[{"item":1,"rating":1e400}],"candidates":[{"item":2}]}',
      400,
      "history[0].rating",
    ],
    [
      "an overflowing item id",
      '{"history":[{"item":1e400}],"candidates":[{"item":2}]}',
      400,
      "history[0].item",
    ],
    ["a fractional k", { history: [{ item: 1 }], candidates: [{ item: 2 }], k: 1.5 }, 400, "k"],
    [
      "a negative item id",
      { history: [{ item: -1 }], candidates: [{ item: 2 }] },
      400,
      "history[0].item",
    ],
    [
      "both item and title",
      { history: [{ item: 1, title: "Item 1" }], candidates: [{ item: 2 }] },
      400,
      "history[0]",
    ],
    [
      "neither item nor title",
      { history: [{ rating: 3 }], candidates: [{ item: 2 }] },
      400,
      "history[0]",
    ],
    [
      "an unknown field",
      { history: [{ item: 1 }], candidates: [{ item: 2 }], topk: 3 },
      400,
      "topk",
    ],
    [
      "an out-of-range template",
      { history: [{ item: 1 }], candidates: [{ item: 2 }], template: 2 },
      400,
      "template",
    ],
    [
      "a too long history",
      { history: Array.from({ length: 6 }, (_, i) => ({ item: i })), candidates: [{ item: 7 }] },
      400,
      "history",
    ],
    [
      "a too long candidate list",
      {
        history: [{ item: 1 }],
        candidates: Array.from({ length: 5 }, (_, i) => ({ item: i + 2 })),
      },
      400,
      "candidates",
    ],
  ];
  for (const [what, body, status, path] of bad)
    it(`answers ${status} naming "${path}" for ${what}`, async () => {
      const { post, recommender } = setup({}, { limits: { maxHistory: 5, maxCandidates: 4 } });
      const r = await post("/v1/recommend", body);
      assert.equal(r.status, status, JSON.stringify(r.json));
      assert.equal(r.json.error.path, path);
      assert.ok(r.json.error.message.startsWith(`${path}:`), r.json.error.message);
      assert.ok(!r.json.error.message.includes("\n"), "one line");
      assert.deepEqual(recommender.calls, [], "the model is never called");
    });

  it("answers 415 for a body that is not JSON and 413 for a body over the limit", async () => {
    const { app, post } = setup({}, { bodyLimit: 200 });
    const text = await app.request("/v1/recommend", {
      method: "POST",
      headers: { "content-type": "text/plain" },
      body: "hello",
    });
    assert.equal(text.status, 415);
    const err = (await text.json()) as { error: { code: string; message: string } };
    assert.equal(err.error.code, "unsupported_media_type");
    assert.match(err.error.message, /application\/json/);
    const big = await post("/v1/recommend", {
      history: [{ title: "x".repeat(300) }],
      candidates: [{ item: 1 }],
    });
    assert.equal(big.status, 413);
    assert.equal(big.json.error.code, "body_too_large");
  });

  it("answers 503 with Retry-After when the queue is full, and 504 past the request timeout", async () => {
    const { post } = setup(
      { delayMs: 150 },
      { batching: { maxBatch: 1, maxWaitMs: 0, maxQueue: 2, timeoutMs: 5000 } },
    );
    const body = { history: [{ item: 1 }], candidates: [{ item: 2 }] };
    const running = post("/v1/recommend", body); // dispatched at once
    await new Promise((r) => setTimeout(r, 20));
    const queued = [post("/v1/recommend", body), post("/v1/recommend", body)];
    await new Promise((r) => setTimeout(r, 20));
    const refused = await post("/v1/recommend", body);
    assert.equal(refused.status, 503);
    assert.equal(refused.headers.get("retry-after"), "1");
    assert.equal(refused.json.error.code, "overloaded");
    assert.deepEqual(
      (await Promise.all([running, ...queued])).map((r) => r.status),
      [200, 200, 200],
    );
    const slow = setup({ delayMs: 200 }, { batching: { timeoutMs: 50 } });
    const late = await slow.post("/v1/recommend", body);
    assert.equal(late.status, 504);
    assert.equal(late.json.error.code, "timeout");
  });

  it("writes one log line per request with method, path, status, latency and batch size", async () => {
    const { app, post, logs } = setup();
    await post("/v1/recommend", { history: [{ item: 1 }], candidates: [{ item: 2 }] });
    await post("/v1/recommend", { history: [] });
    await app.request("/healthz");
    assert.equal(logs.length, 3);
    assert.deepEqual(
      logs.map(({ latencyMs: _, ...rest }) => rest),
      [
        { method: "POST", path: "/v1/recommend", status: 200, batchSize: 1 },
        { method: "POST", path: "/v1/recommend", status: 400 },
        { method: "GET", path: "/healthz", status: 200 },
      ],
    );
    assert.ok(logs.every((l) => l.latencyMs >= 0));
  });
});

describe("POST /v1/score", () => {
  it("scores answers given a prompt rendered from the history by the data layer's template code", async () => {
    const { post } = setup();
    const r = await post("/v1/score", {
      history: [{ item: 3, rating: 4 }, { item: 5 }],
      answers: ["Item 6", "Item 1"],
      template: 1,
    });
    assert.equal(r.status, 200);
    const catalog = fakeCatalog();
    const prompt = renderPrompt(
      catalog.templates[1],
      [
        { item: 3, title: "Item 3", rating: 4 },
        { item: 5, title: "Item 5" },
      ],
      [
        { item: 6, title: "Item 6" },
        { item: 1, title: "Item 1" },
      ],
      catalog.style,
    );
    assert.equal(r.json.prompt, prompt);
    assert.match(prompt, /Item 3 \| Rating: 4/);
    // The example carries no history (the prompt is given), so the fake keys on the prompt length.
    assert.deepEqual(r.json.scores, [
      { answer: "Item 6", logp: fakeScore(prompt.length, 6, "Item 6") },
      { answer: "Item 1", logp: fakeScore(prompt.length, 1, "Item 1") },
    ]);
  });

  it("takes a prompt as given; rejects both or neither of prompt/history, duplicate answers, ID-only models", async () => {
    const { post } = setup();
    const r = await post("/v1/score", { prompt: "hello", answers: ["free text"] });
    assert.equal(r.status, 200);
    assert.equal(r.json.scores[0].logp, fakeScore(5, -1, "free text"));
    assert.equal((await post("/v1/score", { answers: ["a"] })).json.error.path, "prompt");
    assert.equal(
      (await post("/v1/score", { prompt: "p", history: [{ item: 1 }], answers: ["a"] })).status,
      400,
    );
    assert.equal(
      (await post("/v1/score", { prompt: "p", answers: ["a", "b", "a"] })).json.error.path,
      "answers[2]",
    );
    const ids = setup({ items: "none" });
    const none = await ids.post("/v1/score", { prompt: "p", answers: ["a"] });
    assert.equal(none.status, 400);
    assert.equal(none.json.error.code, "not_supported");
  });
});

describe("service routes", () => {
  it("healthz is live at once; readyz is 503 until warmed up", async () => {
    const { app, service } = setup();
    assert.equal((await app.request("/healthz")).status, 200);
    assert.equal((await app.request("/readyz")).status, 503);
    await service.warmUp();
    const ready = await app.request("/readyz");
    assert.equal(ready.status, 200);
    assert.equal(((await ready.json()) as { ready: boolean }).ready, true);
  });

  it("publishes the OpenAPI document and a self-contained docs page; unknown routes are JSON 404s, wrong methods 405s", async () => {
    const { app } = setup();
    const doc = (await (await app.request("/openapi.json")).json()) as {
      paths: Record<string, unknown>;
      components: { schemas: Record<string, unknown> };
    };
    assert.deepEqual(Object.keys(doc.paths).sort(), ["/v1/recommend", "/v1/score"]);
    assert.ok(doc.components.schemas.RecommendRequest);
    const docs = await app.request("/docs");
    assert.equal(docs.status, 200);
    const html = await docs.text();
    assert.match(html, /POST \/v1\/recommend/);
    assert.doesNotMatch(html, /<script|<link/);
    const missing = await app.request("/v2/nothing");
    assert.equal(missing.status, 404);
    assert.equal(((await missing.json()) as { error: { code: string } }).error.code, "not_found");
    const wrong = await app.request("/v1/recommend");
    assert.equal(wrong.status, 405);
    assert.equal(wrong.headers.get("allow"), "POST");
    assert.equal(
      ((await wrong.json()) as { error: { code: string } }).error.code,
      "method_not_allowed",
    );
  });
});
