// `prefrec train <objective>`: one command per registered objective over the shared trainer; its
// flags come from the objective's parameter schema and the training option schema.

import { type CommandUnknownOpts, InvalidArgumentError, Option } from "@commander-js/extra-typings";
import { handleInterrupts } from "../io/interrupt.js";
import { objectiveDefinitions } from "../objectives/index.js";
import { loraSchema, trainOptionsShape } from "../train/config.js";
import { train } from "../train/trainer.js";
import { providerOption, schemaOption, schemaOptions, threadsOption } from "./options.js";
import { registerBaselineTrain } from "./train-baselines.js";
import { newRunConfig, parseLoraPair, resumeConfig } from "./train-config.js";

const loraPair = (value: string) => {
  const pair = parseLoraPair(value);
  if (!pair) throw new InvalidArgumentError(`expected r,alpha (e.g. 8,32)`);
  return pair;
};

/** The flags every `train` subcommand shares (before the objective's and the loop's). */
function runOptions(): Option[] {
  return [
    new Option("--data <dir>", "prepared dataset directory (required unless --resume/--config)"),
    new Option("--model <dir>", "base model directory (HF layout, with tokenizer; or --init)"),
    new Option(
      "--init <run>",
      "start from an earlier run's best (else last) checkpoint, e.g. the SFT run",
    ),
    new Option("--out <run>", "run directory to write (required unless --resume/--config)"),
    new Option(
      "--resume <run>",
      "continue an interrupted run exactly (its config.json; only --max-steps, --threads, --provider, --log-every, --save-every may change)",
    ),
    new Option("--config <file>", "YAML or JSON file with any of the settings below (flags win)"),
    new Option("--full", "full fine-tuning (for models trained from scratch)"),
    new Option("--lora <r,alpha>", "LoRA on a frozen base (default: 8,32 unless --full)").argParser(
      loraPair,
    ),
    schemaOption("loraTargets", loraSchema.shape.targets),
    schemaOption("loraDropout", loraSchema.shape.dropout, { arg: "p" }),
  ];
}

/** Registers `prefrec train <objective>` for every registered objective. */
export function registerTrain(program: CommandUnknownOpts): void {
  const definitions = objectiveDefinitions();
  const group = program
    .command("train")
    .description(`Train with an objective: ${definitions.map((d) => d.name).join(", ")}`);
  const {
    recpoDefaultSignals,
    threads: _threads,
    provider: _provider,
    ...loop
  } = trainOptionsShape;
  for (const definition of definitions) {
    const type = definition.name;
    const command = group.command(type).description(definition.summary);
    const options = [
      ...runOptions(),
      ...schemaOptions(definition.params.shape),
      ...(definition.inputs || definition.checkData
        ? [schemaOption("defaultSignals", recpoDefaultSignals)]
        : []),
      ...schemaOptions(loop, undefined, { itemInit: { arg: "run" } }),
      threadsOption(),
      providerOption(),
      new Option("--quiet", "no progress output"),
      new Option("--no-verify", "skip the dataset's sha256 check (its counts are always checked)"),
    ];
    for (const option of options) command.addOption(option);
    command.action(async (opts: Record<string, unknown>) => {
      const { quiet, verify, ...flags } = opts;
      const { config, runDir, resume } = flags.resume
        ? {
            config: await resumeConfig(type, flags),
            runDir: flags.resume as string,
            resume: true,
          }
        : { ...(await newRunConfig(type, flags)), resume: false };
      await runTraining(config, runDir, {
        resume,
        quiet: Boolean(quiet),
        verify: verify !== false,
      });
    });
  }
  registerBaselineTrain(group);
}

/** Trains with Ctrl-C/SIGTERM finishing the current step, then prints the one-line summary. */
async function runTraining(
  config: Parameters<typeof train>[0],
  runDir: string,
  options: { resume: boolean; quiet: boolean; verify: boolean },
): Promise<void> {
  const interrupt = handleInterrupts({
    mode: "stop",
    message: "stopping after this step, or now during setup",
  });
  const summary = await train(config, runDir, { ...options, signal: interrupt.signal }).finally(
    () => interrupt.dispose(),
  );
  const v = summary.valid;
  process.stdout.write(
    `${summary.interrupted ? "interrupted" : "done"}: ${runDir}, ${summary.steps}/${summary.totalSteps} steps, ${summary.examples} examples in ${summary.seconds.toFixed(1)} s (${summary.examplesPerSecond.toFixed(1)}/s)` +
      (v ? `; valid loss ${v.loss.toFixed(4)}, HR@1 ${v.hr1.toFixed(4)}` : "") +
      `\n${summary.reproducibility.note}\n`,
  );
  if (summary.interrupted) process.exitCode = 130;
}
