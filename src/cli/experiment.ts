// `prefrec experiment CONFIG` and `prefrec demo`: whole comparisons from one config file.

import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { CommandUnknownOpts } from "@commander-js/extra-typings";
import { loadExperiment } from "../experiment/config.js";
import { runExperimentSeeds } from "../experiment/seeds.js";
import { checkWritable } from "../io/atomic.js";
import { handleInterrupts } from "../io/interrupt.js";
import { writeReport } from "../report/index.js";
import { parseSeedList } from "./args.js";
import { CliError } from "./errors.js";

const packageRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");

async function run(
  file: string,
  opts: { out?: string; dataRoot: string; quiet?: boolean; seeds?: number[] },
): Promise<void> {
  const config = await loadExperiment(file, resolve(opts.dataRoot), opts.seeds);
  const out = opts.out ?? join("runs", config.name);
  await checkWritable(join(out, "results.json"));
  const interrupt = handleInterrupts({
    mode: "stop",
    message: "stopping after this training step; run the same command again to continue",
  });
  try {
    const t0 = performance.now();
    const result = await runExperimentSeeds(config, {
      out,
      quiet: opts.quiet,
      signal: interrupt.signal,
    });
    // The report is written here, not by the runner: report/ sits above experiment/ in the layers.
    const report = await writeReport(out);
    process.stdout.write(
      `${result.markdown}\nResults: ${join(out, "results.md")} and results.json; charts: ${report.html} (${((performance.now() - t0) / 1000).toFixed(0)} s)\n`,
    );
  } catch (error) {
    if (interrupt.signal.aborted)
      throw new CliError("interrupted; run the same command again to continue", 130);
    throw error;
  } finally {
    interrupt.dispose();
  }
}

/** Registers `prefrec experiment` and `prefrec demo`. */
export function registerExperiment(program: CommandUnknownOpts): void {
  program
    .command("experiment")
    .description(
      "Run an experiment file: dataset → tokenizer → model → stages → evaluation (finished steps are reused)",
    )
    .argument("<config>", "YAML or JSON experiment file (see configs/)")
    .option("--out <dir>", "output directory (default runs/NAME)")
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the config's literal placeholder
    .option("--data-root <dir>", "what ${dataRoot} in the config stands for", "../shared/data")
    .option(
      "--seeds <list>",
      "run once per seed (e.g. 0,1,2) into OUT/seed-<s>/, then mean ± std; replaces the file's seeds, seed and model.seed",
      parseSeedList,
    )
    .option("--quiet", "no progress output")
    .action((file, opts) => run(file, opts));
  program
    .command("demo")
    .description(
      "The synthetic-world comparison of SFT, DPO, S-DPO and RecPO with Pop and SASRec (configs/demo.yaml)",
    )
    .option("--out <dir>", "output directory", "runs/demo")
    .option("--quiet", "no progress output")
    .action((opts) => run(join(packageRoot, "configs", "demo.yaml"), { ...opts, dataRoot: "." }));
}
