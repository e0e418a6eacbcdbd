// `prefrec eval RUN|MODEL --data DIR`: every protocol on the same examples, reports written.

import { join } from "node:path";
import { type CommandUnknownOpts, InvalidArgumentError, Option } from "@commander-js/extra-typings";
import { loadExamples } from "../data/index.js";
import { PROTOCOLS, type Protocol } from "../eval/evaluate.js";
import { checkTarget } from "../eval/load.js";
import { checkReportDir } from "../eval/report.js";
import { evaluateDir } from "../eval/run.js";
import { Runtime } from "../graph/index.js";
import { integerAtLeast } from "./args.js";

const count = integerAtLeast(0);
const positive = integerAtLeast(1);
const protocolList = (value: string): Protocol[] => {
  const list = value.split(",").map((s) => s.trim());
  for (const p of list) {
    if (!(PROTOCOLS as readonly string[]).includes(p)) {
      throw new InvalidArgumentError(`unknown protocol "${p}" (${PROTOCOLS.join(", ")})`);
    }
  }
  return list as Protocol[];
};

/** Registers `prefrec eval`. */
export function registerEval(program: CommandUnknownOpts): void {
  program
    .command("eval")
    .description(
      "Evaluate a training run (its best checkpoint) or a model directory on a prepared split",
    )
    .argument("<target>", "run directory or model directory")
    .requiredOption("--data <dir>", "prepared dataset directory")
    .addOption(
      new Option("--split <name>", "split to evaluate")
        .choices(["train", "valid", "test"])
        .default("test"),
    )
    .option(
      "--protocols <list>",
      `comma-separated: ${PROTOCOLS.join(",")} (default: all)`,
      protocolList,
    )
    .addOption(
      new Option(
        "--checkpoint <which>",
        "run checkpoint (default: best, else last when the run never validated)",
      ).choices(["best", "last"]),
    )
    .option("--adapter <dir>", "PEFT adapter for a model directory")
    .option("--max-examples <n>", "evaluate only the first n examples", positive)
    .option("--max-new-tokens <n>", "generation budget (S-DPO: 20)", count, 20)
    .option("--max-prompt-tokens <n>", "longer prompts keep their end", positive, 512)
    .option("--batch-size <n>", "prompts per batch", positive, 8)
    .option("--out <dir>", "report directory (default: TARGET/eval-SPLIT)")
    .option("--force", "replace an existing report in --out")
    .addOption(
      new Option("--provider <name>", "execution provider").choices(["cpu", "cuda"]).default("cpu"),
    )
    .option("--threads <n>", "intra-op threads", positive)
    .option("--json", "print metrics.json instead of the Markdown table")
    .option("--quiet", "no progress output")
    .option("--no-verify", "skip the dataset's sha256 check (its counts are always checked)")
    .action(async (target, opts) => {
      const out = opts.out ?? join(target, `eval-${opts.split}`);
      // Cheap checks first: a bad target or report folder fails before any data is read.
      await checkTarget(target);
      await checkReportDir(out, Boolean(opts.force));
      let examples = await loadExamples(opts.data, opts.split as "train" | "valid" | "test", {
        verify: opts.verify,
      });
      if (opts.maxExamples !== undefined) examples = examples.slice(0, opts.maxExamples);
      const { metrics, markdown } = await evaluateDir(target, examples, {
        data: opts.data,
        split: opts.split,
        out,
        force: Boolean(opts.force),
        checkpoint: (opts.checkpoint as "best" | "last" | undefined) ?? "auto",
        adapter: opts.adapter,
        runtime: new Runtime({
          provider: opts.provider as "cpu" | "cuda",
          threads: opts.threads,
        }),
        protocols: opts.protocols,
        maxNewTokens: opts.maxNewTokens,
        maxPromptTokens: opts.maxPromptTokens,
        batchSize: opts.batchSize,
        quiet: Boolean(opts.quiet),
      });
      process.stdout.write(opts.json ? `${JSON.stringify(metrics)}\n` : markdown);
    });
}
