// `prefrec eval RUN|MODEL --data DIR`: every protocol on the same examples, reports written.

import { join } from "node:path";
import { type CommandUnknownOpts, Option } from "@commander-js/extra-typings";
import { loadExamples } from "../data/index.js";
import { evaluate } from "../eval/evaluate.js";
import { evalOptionsSchema } from "../eval/options.js";
import { writeEvalReport } from "../eval/report.js";
import { Runtime } from "../graph/index.js";
import { runtimeOptionsSchema } from "../graph/options.js";
import { UserError } from "../io/errors.js";
import { parseOptions } from "../io/schema.js";
import { LanguageModel } from "../model/lm.js";
import { LmTokenizer } from "../model/tokenizer.js";
import { resolveModel } from "../train/init.js";
import { startStepProgress } from "../train/progress.js";
import { CliError } from "./errors.js";
import { modelCliError } from "./model.js";
import { providerOption, schemaOptions, threadsOption } from "./options.js";

/** Registers `prefrec eval`. */
export function registerEval(program: CommandUnknownOpts): void {
  const command = program
    .command("eval")
    .description(
      "Evaluate a training run (its best checkpoint) or a model directory on a prepared split",
    )
    .argument("<target>", "run directory or model directory")
    .requiredOption("--data <dir>", "prepared dataset directory (required)")
    .addOption(
      new Option("--checkpoint <which>", "run checkpoint")
        .choices(["best", "last"])
        .default("best"),
    )
    .option("--adapter <dir>", "PEFT adapter for a model directory")
    .option("--out <dir>", "report directory (default: TARGET/eval-SPLIT)")
    .option("--json", "print metrics.json instead of the Markdown table")
    .option("--quiet", "no progress output");
  for (const option of [
    ...schemaOptions(evalOptionsSchema.shape),
    threadsOption(),
    providerOption(),
  ])
    command.addOption(option);
  command.action(async (target, flags: Record<string, unknown>) => {
    try {
      const { data, checkpoint, adapter, out: outFlag, json, quiet, ...rest } = flags;
      const { threads, provider, ...evalFlags } = rest;
      const o = parseOptions(evalOptionsSchema, evalFlags, "eval");
      const rt = parseOptions(runtimeOptionsSchema, { threads, provider }, "eval");
      const opts = {
        ...o,
        ...rt,
        data: data as string,
        checkpoint: checkpoint as "best" | "last",
        adapter: adapter as string | undefined,
        out: outFlag as string | undefined,
        json: Boolean(json),
        quiet: Boolean(quiet),
      };
      const resolved = await resolveModel(target, opts.checkpoint);
      const adapterDir = opts.adapter ?? resolved.adapterDir;
      const runtime = new Runtime({ provider: opts.provider, threads: opts.threads ?? undefined });
      const lm = await LanguageModel.load(resolved.modelDir, {
        adapter: adapterDir ?? undefined,
        runtime,
      });
      const tokenizer = await LmTokenizer.load(resolved.tokenizerDir);
      let examples = await loadExamples(opts.data, opts.split);
      if (opts.maxExamples !== undefined) examples = examples.slice(0, opts.maxExamples);
      if (examples.length === 0)
        throw new CliError(`${opts.data}: the ${opts.split} split has no examples`);
      const protocols = opts.protocols;
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
      process.stdout.write(opts.json ? `${JSON.stringify(metrics)}\n` : md);
    } catch (error) {
      if (error instanceof UserError) throw new CliError(error.message, error.exitCode);
      if (
        error instanceof Error &&
        /neither a training run|no .* checkpoint|no checkpoint/.test(error.message)
      )
        throw new CliError(error.message);
      throw modelCliError(error);
    }
  });
}
