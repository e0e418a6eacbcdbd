// `prefrec data …`: synth, prepare, inspect, download.

import { type Command, InvalidArgumentError, Option } from "@commander-js/extra-typings";
import { DATASETS_HELP, downloadDataset } from "../data/download.js";
import { inspectDataset } from "../data/inspect.js";
import { DEFAULT_PREPARE, prepareDataset } from "../data/prepare.js";
import { SOURCES } from "../data/sources/index.js";
import { DEFAULT_SYNTH, writeSynth } from "../data/synth.js";
import { DOMAINS, type Domain } from "../data/types.js";
import { handleInterrupts } from "../io/interrupt.js";
import { CliError } from "./errors.js";

const int = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0)
    throw new InvalidArgumentError(`${name} must be a non-negative integer`);
  return n;
};
const float = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n)) throw new InvalidArgumentError(`${name} must be a number`);
  return n;
};

/**
 * Runs a data action. Data work has no stopping point, so Ctrl-C removes its temporary folders
 * and exits at once (io/interrupt.ts); its DataErrors are UserErrors, printed as one line.
 */
async function run(action: () => Promise<void>): Promise<void> {
  const interrupt = handleInterrupts({ mode: "exit" });
  try {
    await action();
  } finally {
    interrupt.dispose();
  }
}

/** Registers `prefrec data` and its subcommands. */
export function registerData(program: Command): void {
  const data = program
    .command("data")
    .description("Datasets: synthetic world, preparation, inspection, downloads");

  data
    .command("synth")
    .description(
      "Generate a deterministic synthetic world (catalog, drifting users, ratings, times, truth)",
    )
    .requiredOption("--out <dir>", "folder to write (interactions.csv, items.jsonl, truth.json)")
    .option("--users <n>", "number of users", int("--users"), DEFAULT_SYNTH.users)
    .option("--items <n>", "number of items", int("--items"), DEFAULT_SYNTH.items)
    .option("--seed <n>", "random seed", int("--seed"), DEFAULT_SYNTH.seed)
    .option(
      "--mean-length <n>",
      "mean interactions per user",
      int("--mean-length"),
      DEFAULT_SYNTH.meanLength,
    )
    .option("--dim <n>", "latent dimension", int("--dim"), DEFAULT_SYNTH.dim)
    .option("--genres <n>", "number of genres (at most 12)", int("--genres"), DEFAULT_SYNTH.genres)
    .option(
      "--drift <x>",
      "taste drift over a user's sequence",
      float("--drift"),
      DEFAULT_SYNTH.drift,
    )
    .option("--force", "replace a non-empty output folder", false)
    .action((o) =>
      run(async () => {
        const r = await writeSynth(
          o.out,
          {
            users: o.users,
            items: o.items,
            seed: o.seed,
            meanLength: o.meanLength,
            dim: o.dim,
            genres: o.genres,
            drift: o.drift,
          },
          o.force,
          true,
        );
        process.stdout.write(
          `wrote ${o.out}: ${r.users} users, ${r.items} items, ${r.interactions} interactions\n`,
        );
      }),
    );

  data
    .command("prepare")
    .description(
      "Prepare train/valid/test examples with prompts, candidates, negatives and RecPO signals",
    )
    .addOption(
      new Option("--source <name>", "source format").choices(SOURCES).makeOptionMandatory(),
    )
    .requiredOption("--path <path>", "input folder or file")
    .requiredOption("--out <dir>", "dataset folder to write")
    .option("--seed <n>", "random seed", int("--seed"), DEFAULT_PREPARE.seed)
    .addOption(
      new Option(
        "--split <mode>",
        "users (8:1:1 users) | last (leave-last-out) | time (global cut)",
      )
        .choices(["users", "last", "time"] as const)
        .default("users" as const),
    )
    .option("--user-ratio <a:b:c>", "train:valid:test user shares for --split users", "8:1:1")
    .option(
      "--time-valid <t>",
      "time split: start of valid (Unix seconds, or a quantile in (0,1))",
      float("--time-valid"),
      DEFAULT_PREPARE.timeValid,
    )
    .option(
      "--time-test <t>",
      "time split: start of test (Unix seconds, or a quantile in (0,1))",
      float("--time-test"),
      DEFAULT_PREPARE.timeTest,
    )
    .addOption(
      new Option("--dedup <mode>", "repeated user–item pairs: keep first | last | none")
        .choices(["first", "last", "none"] as const)
        .default("first" as const),
    )
    .option(
      "--rating-threshold <r>",
      "keep only interactions rated at least r (positives)",
      float("--rating-threshold"),
    )
    .option("--kcore <k>", "k-core: users and items with at least k interactions", int("--kcore"))
    .option("--user-core <k>", "k-core threshold for users", int("--user-core"))
    .option("--item-core <k>", "k-core threshold for items", int("--item-core"))
    .option(
      "--min-history <n>",
      "minimum history items per example",
      int("--min-history"),
      DEFAULT_PREPARE.minHistory,
    )
    .option(
      "--history <n>",
      "history window (most recent items)",
      int("--history"),
      DEFAULT_PREPARE.historyWindow,
    )
    .option(
      "--candidates <c>",
      "candidate list size (target + c−1 others)",
      int("--candidates"),
      DEFAULT_PREPARE.candidates,
    )
    .option(
      "--negatives <k>",
      "negatives per example, drawn from the candidates",
      int("--negatives"),
      DEFAULT_PREPARE.negatives,
    )
    .addOption(
      new Option("--negative-sampling <how>", "uniform (S-DPO) | popularity")
        .choices(["uniform", "popularity"] as const)
        .default("uniform" as const),
    )
    .addOption(
      new Option(
        "--candidate-sampler <how>",
        "uniform | sdpo (S-DPO's Python rule) | given (sdpo files); default per source",
      ).choices(["uniform", "sdpo", "given"] as const),
    )
    .option(
      "--follow-candidates <n>",
      "RecPO: up to n of the user's real later items join the candidates",
      int("--follow-candidates"),
      0,
    )
    .addOption(
      new Option("--chosen <how>", "target: next item | max-phi (RecPO)")
        .choices(["next", "max-phi"] as const)
        .default("next" as const),
    )
    .option(
      "--min-target-rating <r>",
      "RecPO: keep only examples whose target is rated at least r",
      float("--min-target-rating"),
    )
    .option("--max-train <n>", "cap on train examples (seeded subsample)", int("--max-train"))
    .option("--max-valid <n>", "cap on valid examples", int("--max-valid"))
    .option("--max-test <n>", "cap on test examples", int("--max-test"))
    .addOption(
      new Option("--domain <d>", "prompt domain (default from the source)").choices(DOMAINS),
    )
    .option(
      "--templates <file>",
      "prompt template file (one per line; [HistoryHere] [CansHere] [NumCans])",
    )
    .option("--show-ratings", 'render history as "Title | Rating: 4"', false)
    .option("--history-sep <s>", "separator between history items (\\n for one per line)", ", ")
    .option(
      "--negative-rating <r>",
      "RecPO default rating of unobserved items",
      float("--negative-rating"),
      DEFAULT_PREPARE.negativeRating,
    )
    .option(
      "--negative-position <p>",
      "RecPO default position of unobserved items",
      float("--negative-position"),
      DEFAULT_PREPARE.negativePosition,
    )
    .option(
      "--implicit-rating <r>",
      "rating of observed items when the source has none",
      float("--implicit-rating"),
      DEFAULT_PREPARE.implicitRating,
    )
    .option("--user <col>", "csv: user column (default: detected — user, user_id, uid, …)")
    .option("--item <col>", "csv: item column (default: detected — item, item_id, movie_id, …)")
    .option("--rating <col>", "csv: rating column (default: detected — rating, score, stars, …)")
    .option(
      "--time <col>",
      "csv: time column, Unix s/ms or ISO date (default: detected — time, timestamp, …; without one, file order)",
    )
    .option("--title-file <file>", "csv: titles (id,title); sdpo/llara: id2name.txt")
    .option("--meta <file>", "amazon/steam: metadata file with titles")
    .option("--skip-bad", "skip malformed rows (counted in the manifest) instead of failing", false)
    .option("--force", "replace a non-empty output folder", false)
    .option("--quiet", "no progress output", false)
    .action((o) =>
      run(async () => {
        const ratio = o.userRatio.split(":").map(Number);
        if (ratio.length !== 3 || ratio.some((x) => !Number.isFinite(x) || x < 0))
          throw new CliError(`--user-ratio must look like 8:1:1, got ${o.userRatio}`);
        const m = await prepareDataset({
          source: o.source,
          path: o.path,
          out: o.out,
          seed: o.seed,
          split: o.split,
          userRatio: ratio as [number, number, number],
          timeValid: o.timeValid,
          timeTest: o.timeTest,
          dedup: o.dedup,
          ratingThreshold: o.ratingThreshold,
          userCore: o.userCore ?? o.kcore ?? 0,
          itemCore: o.itemCore ?? o.kcore ?? 0,
          minHistory: o.minHistory,
          historyWindow: o.history,
          candidates: o.candidates,
          negatives: o.negatives,
          negativeSampling: o.negativeSampling,
          candidateSampler: o.candidateSampler,
          followCandidates: o.followCandidates,
          chosen: o.chosen,
          minTargetRating: o.minTargetRating,
          maxTrain: o.maxTrain,
          maxValid: o.maxValid,
          maxTest: o.maxTest,
          domain: o.domain as Domain | undefined,
          templates: o.templates,
          showRatings: o.showRatings,
          historySeparator: o.historySep.replaceAll("\\n", "\n"),
          negativeRating: o.negativeRating,
          negativePosition: o.negativePosition,
          implicitRating: o.implicitRating,
          columns:
            o.source === "csv"
              ? { user: o.user, item: o.item, rating: o.rating, time: o.time }
              : undefined,
          titleFile: o.titleFile,
          metaFile: o.meta,
          skipBad: o.skipBad,
          force: o.force,
          quiet: o.quiet,
        });
        process.stdout.write(
          `wrote ${o.out}: train ${m.counts.train}, valid ${m.counts.valid}, test ${m.counts.test} examples; ${m.items} items${m.skippedBad.total ? `; skipped ${m.skippedBad.total} bad rows` : ""}\n`,
        );
      }),
    );

  data
    .command("inspect")
    .description("Print counts, history-length and popularity summaries and a few rendered prompts")
    .argument("<dir>", "prepared dataset folder")
    .option("--samples <n>", "prompts shown per split", int("--samples"), 2)
    .option("--no-verify", "skip the sha256 check of the files (counts are always checked)")
    .action((dir, o) =>
      run(async () => {
        process.stdout.write(`${await inspectDataset(dir, o.samples, { verify: o.verify })}\n`);
      }),
    );

  data
    .command("download")
    .description(`Download a public dataset from its official site (${DATASETS_HELP})`)
    .argument("<name>", "dataset name")
    .option("--dir <dir>", "where to put it (a subfolder per dataset)", "data")
    .option("--category <name>", "amazon: review category, e.g. Books, Video_Games")
    .option("--quiet", "no progress output", false)
    .action((name, o) =>
      run(async () => {
        const r = await downloadDataset(name, o.dir, { category: o.category, quiet: o.quiet });
        process.stdout.write(
          `downloaded into ${r.dir}: ${r.files.length} files (sha256 in SHA256SUMS)\n`,
        );
      }),
    );
}
