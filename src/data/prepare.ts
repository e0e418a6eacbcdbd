// `data prepare`: source → (DuckDB filters) → splits → examples → a dataset directory, atomically.

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sweepStaleTemps } from "../io/atomic.js";
import { removeOnInterrupt } from "../io/interrupt.js";
import { note } from "../io/progress.js";
import { badRowPolicy, DataError } from "./errors.js";
import type { CandidateSampler, ExampleOptions, NegativeSampling, SplitMode } from "./examples.js";
import { writeDirAtomically } from "./lines.js";
import type { LoadOptions } from "./log.js";
import type { Manifest } from "./manifest.js";
import { planExamples, writeDataset } from "./plan.js";
import { builtinTemplatePath, DEFAULT_PROMPT_STYLE, loadTemplates } from "./prompts.js";
import { DEFAULT_SIGNALS } from "./signals.js";
import { loadSource } from "./sources/index.js";
import { DOMAINS, type Domain } from "./types.js";

/** All options of `data prepare`; every field is recorded in the manifest. */
export interface PrepareOptions {
  source: string;
  path: string;
  out: string;
  seed: number;
  split: SplitMode;
  userRatio: [number, number, number];
  timeValid: number;
  timeTest: number;
  dedup: "first" | "last" | "none";
  ratingThreshold?: number;
  userCore: number;
  itemCore: number;
  minHistory: number;
  historyWindow: number;
  candidates: number;
  negatives: number;
  negativeSampling: NegativeSampling;
  /** Default: "given" for sdpo, "sdpo" for llara, "uniform" for logs. */
  candidateSampler?: CandidateSampler;
  followCandidates: number;
  chosen: "next" | "max-phi";
  /** RecPO: keep only examples whose target is rated at least this (examples, not interactions). */
  minTargetRating?: number;
  maxTrain?: number;
  maxValid?: number;
  maxTest?: number;
  domain?: Domain;
  templates?: string;
  showRatings: boolean;
  historySeparator: string;
  negativeRating: number;
  negativePosition: number;
  implicitRating: number;
  columns?: { user?: string; item?: string; rating?: string; time?: string };
  titleFile?: string;
  metaFile?: string;
  skipBad: boolean;
  force: boolean;
  quiet: boolean;
}

export const DEFAULT_PREPARE: Omit<PrepareOptions, "source" | "path" | "out"> = {
  seed: 42,
  split: "users",
  userRatio: [8, 1, 1],
  timeValid: 0.8,
  timeTest: 0.9,
  dedup: "first",
  userCore: 0,
  itemCore: 0,
  minHistory: 3,
  historyWindow: 10,
  candidates: 20,
  negatives: 3,
  negativeSampling: "uniform",
  followCandidates: 0,
  chosen: "next",
  showRatings: false,
  historySeparator: ", ",
  negativeRating: DEFAULT_SIGNALS.negativeRating,
  negativePosition: DEFAULT_SIGNALS.negativePosition,
  implicitRating: DEFAULT_SIGNALS.implicitRating,
  skipBad: false,
  force: false,
  quiet: false,
};

/** Names of prepare's scratch folders in the system temp folder (with the owner's pid). */
const WORK_NAME = /^prefrec-prepare-(\d+)-\w+$/;

const nonNegInt = (v: number, name: string) => {
  if (!Number.isInteger(v) || v < 0)
    throw new DataError(`${name} must be a non-negative integer, got ${v}`);
};

/** Prepares a dataset directory; returns its manifest. Fails without leaving a partial directory. */
export async function prepareDataset(
  options: Partial<PrepareOptions> & Pick<PrepareOptions, "source" | "path" | "out">,
): Promise<Manifest> {
  const o: PrepareOptions = { ...DEFAULT_PREPARE, ...options };
  for (const [k, v] of Object.entries({
    "--seed": o.seed,
    "--min-history": o.minHistory,
    "--candidates": o.candidates,
    "--negatives": o.negatives,
    "--follow-candidates": o.followCandidates,
    "--user-core": o.userCore,
    "--item-core": o.itemCore,
  }))
    nonNegInt(v, k);
  if (!Number.isInteger(o.historyWindow) || o.historyWindow < 1)
    throw new DataError(`--history must be a positive integer, got ${o.historyWindow}`);
  if (o.domain && !DOMAINS.includes(o.domain))
    throw new DataError(`--domain must be one of ${DOMAINS.join(", ")}, got ${o.domain}`);
  const policy = badRowPolicy(o.skipBad);
  const loadOpts: LoadOptions = {
    path: o.path,
    policy,
    columns: o.columns,
    titleFile: o.titleFile,
    metaFile: o.metaFile,
    domain: o.domain,
    quiet: o.quiet,
  };
  const started = performance.now();
  const say = (m: string) =>
    note(`${m} (${((performance.now() - started) / 1000).toFixed(1)} s)`, o.quiet);
  say(`loading ${o.source} from ${o.path}`);
  const loaded = await loadSource(o.source, loadOpts);
  say(
    loaded.kind === "log"
      ? `loaded ${loaded.log.length} interactions, ${loaded.log.userIds.length} users, ${loaded.log.itemIds.length} items`
      : `loaded ${loaded.splits.train.length + loaded.splits.valid.length + loaded.splits.test.length} ready-made examples, ${loaded.items.length} items`,
  );
  const domain = o.domain ?? loaded.domain;
  const sampler: CandidateSampler =
    o.candidateSampler ?? (loaded.kind === "examples" ? loaded.defaultSampler : "uniform");
  if (sampler === "given" && loaded.kind !== "examples")
    throw new DataError(
      "--candidate-sampler given needs a source with stored candidate lists (sdpo)",
    );
  const templateFile = o.templates ?? builtinTemplatePath(domain);
  const templates = await loadTemplates(domain, templateFile);
  const exampleOpts: ExampleOptions = {
    seed: o.seed,
    split: o.split,
    userRatio: o.userRatio,
    timeValid: o.timeValid,
    timeTest: o.timeTest,
    minHistory: o.minHistory,
    historyWindow: o.historyWindow,
    numCandidates: o.candidates,
    numNegatives: o.negatives,
    negativeSampling: o.negativeSampling,
    candidateSampler: sampler,
    followCandidates: o.followCandidates,
    chosen: o.chosen,
    maxExamples: { train: o.maxTrain, valid: o.maxValid, test: o.maxTest },
    signals: {
      negativeRating: o.negativeRating,
      negativePosition: o.negativePosition,
      implicitRating: o.implicitRating,
    },
    style: {
      ...DEFAULT_PROMPT_STYLE,
      showRatings: o.showRatings,
      historySeparator: o.historySeparator,
    },
    templates,
  };
  // DuckDB's scratch folder: named with our pid so a later run can sweep it if we are killed.
  await sweepStaleTemps(tmpdir(), WORK_NAME);
  const work = await mkdtemp(join(tmpdir(), `prefrec-prepare-${process.pid}-`));
  const forget = removeOnInterrupt(work);
  try {
    const plan = await planExamples(loaded, o, exampleOpts, work);
    say(
      `filtered and split: ${plan.sizes.train} train, ${plan.sizes.valid} valid, ${plan.sizes.test} test positions`,
    );
    let manifest: Manifest | undefined;
    await writeDirAtomically(
      o.out,
      async (tmp) => {
        manifest = await writeDataset(
          tmp,
          plan,
          o,
          exampleOpts,
          loaded,
          domain,
          templateFile,
          policy,
        );
      },
      o.force,
    );
    say(`wrote ${o.out}`);
    return manifest as Manifest;
  } finally {
    await rm(work, { recursive: true, force: true });
    forget();
  }
}

export { DATASET_FORMAT, type Manifest } from "./manifest.js";
