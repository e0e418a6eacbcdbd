// `prefrec eval RUN|MODEL --data DIR`: every protocol on the same examples, reports written.

import { join } from "node:path";
import { type CommandUnknownOpts, InvalidArgumentError, Option } from "@commander-js/extra-typings";
import { loadExamples } from "../data/index.js";
import { evaluate, PROTOCOLS, type Protocol } from "../eval/evaluate.js";
import { writeEvalReport } from "../eval/report.js";
import { Runtime } from "../graph/index.js";
import { writeFileAtomic } from "../io/atomic.js";
import type { WeightsDtype } from "../model/checkpoint.js";
import { loadLmConfig } from "../model/config.js";
import { LanguageModel } from "../model/lm.js";
import { planRunMemory } from "../model/run-memory.js";
import { LmTokenizer } from "../model/tokenizer.js";
import { resolveModel } from "../train/init.js";
import { startStepProgress } from "../train/progress.js";
import { integerAtLeast } from "./args.js";
import { CliError } from "./errors.js";
import { modelCliError, weightsDtypeOption } from "./model.js";

const count = integerAtLeast(0);
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
      new Option("--checkpoint <which>", "run checkpoint")
        .choices(["best", "last"])
        .default("best"),
    )
    .option("--adapter <dir>", "PEFT adapter for a model directory")
    .option("--max-examples <n>", "evaluate only the first n examples", count)
    .option("--max-new-tokens <n>", "generation budget (S-DPO: 20)", count, 20)
    .option("--max-prompt-tokens <n>", "longer prompts keep their end (default 512)", count, 512)
    .option("--batch-size <n>", "prompts per batch", count, 8)
    .option("--out <dir>", "report directory (default: TARGET/eval-SPLIT)")
    .addOption(
      new Option("--provider <name>", "execution provider").choices(["cpu", "cuda"]).default("cpu"),
    )
    .option("--threads <n>", "intra-op threads", count)
    .addOption(weightsDtypeOption())
    .option("--json", "print metrics.json instead of the Markdown table")
    .option("--quiet", "no progress output")
    .action(async (target, opts) => {
      try {
        const resolved = await resolveModel(target, opts.checkpoint as "best" | "last");
        const adapterDir = opts.adapter ?? resolved.adapterDir;
        const runtime = new Runtime({
          provider: opts.provider as "cpu" | "cuda",
          threads: opts.threads,
        });
        // Memory: estimated from the headers (a run that cannot fit stops here), measured at the end.
        const weightsDtype = opts.weightsDtype as WeightsDtype;
        const memory = await planRunMemory(
          resolved.modelDir,
          await loadLmConfig(resolved.modelDir),
          weightsDtype,
          {
            batch: opts.batchSize,
            tokens: opts.maxPromptTokens + 200,
            predicted: 200,
            training: false,
          },
        );
        if (!opts.quiet) process.stderr.write(`${memory.line}\n`);
        const lm = await LanguageModel.load(resolved.modelDir, {
          adapter: adapterDir ?? undefined,
          runtime,
          weightsDtype,
        });
        const tokenizer = await LmTokenizer.load(resolved.tokenizerDir);
        let examples = await loadExamples(opts.data, opts.split as "train" | "valid" | "test");
        if (opts.maxExamples !== undefined) examples = examples.slice(0, opts.maxExamples);
        if (examples.length === 0)
          throw new CliError(`${opts.data}: the ${opts.split} split has no examples`);
        const protocols = opts.protocols ?? [...PROTOCOLS];
        const bars = new Map(
          protocols.map((p) => [
            p,
            startStepProgress(`eval ${p}`, examples.length, 0, Boolean(opts.quiet)),
          ]),
        );
        const { metrics, predictions } = await evaluate(lm, tokenizer, examples, {
          protocols,
          maxNewTokens: opts.maxNewTokens,
          maxPromptTokens: opts.maxPromptTokens,
          batchSize: opts.batchSize,
          onProgress: (p, done, total) => {
            bars.get(p)?.update(done, Number.NaN);
            if (done === total) bars.get(p)?.done();
          },
        });
        const out = opts.out ?? join(target, `eval-${opts.split}`);
        const md = await writeEvalReport(
          out,
          {
            name: target,
            model: { dir: resolved.modelDir, adapter: adapterDir },
            data: opts.data,
            split: opts.split,
            maxNewTokens: opts.maxNewTokens,
            metrics,
          },
          predictions,
        );
        const record = memory.record();
        await writeFileAtomic(join(out, "memory.json"), `${JSON.stringify(record, null, 2)}\n`);
        if (!opts.quiet)
          process.stderr.write(`memory: measured peak ${record.measuredPeakRssGib} GiB RSS\n`);
        process.stdout.write(opts.json ? `${JSON.stringify(metrics)}\n` : md);
      } catch (error) {
        if (
          error instanceof Error &&
          /neither a training run|no .* checkpoint|no checkpoint/.test(error.message)
        )
          throw new CliError(error.message);
        throw modelCliError(error);
      }
    });
}
