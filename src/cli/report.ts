// `prefrec report RUN|EXPERIMENT_DIR [--out DIR]`: charts (HTML with inline SVG, PNGs, Markdown).

import type { CommandUnknownOpts } from "@commander-js/extra-typings";
import { writeReport } from "../report/index.js";

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
      // Errors (a UserError, or an OS error naming its path) are printed by cli/failure.ts.
      const files = await writeReport(dir, { out: opts.out });
      process.stdout.write(`${files.html}\n${files.markdown}\n${files.pngs.length} PNG charts\n`);
    });
}
