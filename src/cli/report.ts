// `prefrec report RUN|EXPERIMENT_DIR [--out DIR]`: charts (HTML with inline SVG, PNGs, Markdown).

import type { CommandUnknownOpts } from "@commander-js/extra-typings";
import { UserError } from "../io/errors.js";
import { writeReport } from "../report/index.js";
import { CliError } from "./errors.js";

/** Registers `prefrec report`. */
export function registerReport(program: CommandUnknownOpts): void {
  program
    .command("report")
    .description(
      "Write report.html (inline SVG), PNG charts and report.md for a training run or an experiment",
    )
    .argument(
      "<dir>",
      "training run directory (metrics.jsonl) or experiment directory (results.json)",
    )
    .option("--out <dir>", "output directory (default: DIR itself)")
    .action(async (dir, opts) => {
      try {
        const files = await writeReport(dir, { out: opts.out });
        process.stdout.write(`${files.html}\n${files.markdown}\n${files.pngs.length} PNG charts\n`);
      } catch (error) {
        if (error instanceof UserError) throw new CliError(error.message, error.exitCode);
        if ((error as NodeJS.ErrnoException).code === "ENOENT")
          throw new CliError((error as Error).message, 2);
        throw error;
      }
    });
}
