// prefrec report: SVGs that parse with one series per method/series and the expected axis titles,
// PNGs of the SVG's size × scale, a one-step run, seeds → mean ± std, errors, byte-identical reruns.

import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { UserError } from "../../src/io/errors.js";
import { meanStd } from "../../src/report/data.js";
import { writeReport } from "../../src/report/index.js";
import { byClass, elements, parseSvg, pngSize, texts } from "./svg.js";

const dirs: string[] = [];
const tmp = async () => {
  const d = await mkdtemp(join(tmpdir(), "prefrec-report-"));
  dirs.push(d);
  return d;
};
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

/** The inline SVG of figure `id` in report.html. */
function figureSvg(html: string, id: string): string {
  const m = html.match(new RegExp(`<figure id="${id}">(<svg[\\s\\S]*?</svg>)`));
  assert.ok(m, `no figure ${id}`);
  return m[1];
}

const axisTitles = (svg: ReturnType<typeof parseSvg>) =>
  byClass(svg, "role-axis-title").flatMap(texts);
const lineSeries = (svg: ReturnType<typeof parseSvg>) =>
  byClass(svg, "mark-line", "role-mark").length;
const legendLabels = (svg: ReturnType<typeof parseSvg>) =>
  byClass(svg, "role-legend-label").flatMap(texts);

async function writeRun(dir: string, steps: number, preference: boolean) {
  const lines: string[] = [];
  for (let s = 1; s <= steps; s++) {
    const e: Record<string, unknown> = {
      step: s,
      epoch: s / 10,
      lr: 1e-3 * s,
      loss: 2 / s,
      grad_norm: 1 + s,
      chosen_logp: -10 + s,
    };
    if (preference)
      Object.assign(e, {
        reward_chosen: 0.1 * s,
        reward_rejected: -0.1 * s,
        margin: 0.2 * s,
        accuracy: Math.min(1, s / 5),
      });
    lines.push(JSON.stringify(e));
    if (s % 5 === 0)
      lines.push(
        JSON.stringify({
          split: "valid",
          step: s,
          loss: 1 / s,
          examples: 8,
          hr1: 0.1,
          hr3: 0.3,
          hr5: 0.5,
          ndcg5: 0.3,
          mrr: 0.25,
        }),
      );
  }
  await writeFile(join(dir, "metrics.jsonl"), `${lines.join("\n")}\n`);
}

describe("report of a training run", () => {
  it("draws every logged series with axis titles; PNG is the SVG's size × 2", async () => {
    const dir = await tmp();
    await writeRun(dir, 10, true);
    const files = await writeReport(dir);
    const html = await readFile(files.html, "utf8");
    assert.doesNotMatch(html, /<script|<link|src="http/, "report.html must be self-contained");
    const ids = ["loss", "lr", "grad-norm", "rewards", "accuracy", "chosen-logp", "validation"];
    assert.deepEqual(
      files.pngs.map((p) => p.slice(dir.length + 1)),
      ids.map((i) => `${i}.png`),
    );
    const loss = parseSvg(figureSvg(html, "loss"));
    assert.equal(lineSeries(loss), 2); // train + valid
    assert.deepEqual(legendLabels(loss), ["train", "valid"]);
    assert.deepEqual(axisTitles(loss).sort(), ["loss", "step"]);
    const rewards = parseSvg(figureSvg(html, "rewards"));
    assert.equal(lineSeries(rewards), 3);
    assert.deepEqual(legendLabels(rewards), ["chosen", "rejected (mean)", "margin"]);
    const validation = parseSvg(figureSvg(html, "validation"));
    assert.deepEqual(legendLabels(validation), ["HR@1", "NDCG@5", "MRR"]);
    assert.equal(elements(validation, "path").length > 0, true);
    const svgText = figureSvg(html, "loss");
    const w = Number(svgText.match(/width="(\d+)"/)![1]);
    const h = Number(svgText.match(/height="(\d+)"/)![1]);
    assert.deepEqual(pngSize(await readFile(join(dir, "loss.png"))), {
      width: 2 * w,
      height: 2 * h,
    });
    const md = await readFile(files.markdown, "utf8");
    for (const i of ids) assert.match(md, new RegExp(`\\]\\(${i}\\.png\\)`));
  });

  it("renders a run with a single logged step and skips absent series", async () => {
    const dir = await tmp();
    const out = join(dir, "out");
    await writeRun(dir, 1, false);
    const files = await writeReport(dir, { out });
    assert.deepEqual(
      files.pngs.map((p) => p.slice(out.length + 1)),
      ["loss.png", "lr.png", "grad-norm.png", "chosen-logp.png"],
    );
    const html = await readFile(files.html, "utf8");
    const loss = parseSvg(figureSvg(html, "loss"));
    assert.equal(lineSeries(loss), 1);
    assert.equal(
      byClass(loss, "mark-symbol", "role-mark").length,
      1,
      "the single step is drawn as a point",
    );
    assert.ok(pngSize(await readFile(join(out, "loss.png"))).width > 0);
    assert.ok(!existsSync(join(dir, "report.html")), "--out is honoured");
  });

  it("writes byte-identical PNGs on a rerun", async () => {
    const dir = await tmp();
    await writeRun(dir, 6, true);
    await writeReport(dir);
    const first = await readFile(join(dir, "rewards.png"));
    await writeReport(dir);
    assert.ok(first.equals(await readFile(join(dir, "rewards.png"))));
  });

  it("names the file and line of a malformed log, and rejects a directory that is neither", async () => {
    const dir = await tmp();
    await writeFile(join(dir, "metrics.jsonl"), '{"step":1,"loss":1}\n{"step":\n');
    await assert.rejects(
      writeReport(dir),
      (e: Error) =>
        e instanceof UserError && e.message.endsWith("metrics.jsonl:2: not a JSON line"),
    );
    const empty = await tmp();
    await assert.rejects(
      writeReport(empty),
      (e: Error) => e instanceof UserError && /neither an experiment/.test(e.message),
    );
  });
});

const ranking = (hr1: number, mrr: number) => ({
  sum: {
    examples: 10,
    hr: { "1": hr1, "3": hr1 + 0.2, "5": hr1 + 0.3, "10": 1 },
    ndcg: { "5": hr1 + 0.1, "10": hr1 + 0.15 },
    mrr,
  },
  mean: {
    examples: 10,
    hr: { "1": 0, "3": 0, "5": 0, "10": 0 },
    ndcg: { "5": 0, "10": 0 },
    mrr: 0,
  },
});

describe("report of an experiment", () => {
  it("one bar series per method with std whiskers over seeds, HR@k curves, the table", async () => {
    const dir = await tmp();
    const rows = [
      ...[0.1, 0.2, 0.3].map((hr1, seed) => ({
        stage: "sft",
        seed,
        metrics: { examples: 10, ranking: ranking(hr1, 0.3) },
      })),
      ...[0.4, 0.5, 0.6].map((hr1, seed) => ({
        stage: "sdpo",
        seed,
        metrics: { examples: 10, ranking: ranking(hr1, 0.5) },
      })),
      { method: "pop", metrics: { examples: 10, ranking: ranking(0.05, 0.1) } },
    ];
    await writeFile(join(dir, "results.json"), JSON.stringify({ name: "exp", rows }));
    // One stage has its training log: its curves are added to the report.
    await mkdir(join(dir, "stages", "sft"), { recursive: true });
    await writeRun(join(dir, "stages", "sft"), 3, false);
    const files = await writeReport(dir);
    const html = await readFile(files.html, "utf8");
    const bars = parseSvg(figureSvg(html, "methods"));
    assert.deepEqual(legendLabels(bars), ["sft", "sdpo", "pop"]);
    const rects = byClass(bars, "mark-rect", "role-mark").flatMap((g) => elements(g, "path"));
    assert.equal(rects.length, 9); // 3 methods × 3 metrics
    assert.equal(new Set(rects.map((r) => r["@_fill"])).size, 3, "one colour per method");
    assert.equal(
      byClass(bars, "mark-rule", "role-mark").flatMap((g) => elements(g, "line")).length,
      9,
      "one whisker per bar",
    );
    assert.deepEqual(axisTitles(bars).sort(), ["metric", "value (mean ± std over seeds)"]);
    const curves = parseSvg(figureSvg(html, "hr-at-k"));
    assert.equal(lineSeries(curves), 3);
    assert.deepEqual(axisTitles(curves).sort(), ["HR@k", "k"]);
    assert.ok(files.pngs.some((p) => p.endsWith("stage-sft-loss.png")));
    // sft HR@1 over seeds 0.1, 0.2, 0.3: mean 0.2, sample std 0.1.
    assert.match(html, /<td>sft<\/td><td>3<\/td><td>–<\/td><td>0\.2000 ± 0\.1000<\/td>/);
    assert.match(await readFile(files.markdown, "utf8"), /\| pop \| 1 \| – \| 0\.0500 \|/);
  });

  it("draws plain bars without whiskers for single-seed methods", async () => {
    const dir = await tmp();
    const rows = [
      { stage: "a", metrics: { examples: 10, ranking: ranking(0.2, 0.3) } },
      { stage: "b", metrics: { examples: 10, ranking: ranking(0.3, 0.4) } },
    ];
    await writeFile(join(dir, "results.json"), JSON.stringify({ name: "x", rows }));
    const html = await readFile((await writeReport(dir)).html, "utf8");
    const bars = parseSvg(figureSvg(html, "methods"));
    assert.equal(byClass(bars, "mark-rule", "role-mark").length, 0);
    assert.deepEqual(axisTitles(bars).sort(), ["metric", "value"]);
  });
});

describe("meanStd", () => {
  it("is the mean and the sample standard deviation", () => {
    assert.deepEqual(meanStd([1, 2, 3]), { mean: 2, std: 1, n: 3 });
    assert.deepEqual(meanStd([4]), { mean: 4, std: 0, n: 1 });
  });
});
