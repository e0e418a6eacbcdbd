// `prefrec eval RUN|MODEL --data DIR`: every protocol on the same examples, reports written. The
// evaluation and runtime flags come from their option schemas (eval/options.ts, graph/options.ts).

import { join } from "node:path";
import { type CommandUnknownOpts, Option } from "@commander-js/extra-typings";
import { loadExamples } from "../data/index.js";
import { checkTarget } from "../eval/load.js";
import { evalOptionsSchema } from "../eval/options.js";
import { checkReportDir } from "../eval/report.js";
import { evaluateDir } from "../eval/run.js";
import { Runtime } from "../graph/index.js";
import { runtimeOptionsSchema, weightsDtypeSchema } from "../graph/options.js";
import { parseOptions } from "../io/schema.js";
import { providerOption, schemaOptions, threadsOption, weightsDtypeOption } from "./options.js";

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
      new Option(
        "--checkpoint <which>",
        "run checkpoint (default: best, else last when the run never validated)",
      ).choices(["best", "last"]),
    )
    .option("--adapter <dir>", "PEFT adapter for a model directory")
    .option("--out <dir>", "report directory (default: TARGET/eval-SPLIT)")
    .option("--force", "replace an existing report in --out")
    .option("--json", "print metrics.json instead of the Markdown table")
    .option("--quiet", "no progress output")
    .option("--no-verify", "skip the dataset's sha256 check (its counts are always checked)");
  for (const option of [
    ...schemaOptions(evalOptionsSchema.shape),
    threadsOption(),
    providerOption(),
    weightsDtypeOption(),
  ])
    command.addOption(option);
  command.action(async (target, flags: Record<string, unknown>) => {
    const { data, checkpoint, adapter, out: outFlag, force, json, quiet, verify, ...rest } = flags;
    const { threads, provider, weightsDtype, ...evalFlags } = rest;
    const o = parseOptions(evalOptionsSchema, evalFlags, "eval");
    const rt = parseOptions(runtimeOptionsSchema, { threads, provider }, "eval");
    const held = parseOptions(weightsDtypeSchema, weightsDtype, "--weights-dtype");
    const dataDir = data as string;
    const out = (outFlag as string | undefined) ?? join(target, `eval-${o.split}`);
    // Cheap checks first: a bad target or report folder fails before any data is read.
    await checkTarget(target);
    await checkReportDir(out, Boolean(force));
    let examples = await loadExamples(dataDir, o.split, { verify: verify !== false });
    if (o.maxExamples !== undefined) examples = examples.slice(0, o.maxExamples);
    const { metrics, markdown } = await evaluateDir(target, examples, {
      data: dataDir,
      split: o.split,
      out,
      force: Boolean(force),
      checkpoint: (checkpoint as "best" | "last" | undefined) ?? "auto",
      adapter: adapter as string | undefined,
      runtime: new Runtime({ provider: rt.provider, threads: rt.threads ?? undefined }),
      weightsDtype: held,
      protocols: o.protocols,
      maxNewTokens: o.maxNewTokens,
      maxPromptTokens: o.maxPromptTokens,
      batchSize: o.batchSize,
      quiet: Boolean(quiet),
    });
    process.stdout.write(json ? `${JSON.stringify(metrics)}\n` : markdown);
  });
}
