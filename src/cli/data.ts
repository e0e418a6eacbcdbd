// `prefrec data …`: synth, prepare, inspect, download.
import { type Command, InvalidArgumentError, Option } from "@commander-js/extra-typings";
import { DATASETS_HELP, downloadDataset } from "../data/download.js";
import { inspectDataset } from "../data/inspect.js";
import { parsePrepareOptions, prepareOptionsSchema, synthOptionsSchema } from "../data/options.js";
import { prepareDataset } from "../data/prepare.js";
import { writeSynth } from "../data/synth.js";
import { handleInterrupts } from "../io/interrupt.js";
import { parseOptions } from "../io/schema.js";
import { schemaOptions } from "./options.js";

const int = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0)
    throw new InvalidArgumentError(`${name} must be a non-negative integer`);
  return n;
};

/** The object without its undefined values (flags that were not given). */
function dropUndefined<T extends Record<string, unknown>>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

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

  const synth = data
    .command("synth")
    .description(
      "Generate a deterministic synthetic world (catalog, drifting users, ratings, times, truth)",
    )
    .requiredOption(
      "--out <dir>",
      "folder to write (interactions.csv, items.jsonl, truth.json) (required)",
    )
    .option("--force", "replace a non-empty output folder", false);
  const { users, items, seed, meanLength, dim, genres, drift } = synthOptionsSchema.shape;
  for (const option of schemaOptions({ users, items, seed, meanLength, dim, genres, drift }))
    synth.addOption(option);
  synth.action((flags: Record<string, unknown>) =>
    run(async () => {
      const { out, force, ...rest } = flags;
      const options = parseOptions(synthOptionsSchema, dropUndefined(rest), "data synth");
      const r = await writeSynth(out as string, options, Boolean(force), true);
      process.stdout.write(
        `wrote ${out}: ${r.users} users, ${r.items} items, ${r.interactions} interactions\n`,
      );
    }),
  );

  const prepare = data
    .command("prepare")
    .description(
      "Prepare train/valid/test examples with prompts, candidates, negatives and RecPO signals",
    );
  const { source, path, out, ...settings } = prepareOptionsSchema.shape;
  const { columns: _columns, ...flagSettings } = settings;
  for (const option of [
    ...schemaOptions({ source, path, out }, undefined, {
      source: { required: true },
      path: { required: true, arg: "path" },
      out: { required: true, arg: "dir" },
    }),
    ...schemaOptions(flagSettings, undefined, {
      userRatio: { arg: "a:b:c", shownDefault: "8:1:1" },
      historyWindow: { flag: "history" },
      historySeparator: { flag: "history-sep", arg: "s", shownDefault: '", "' },
      metaFile: { flag: "meta", arg: "file" },
      titleFile: { arg: "file" },
      templates: { arg: "file" },
    }),
    new Option("--kcore <k>", "k-core: users and items with at least k interactions").argParser(
      int("--kcore"),
    ),
    new Option("--user <col>", "csv: user column (default: user)"),
    new Option("--item <col>", "csv: item column (default: item)"),
    new Option("--rating <col>", "csv: rating column"),
    new Option("--time <col>", "csv: time column (Unix seconds, ms, or ISO date)"),
  ])
    prepare.addOption(option);
  prepare.action((flags: Record<string, unknown>) =>
    run(async () => {
      const { kcore, user, item, rating, time, history, historySep, meta, ...rest } = flags;
      const input = {
        ...rest,
        userCore: rest.userCore ?? kcore,
        itemCore: rest.itemCore ?? kcore,
        historyWindow: history,
        historySeparator:
          historySep === undefined ? undefined : (historySep as string).replaceAll("\\n", "\n"),
        metaFile: meta,
        columns:
          rest.source === "csv"
            ? { user: user ?? "user", item: item ?? "item", rating, time }
            : undefined,
      };
      // Checked here, before any data is read (prepareDataset checks again for library callers).
      const options = parsePrepareOptions(dropUndefined(input));
      const m = await prepareDataset(options);
      process.stdout.write(
        `wrote ${options.out}: train ${m.counts.train}, valid ${m.counts.valid}, test ${m.counts.test} examples; ${m.items} items${m.skippedBad.total ? `; skipped ${m.skippedBad.total} bad rows` : ""}\n`,
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
