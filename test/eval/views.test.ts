// The views over seeds: mean ± sample std by hand, ranks read back from predictions.jsonl, and
// the last prompt of each test user (user ids, gaps left by a capped split, files without ids).

import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { lastPerUser } from "../../src/baselines/sequences.js";
import { lastPerUserMetrics, meanStd, readRanks } from "../../src/eval/views.js";
import { example, prefixExamples } from "../baselines/helpers.js";

describe("evaluation views", () => {
  const dirs: string[] = [];
  after(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it("mean and sample standard deviation", () => {
    // 2, 4, 9: mean 5, squared deviations 9 + 1 + 16 = 26, sample variance 13.
    const s = meanStd([2, 4, 9]);
    assert.equal(s.mean, 5);
    assert.equal(s.std, Math.sqrt(13));
    assert.equal(s.n, 3);
    assert.deepEqual(meanStd([0.5]), { mean: 0.5, std: 0, n: 1 });
  });

  it("last prompt per user: by user id (gaps too), by history chain without ids", () => {
    const all = prefixExamples(
      "test",
      [
        [1, 2, 3, 4, 5],
        [6, 7, 8],
      ],
      () => [9],
    );
    // Users u0 (4 prompts: 0-3) and u1 (2 prompts: 4-5).
    assert.deepEqual(lastPerUser(all), [3, 5]);
    // A capped split keeps u0's prompts 0 and 2 only: still one user.
    const capped = [all[0], all[2], all[4], all[5]];
    assert.deepEqual(lastPerUser(capped), [1, 3]);
    // Without ids (S-DPO's files) the history chain decides: the full split is two users.
    const anonymous = all.map((e) => ({ ...e, user: "" }));
    assert.deepEqual(lastPerUser(anonymous), [3, 5]);
    // Ranks 1..6: the last prompts have ranks 4 and 6 → HR@1 0, MRR (1/4 + 1/6) / 2.
    const m = lastPerUserMetrics(all, [1, 2, 3, 4, 5, 6]);
    assert.equal(m.examples, 2);
    assert.equal(m.hr["1"], 0);
    assert.equal(m.hr["5"], 0.5);
    assert.equal(m.mrr, (1 / 4 + 1 / 6) / 2);
  });

  it("reads each example's rank from predictions.jsonl; null without the ranking protocol", async () => {
    const dir = await mkdtemp(join(tmpdir(), "prefrec-views-"));
    dirs.push(dir);
    const examples = [
      example("test", 0, "a", [1], 2, [3]),
      example("test", 1, "a", [1, 2], 3, [4]),
    ];
    const file = join(dir, "predictions.jsonl");
    // Written in another order than the examples: matched by id.
    await writeFile(
      file,
      `${JSON.stringify({ id: "test-1", ranking: { rankSum: 2 } })}\n${JSON.stringify({ id: "test-0", ranking: { rankSum: 1 } })}\n`,
    );
    assert.deepEqual(await readRanks(file, examples), [1, 2]);
    await writeFile(file, `${JSON.stringify({ id: "test-0", constrained: { hit: true } })}\n`);
    assert.equal(await readRanks(file, examples), null);
    await writeFile(file, `${JSON.stringify({ id: "test-0" })}\n{"id": "te`);
    await assert.rejects(readRanks(file, examples), /predictions\.jsonl:2: not a JSON line/);
    await assert.rejects(
      readRanks(join(dir, "none.jsonl"), examples),
      /none\.jsonl: cannot read \(ENOENT\)/,
    );
  });
});
