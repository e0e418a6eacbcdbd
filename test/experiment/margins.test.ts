// Paired margins of a multi-seed experiment: which pairs are compared, and the per-seed
// differences' mean, sample std and "ahead" counts against a hand computation.

import assert from "node:assert/strict";
import { test } from "node:test";
import type { MethodSummary, Stat } from "../../src/experiment/aggregate.js";
import { marginPairs, pairedMargins } from "../../src/experiment/margins.js";

/** A method whose HR@1 per seed is `hr1` (null: that seed lacks it); other metrics absent. */
function method(
  stage: string,
  kind: MethodSummary["kind"],
  init: string | null,
  hr1: (number | null)[],
): MethodSummary {
  const present = hr1.filter((v): v is number => v !== null);
  const metric: Stat = { mean: 0, std: 0, n: present.length, values: hr1 };
  return {
    stage,
    kind,
    objective: stage,
    init,
    examples: hr1.map(() => 10),
    notApplicable: [],
    metrics: { "ranking.sum.hr.1": metric },
    lastPerUser: null,
    train: {} as MethodSummary["train"],
  };
}

const methods = [
  method("sft", "lm", null, [0.5, 0.6, 0.55]),
  method("dpo", "lm", "sft", [0.52, 0.61, 0.54]),
  method("sdpo", "lm", "sft", [0.53, 0.63, null]),
  method("pop", "baseline", null, [0.2, 0.2, 0.2]),
];

test("pairs: each stage over its start, stages from the same start, final stages vs baselines", () => {
  assert.deepEqual(
    marginPairs(methods).map(([a, b, r]) => `${a.stage}-${b.stage}:${r}`),
    ["dpo-sft:init", "sdpo-sft:init", "sdpo-dpo:siblings", "dpo-pop:baseline", "sdpo-pop:baseline"],
  );
});

test("margins: per-seed differences, mean, sample std and seeds ahead, by hand", () => {
  const margins = pairedMargins(methods);
  const dpo = margins[0].metrics["ranking.sum.hr.1"]!;
  const d = [0.52 - 0.5, 0.61 - 0.6, 0.54 - 0.55];
  const m = (d[0] + d[1] + d[2]) / 3;
  const sd = Math.sqrt(((d[0] - m) ** 2 + (d[1] - m) ** 2 + (d[2] - m) ** 2) / 2);
  assert.deepEqual(dpo.diff.values, d);
  assert.ok(Math.abs(dpo.diff.mean - m) < 1e-15);
  assert.ok(Math.abs(dpo.diff.std - sd) < 1e-15);
  assert.equal(dpo.diff.n, 3);
  assert.equal(dpo.ahead, 2);
  // A seed missing either method is left out of the statistics, kept as null in the values.
  const siblings = margins[2].metrics["ranking.sum.hr.1"]!;
  assert.equal(siblings.diff.n, 2);
  assert.equal(siblings.diff.values[2], null);
  assert.equal(siblings.ahead, 2);
  // A metric neither method has: no margin.
  assert.equal(margins[0].metrics["ranking.sum.mrr"], null);
});
