// Runs an experiment step by step; a step whose inputs are unchanged (content hash) is reused,
// so a crashed or extended experiment continues where it stopped.

import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { loadExamples, loadPrepared, prepareDataset, writeSynth } from "../data/index.js";
import type { EvalMetrics } from "../eval/evaluate.js";
import { initFromRun } from "../eval/load.js";
import { evaluateDir } from "../eval/run.js";
import { Runtime } from "../graph/index.js";
import { writeFileAtomic } from "../io/atomic.js";
import { saveCheckpoint } from "../model/checkpoint.js";
import { initWeights } from "../model/init.js";
import { presetConfig } from "../model/presets.js";
import { LmTokenizer } from "../model/tokenizer/tokenizer.js";
import { trainTokenizer } from "../model/tokenizer/train-tokenizer.js";
import { parseTrainConfig, type TrainConfig } from "../train/config.js";
import { type TrainSummary, train } from "../train/trainer.js";
import { lazyBaselineData, runBaselineStage } from "./baseline-stage.js";
import { type ExperimentConfig, isBaselineStage } from "./config.js";
import { resultsMarkdown } from "./results-md.js";

export interface ExperimentOptions {
  /** Output directory (runs/NAME). */
  out: string;
  quiet?: boolean;
  /** Put before each progress line (a multi-seed run's "seed 1 (2/3) "). */
  label?: string;
  runtime?: Runtime;
  signal?: AbortSignal;
}

export interface ResultRow {
  stage: string;
  /** A language-model stage or a classic baseline. */
  kind: "lm" | "baseline";
  /** The objective type (sft, dpo, …) or the baseline model (sasrec, pop, …). */
  objective: string;
  init: string | null;
  train: {
    /** Passes over the training data (LM: examples seen / training examples). */
    epochs: number | null;
    steps: number;
    examples: number;
    seconds: number;
    examplesPerSecond: number;
    bestValidLoss: number | null;
    /** Baselines stop early on validation HR@1 over the given candidates. */
    bestValidHr1: number | null;
  };
  evalSeconds: number;
  metrics: EvalMetrics;
  curve: { step: number; loss: number }[];
}

export interface ExperimentResult {
  name: string;
  rows: ResultRow[];
  markdown: string;
  dir: string;
}

const hash = (value: unknown) =>
  createHash("sha256").update(JSON.stringify(value)).digest("hex").slice(0, 24);
const MARKER = ".prefrec-step.json";

async function doneKey(dir: string): Promise<string | null> {
  const file = join(dir, MARKER);
  if (!existsSync(file)) return null;
  return (JSON.parse(await readFile(file, "utf8")) as { key: string }).key;
}

async function markDone(
  dir: string,
  key: string,
  extra: Record<string, unknown> = {},
): Promise<void> {
  await writeFileAtomic(join(dir, MARKER), `${JSON.stringify({ key, ...extra })}\n`);
}

/** Runs (or continues) an experiment. */
export async function runExperiment(
  config: ExperimentConfig,
  options: ExperimentOptions,
): Promise<ExperimentResult> {
  if (config.seeds) throw new Error("a config with seeds runs through runExperimentSeeds");
  const quiet = options.quiet ?? false;
  const say = (line: string) => {
    if (!quiet) process.stderr.write(`${line}\n`);
  };
  const out = options.out;
  const settings = config.training as Partial<TrainConfig>;
  const runtime =
    options.runtime ??
    new Runtime({ provider: settings.provider, threads: settings.threads ?? undefined });
  const totalSteps = 3 + config.stages.length * 2;
  let stepNo = 0;
  const header = (what: string) => say(`${options.label ?? ""}[${++stepNo}/${totalSteps}] ${what}`);

  // 1. Data.
  const dataDir = join(out, "data");
  const dataKey = hash({ data: config.data, seed: config.seed });
  header("dataset");
  if ((await doneKey(dataDir)) !== dataKey) {
    await rm(dataDir, { recursive: true, force: true });
    let path = config.data.path ?? "";
    if (config.data.synth) {
      path = join(dataDir, "world");
      await writeSynth(path, { ...config.data.synth }, true, quiet);
    }
    await prepareDataset({
      seed: config.seed,
      ...(config.data.prepare as object),
      source: config.data.synth ? "synth" : config.data.source,
      path,
      out: join(dataDir, "prepared"),
      force: true,
      quiet,
    });
    await markDone(dataDir, dataKey);
  } else say("  unchanged, reused");
  const prepared = join(dataDir, "prepared");

  // 2. Tokenizer.
  header("tokenizer");
  let tokenizerDir = config.tokenizer.dir ?? config.model.dir ?? "";
  const tokKey = hash({ tokenizer: config.tokenizer, dataKey });
  if (config.tokenizer.vocab !== undefined) {
    tokenizerDir = join(out, "tokenizer");
    if ((await doneKey(tokenizerDir)) !== tokKey) {
      const corpus = join(out, "tokenizer-corpus.txt");
      const { items } = await loadPrepared(prepared);
      const examples = await loadExamples(prepared, "train");
      const lines = [
        ...examples.map((e) => `${e.prompt} ${e.target.title}`),
        ...items.map((i) => `Answer: ${i.title}`),
      ];
      await writeFile(corpus, `${lines.join("\n")}\n`);
      await trainTokenizer(corpus, tokenizerDir, {
        vocabSize: config.tokenizer.vocab,
        overwrite: true,
      });
      await rm(corpus, { force: true });
      await markDone(tokenizerDir, tokKey);
    } else say("  unchanged, reused");
  } else say(`  ${tokenizerDir}`);

  // 3. Model.
  header("model");
  let modelDir = config.model.dir ?? "";
  const modelKey = hash({ model: config.model, tokKey });
  if (config.model.preset) {
    modelDir = join(out, "model");
    if ((await doneKey(modelDir)) !== modelKey) {
      const tok = await LmTokenizer.load(tokenizerDir);
      if (tok.eosId === null) throw new Error(`${tokenizerDir}: the tokenizer has no eos token`);
      const lmConfig = presetConfig(config.model.preset, {
        vocabSize: tok.vocabSize,
        bosTokenId: tok.bosId,
        eosTokenIds: [tok.eosId],
        padTokenId: tok.padId,
      });
      await saveCheckpoint(
        modelDir,
        { config: lmConfig, weights: initWeights(lmConfig, config.model.seed) },
        { tokenizerDir, overwrite: true },
      );
      await markDone(modelDir, modelKey);
    } else say("  unchanged, reused");
  } else say(`  ${modelDir}`);

  // 4. Stages and their evaluations.
  const stageKeys = new Map<string, string>();
  const rows: ResultRow[] = [];
  const evalExamples = (await loadExamples(prepared, config.evaluation.split)).slice(
    0,
    config.evaluation.maxExamples,
  );
  const baselineData = lazyBaselineData(prepared);
  for (const stage of config.stages) {
    const { name, init } = stage;
    const runDir = join(out, "stages", name);
    let key: string;
    let row: Omit<ResultRow, "evalSeconds" | "metrics">;
    let maxPromptTokens: number | undefined;
    let weightsDtype: TrainConfig["weightsDtype"] | undefined;
    if (isBaselineStage(stage)) {
      header(`stage ${name} (baseline ${stage.baseline})`);
      const done = await runBaselineStage(stage, runDir, {
        prepared,
        seed: config.seed,
        runtime,
        quiet,
        signal: options.signal,
        dataKey,
        hash,
        doneKey,
        markDone,
        say,
        data: baselineData,
      });
      key = done.key;
      const s = done.summary;
      row = {
        stage: name,
        kind: "baseline",
        objective: stage.baseline,
        init: null,
        train: {
          epochs: s.epochs,
          steps: s.steps,
          examples: s.examples,
          seconds: s.seconds,
          examplesPerSecond: s.examplesPerSecond,
          bestValidLoss: null,
          bestValidHr1: s.best.hr1,
        },
        curve: done.curve,
      };
    } else {
      const { name: _n, init: _in, objective: rawObjective, baseline: _b, ...overrides } = stage;
      const objective = rawObjective as TrainConfig["objective"];
      // itemInit names a SASRec stage of this experiment (checked by parseExperiment).
      const itemStage = (overrides as { itemInit?: string | null }).itemInit ?? null;
      const base = init ? await initFromRun(join(out, "stages", init)) : null;
      const trainConfig: TrainConfig = parseTrainConfig({
        seed: config.seed,
        ...config.training,
        ...overrides,
        objective,
        data: prepared,
        model: base?.model ?? modelDir,
        initAdapter: base?.initAdapter ?? null,
        initModel: base?.initModel ?? null,
        itemInit: itemStage && join(out, "stages", itemStage),
        lora: base
          ? base.lora
          : ((overrides as Partial<TrainConfig>).lora ?? settings.lora ?? null),
      });
      maxPromptTokens = trainConfig.maxPromptTokens;
      weightsDtype = trainConfig.weightsDtype;
      const { data: _d, model: _m, initAdapter: _a, initModel: _i, ...rest } = trainConfig;
      const { itemInit: _ii, ...keyed } = rest; // keyed on the SASRec stage, not its folder
      const sasrecKey = itemStage ? { itemInit: stageKeys.get(itemStage) } : {};
      key = hash({
        keyed,
        dataKey,
        modelKey,
        init: init ? stageKeys.get(init) : null,
        ...sasrecKey,
      });
      header(`stage ${name} (${objective.type}${init ? ` from ${init}` : ""})`);
      const summary = await trainLmStage(name, runDir, key, trainConfig, {
        quiet,
        runtime,
        signal: options.signal,
        say,
      });
      row = {
        stage: name,
        kind: "lm",
        objective: objective.type,
        init: init ?? null,
        train: {
          epochs:
            summary.trainExamples > 0
              ? Number((summary.examples / summary.trainExamples).toFixed(2))
              : null,
          steps: summary.steps,
          examples: summary.examples,
          seconds: summary.seconds,
          examplesPerSecond: summary.examplesPerSecond,
          bestValidLoss: summary.bestValidLoss,
          bestValidHr1: summary.bestValidHr1,
        },
        curve: await readCurve(join(runDir, "metrics.jsonl")),
      };
    }
    stageKeys.set(name, key);

    header(`evaluate ${name} on ${evalExamples.length} ${config.evaluation.split} examples`);
    const evalDir = join(out, "eval", name);
    const evalKey = hash({ evaluation: config.evaluation, key });
    let metrics: EvalMetrics;
    let evalSeconds: number;
    if ((await doneKey(evalDir)) === evalKey) {
      say("  unchanged, reused");
      const saved = JSON.parse(await readFile(join(evalDir, "metrics.json"), "utf8"));
      metrics = saved.metrics;
      evalSeconds = saved.seconds ?? 0;
    } else {
      const result = await evaluateDir(runDir, evalExamples, {
        data: prepared,
        split: config.evaluation.split,
        out: evalDir,
        force: true,
        name,
        checkpoint: "auto",
        runtime,
        protocols: config.evaluation.protocols,
        maxNewTokens: config.evaluation.maxNewTokens,
        batchSize: config.evaluation.batchSize,
        maxPromptTokens,
        weightsDtype,
        quiet,
      });
      metrics = result.metrics;
      evalSeconds = result.report.seconds ?? 0;
      await markDone(evalDir, evalKey);
    }
    rows.push({ ...row, evalSeconds, metrics });
  }

  const markdown = resultsMarkdown(config, rows);
  await writeFileAtomic(join(out, "results.md"), markdown);
  await writeFileAtomic(
    join(out, "results.json"),
    `${JSON.stringify({ name: config.name, config, rows }, null, 2)}\n`,
  );
  return { name: config.name, rows, markdown, dir: out };
}

/** Trains (or reuses, or continues) one language-model stage; the summary of its run. */
async function trainLmStage(
  name: string,
  runDir: string,
  key: string,
  trainConfig: TrainConfig,
  o: { quiet: boolean; runtime: Runtime; signal?: AbortSignal; say: (line: string) => void },
): Promise<TrainSummary> {
  if ((await doneKey(runDir)) === key) {
    o.say("  unchanged, reused");
    return JSON.parse(await readFile(join(runDir, "summary.json"), "utf8")) as TrainSummary;
  }
  const started = existsSync(join(runDir, "config.json"));
  const same =
    started &&
    (await readFile(join(runDir, "config.json"), "utf8").then(
      (t) => JSON.stringify(JSON.parse(t)) === JSON.stringify(trainConfig),
    ));
  if (started && !same) await rm(runDir, { recursive: true, force: true });
  if (started && same) o.say("  continuing the interrupted run");
  const summary = await train(trainConfig, runDir, {
    resume: started && same,
    quiet: o.quiet,
    runtime: o.runtime,
    signal: o.signal,
  });
  if (summary.interrupted)
    throw new Error(`stage ${name} was interrupted; run the experiment again to continue`);
  await markDone(runDir, key);
  return summary;
}

async function readCurve(file: string): Promise<{ step: number; loss: number }[]> {
  if (!existsSync(file)) return [];
  return (await readFile(file, "utf8"))
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l))
    .filter((m) => m.split === undefined)
    .map((m) => ({ step: m.step, loss: Number(m.loss.toFixed(5)) }));
}
