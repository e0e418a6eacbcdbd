// `prefrec train sasrec|gru4rec|caser|pop`: the classic baselines over the shared baseline trainer.

import { type CommandUnknownOpts, Option } from "@commander-js/extra-typings";
import { readRunFile } from "../baselines/checkpoint.js";
import { BASELINE_KINDS, type BaselineKind, parseBaselineConfig } from "../baselines/config.js";
import { readConfigFile } from "../io/config-file.js";
import { handleInterrupts } from "../io/interrupt.js";
import { trainBaseline } from "../train/baselines.js";
import { parseInteger, parseNumber } from "./args.js";
import { CliError } from "./errors.js";

const DESCRIPTIONS: Record<BaselineKind, string> = {
  pop: "Pop: candidates ranked by training-set popularity",
  sasrec: "SASRec: causal self-attention over item ids (Kang & McAuley 2018)",
  gru4rec: "GRU4Rec: a GRU over item ids (Hidasi et al. 2016)",
  caser: "Caser: convolutions over the last L items (Tang & Wang 2018)",
};

/** Option flag → config key, for flags and config files alike. */
const KEYS = [
  "loss",
  "hidden",
  "blocks",
  "heads",
  "dropout",
  "maxLen",
  "window",
  "hFilters",
  "vFilters",
  "lr",
  "beta2",
  "weightDecay",
  "batchSize",
  "epochs",
  "patience",
  "validExamples",
  "seed",
  "threads",
] as const;

/** Registers the baseline commands under `prefrec train`. */
export function registerBaselineTrain(group: CommandUnknownOpts): void {
  for (const kind of BASELINE_KINDS) {
    group
      .command(kind)
      .description(DESCRIPTIONS[kind])
      .option("--data <dir>", "prepared dataset directory (prefrec data prepare)")
      .option("--out <run>", "run directory to write")
      .option("--resume <run>", "continue an interrupted run exactly (its config.json is used)")
      .option("--config <file>", "YAML or JSON file with any of the settings below (flags win)")
      .addOption(new Option("--loss <name>", "SASRec loss (default ce)").choices(["ce", "bce"]))
      .option("--hidden <n>", "embedding/hidden size (default 64)", parseInteger)
      .option("--blocks <n>", "SASRec attention blocks (default 2)", parseInteger)
      .option("--heads <n>", "SASRec attention heads (default 1)", parseInteger)
      .option("--dropout <x>", "dropout rate (default 0.2)", parseNumber)
      .option(
        "--max-len <n>",
        "input length (default 0: the longest training history)",
        parseInteger,
      )
      .option("--window <n>", "Caser: last L items (default 5)", parseInteger)
      .option("--h-filters <n>", "Caser: horizontal filters per height (default 16)", parseInteger)
      .option("--v-filters <n>", "Caser: vertical filters (default 4)", parseInteger)
      .option("--lr <x>", "Adam learning rate (default 1e-3)", parseNumber)
      .option("--beta2 <x>", "Adam β2 (default 0.98)", parseNumber)
      .option("--weight-decay <x>", "decoupled weight decay (default 0)", parseNumber)
      .option("--batch-size <n>", "training windows per step (default 128)", parseInteger)
      .option("--epochs <n>", "most epochs (default 200)", parseInteger)
      .option(
        "--patience <n>",
        "stop after n epochs without a better valid HR@1 (default 10; 0: never)",
        parseInteger,
      )
      .option(
        "--valid-examples <n>",
        "validation examples per epoch (default 0: all)",
        parseInteger,
      )
      .option(
        "--seed <n>",
        "seed for init, data order, negatives and dropout (default 0)",
        parseInteger,
      )
      .option("--threads <n>", "intra-op threads (default: all cores)", parseInteger)
      .option("--quiet", "no progress output")
      .action(async (opts) => {
        const flags = opts as Record<string, unknown>;
        const runDir = (flags.resume ?? flags.out) as string | undefined;
        if (!runDir) throw new CliError("--out <run> is required", 2);
        let config: ReturnType<typeof parseBaselineConfig>;
        if (flags.resume) {
          // A resumed run continues with its own config.json: other settings would be ignored.
          const fixed = Object.keys(flags).filter(
            (k) => flags[k] !== undefined && !["resume", "quiet"].includes(k),
          );
          if (fixed.length > 0)
            throw new CliError(
              `--resume continues ${runDir} with the settings in its config.json; these cannot change on resume: ${fixed.map((k) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`).join(", ")} (may change: --quiet)`,
              2,
            );
          config = (await readRunFile(runDir)).config;
          if (config.kind !== kind) {
            throw new CliError(
              `${runDir} is a ${config.kind} run; resume it with \`prefrec train ${config.kind} --resume\``,
              2,
            );
          }
        } else {
          const file = flags.config ? await readConfigFile(flags.config as string) : {};
          const raw: Record<string, unknown> = { ...file, kind };
          for (const k of KEYS) if (flags[k] !== undefined) raw[k] = flags[k];
          if (flags.data !== undefined) raw.data = flags.data;
          if (raw.data === undefined) throw new CliError("--data <dir> is required", 2);
          config = flags.config
            ? parseBaselineConfig(raw, flags.config as string)
            : parseBaselineConfig(raw, `train ${kind}`, true);
        }
        const interrupt = handleInterrupts({ mode: "stop", message: "stopping after this step" });
        const s = await trainBaseline(config, {
          out: runDir,
          resume: Boolean(flags.resume),
          quiet: Boolean(flags.quiet),
          signal: interrupt.signal,
        }).finally(() => interrupt.dispose());
        process.stdout.write(
          `${s.interrupted ? "interrupted" : "done"}: ${runDir}, ${s.kind}, ${s.epochs} epochs, ${s.steps} steps in ${s.seconds.toFixed(1)} s` +
            (s.best.hr1 !== null
              ? `; best valid HR@1 ${s.best.hr1.toFixed(4)} (epoch ${s.best.epoch})`
              : "") +
            "\n",
        );
        if (s.interrupted) process.exitCode = 130;
      });
  }
}
