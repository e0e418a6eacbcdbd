// `data prepare`: source → (DuckDB filters) → splits → examples → a dataset directory, atomically.

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sweepStaleTemps } from "../io/atomic.js";
import { removeOnInterrupt } from "../io/interrupt.js";
import { note } from "../io/progress.js";
import { badRowPolicy, DataError } from "./errors.js";
import type { CandidateSampler, ExampleOptions } from "./examples.js";
import { writeDirAtomically } from "./lines.js";
import type { LoadOptions } from "./log.js";
import type { Manifest } from "./manifest.js";
import { DEFAULT_PREPARE, type PrepareOptions, parsePrepareOptions } from "./options.js";
import { planExamples, writeDataset } from "./plan.js";
import { builtinTemplatePath, DEFAULT_PROMPT_STYLE, loadTemplates } from "./prompts.js";
import { loadSource } from "./sources/index.js";

export { DEFAULT_PREPARE, type PrepareOptions } from "./options.js";

/** Names of prepare's scratch folders in the system temp folder (with the owner's pid). */
const WORK_NAME = /^prefrec-prepare-(\d+)-\w+$/;

/** Prepares a dataset directory; returns its manifest. Fails without leaving a partial directory. */
export async function prepareDataset(
  options: Partial<PrepareOptions> & Pick<PrepareOptions, "source" | "path" | "out">,
): Promise<Manifest> {
  // Validated before any data is read; the key order (defaults first) is the manifest's.
  const o: PrepareOptions = { ...DEFAULT_PREPARE, ...options, ...parsePrepareOptions(options) };
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
