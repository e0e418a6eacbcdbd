// Long series are thinned to means of consecutive points (a baseline run logs every step):
// checked against a hand-computed mean, with short series left untouched.

import assert from "node:assert/strict";
import { test } from "node:test";
import { lineChart, MAX_SERIES_POINTS, type Point, thin } from "../../src/report/charts.js";

const series = (name: string, n: number, f: (s: number) => number): Point[] =>
  Array.from({ length: n }, (_, i) => ({ step: i + 1, value: f(i + 1), series: name }));

test("thin keeps short series and averages long ones run by run", () => {
  const short = series("valid", 7, (s) => s * s);
  assert.deepEqual(thin(short, 10), short);
  // 25 points, at most 10: runs of 3 (the last run has 1 point).
  const long = series("train", 25, (s) => 2 * s);
  const thinned = thin([...long, ...short], 10);
  const train = thinned.filter((p) => p.series === "train");
  assert.equal(train.length, 9);
  assert.deepEqual(train[0], { step: 2, value: 4, series: "train" }); // steps 1–3
  assert.deepEqual(train.at(-1), { step: 25, value: 50, series: "train" });
  assert.deepEqual(
    thinned.filter((p) => p.series === "valid"),
    short,
  );
});

test("a chart of 20,000 steps holds at most MAX_SERIES_POINTS points and no point marks", () => {
  const chart = lineChart(
    "loss",
    "Loss",
    "loss",
    series("train", 20_000, (s) => 1 / s),
  );
  const spec = chart.spec as { data: { values: Point[] }; mark: { point: boolean } };
  assert.ok(spec.data.values.length <= MAX_SERIES_POINTS);
  assert.equal(spec.mark.point, false);
  const one = lineChart(
    "loss",
    "Loss",
    "loss",
    series("train", 1, () => 1),
  ).spec as {
    mark: { point: boolean };
  };
  assert.equal(one.mark.point, true);
});
