// Micro-batching: concurrent requests share one call and get exactly the answers unbatched calls
// give; batch size and queue bounds hold; a failing batch fails only its own requests.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createApp } from "../../src/serve/app.js";
import { MicroBatcher, QueueFullError, TimeoutError } from "../../src/serve/batcher.js";
import { FakeRecommender, fakeCatalog } from "./fakes.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("MicroBatcher", () => {
  it("gathers concurrent inputs up to maxBatch and returns each its own output", async () => {
    const calls: number[][] = [];
    const b = new MicroBatcher<number, number>({
      maxBatch: 4,
      maxWaitMs: 20,
      maxQueue: 100,
      run: async (xs) => {
        calls.push(xs);
        await sleep(5);
        return xs.map((x) => x * x);
      },
    });
    const out = await Promise.all(Array.from({ length: 10 }, (_, i) => b.submit(i)));
    assert.deepEqual(
      out.map((o) => o.output),
      Array.from({ length: 10 }, (_, i) => i * i),
    );
    assert.deepEqual(calls, [
      [0, 1, 2, 3],
      [4, 5, 6, 7],
      [8, 9],
    ]);
    assert.deepEqual(
      out.map((o) => o.batchSize),
      [4, 4, 4, 4, 4, 4, 4, 4, 2, 2],
    );
  });

  it("runs a lone input after maxWaitMs, refuses beyond maxQueue, times out waiting inputs", async () => {
    const b = new MicroBatcher<number, number>({
      maxBatch: 8,
      maxWaitMs: 30,
      maxQueue: 2,
      run: async (xs) => xs,
    });
    const t0 = performance.now();
    const first = b.submit(1);
    const second = b.submit(2);
    await assert.rejects(b.submit(3), QueueFullError);
    assert.deepEqual(
      (await Promise.all([first, second])).map((o) => o.output),
      [1, 2],
    );
    assert.ok(performance.now() - t0 >= 25, "waited for the batch to fill");
    const slow = new MicroBatcher<number, number>({
      maxBatch: 1,
      maxWaitMs: 0,
      maxQueue: 5,
      run: async (xs) => {
        await sleep(100);
        return xs;
      },
    });
    const running = slow.submit(1);
    const waiting = slow.submit(2, 20);
    await assert.rejects(waiting, TimeoutError);
    assert.equal(slow.waiting, 0, "a timed-out input leaves the queue");
    assert.equal((await running).output, 1);
  });

  it("fails every input of a failing batch (also a synchronous throw), then keeps serving", async () => {
    let fail = true;
    const b = new MicroBatcher<number, number>({
      maxBatch: 2,
      maxWaitMs: 5,
      maxQueue: 10,
      run: (xs) => {
        if (fail) throw new Error("engine down");
        return Promise.resolve(xs);
      },
    });
    const r = await Promise.allSettled([b.submit(1), b.submit(2)]);
    assert.deepEqual(
      r.map((x) => x.status),
      ["rejected", "rejected"],
    );
    fail = false;
    assert.equal((await b.submit(3)).output, 3);
  });
});

describe("batched serving equals unbatched serving", () => {
  it("gives every concurrent request the answer it gets alone", async () => {
    // Histories and candidate lists of different lengths, so sorting by size reorders them.
    const bodies = Array.from({ length: 12 }, (_, i) => ({
      history: [{ item: i % 12 }, { item: (i * 5) % 12 }].slice(i % 2),
      candidates: [1, 4, 7, 10, 11].slice(i % 3).map((item) => ({ item: (item + i) % 12 })),
      excludeSeen: false,
    }));
    const run = async (maxBatch: number, concurrent: boolean, engineBatch = 8) => {
      const recommender = new FakeRecommender();
      const { app } = createApp({
        recommender,
        catalog: fakeCatalog(),
        batching: { maxBatch, engineBatch, maxWaitMs: 20 },
      });
      const one = async (body: unknown) => {
        const res = await app.request("/v1/recommend", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(body),
        });
        return ((await res.json()) as { items: unknown }).items;
      };
      const items = concurrent
        ? await Promise.all(bodies.map(one))
        : await (async () => {
            const out = [];
            for (const b of bodies) out.push(await one(b));
            return out;
          })();
      return { items, calls: recommender.calls };
    };
    const alone = await run(1, false);
    const batched = await run(8, true);
    assert.deepEqual(alone.calls, Array(12).fill(1));
    assert.deepEqual(batched.calls, [8, 4]);
    assert.deepEqual(batched.items, alone.items);
    // Cut into size-sorted engine runs of 3: the calls change, the answers do not.
    const cut = await run(8, true, 3);
    assert.deepEqual(cut.calls, [3, 3, 2, 3, 1]);
    assert.deepEqual(cut.items, alone.items);
  });
});
