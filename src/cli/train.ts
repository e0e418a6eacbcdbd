// `prefrec train <objective>`: one command per objective over the shared trainer.

import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { type CommandUnknownOpts, InvalidArgumentError, Option } from "@commander-js/extra-typings";
import { initFromRun } from "../eval/load.js";
import { readConfigFile as readSettingsFile } from "../io/config-file.js";
import { handleInterrupts } from "../io/interrupt.js";
import { OBJECTIVE_TYPES } from "../objectives/index.js";
import { defaultObjective, parseTrainConfig, type TrainConfig } from "../train/config.js";
import { train } from "../train/trainer.js";
import { parseInteger, parseNumber } from "./args.js";
import { CliError } from "./errors.js";

const loraPair = (value: string): [number, number] => {
  const [r, alpha] = value.split(",").map(Number);
  if (!Number.isSafeInteger(r) || r <= 0 || !(alpha > 0)) {
    throw new InvalidArgumentError(`expected r,alpha (e.g. 8,32), got "${value}"`);
  }
  return [r, alpha];
};

/** Registers `prefrec train <objective>`. */
export function registerTrain(program: CommandUnknownOpts): void {
  const group = program
    .command("train")
    .description(`Train with an objective: ${OBJECTIVE_TYPES.join(", ")}`);
  for (const type of OBJECTIVE_TYPES) {
    group
      .command(type)
      .description(describe(type))
      .option("--data <dir>", "prepared dataset directory (prefrec data prepare)")
      .option("--model <dir>", "base model directory (HF layout, with tokenizer)")
      .option(
        "--init <run>",
        "start from an earlier run's best (else last) checkpoint, e.g. the SFT run",
      )
      .option("--out <run>", "run directory to write")
      .option("--resume <run>", "continue an interrupted run exactly (its config.json is used)")
      .option("--config <file>", "YAML or JSON file with any of the settings below (flags win)")
      .option("--lora <r,alpha>", "LoRA on a frozen base (default 8,32 unless --full)", loraPair)
      .option("--lora-targets <list>", "projections to adapt (default: q,k,v,o,gate,up,down)")
      .option(
        "--lora-dropout <p>",
        "LoRA dropout on the adapter input, training only (default 0)",
        parseNumber,
      )
      .option("--full", "full fine-tuning (for models trained from scratch)")
      .option("--beta <x>", "β (dpo, sdpo, recpo, simpo, dmpo; default 1)", parseNumber)
      .option(
        "--negatives <k>",
        "negatives per example (sdpo, recpo, dmpo; default 3)",
        parseInteger,
      )
      .option("--lambda <x>", "RecPO margin strength λ (default 2)", parseNumber)
      .option("--gamma <x>", "SimPO target margin γ (default 2)", parseNumber)
      .option("--tau <x>", "IPO τ (default 0.1)", parseNumber)
      .option("--default-signals", "RecPO on data without ratings: accept default-signal margins")
      .option("--lr <x>", "peak learning rate (default 1e-4)", parseNumber)
      .option("--weight-decay <x>", "AdamW decoupled weight decay (default 0)", parseNumber)
      .option("--warmup-ratio <x>", "share of steps for linear warmup (default 0.05)", parseNumber)
      .option("--max-grad-norm <x>", "global gradient-norm clipping (default 1)", parseNumber)
      .option("--batch-size <n>", "examples per micro-batch (default 4)", parseInteger)
      .option("--grad-accum <n>", "micro-batches per optimizer step (default 1)", parseInteger)
      .option("--epochs <x>", "passes over the training examples (default 1)", parseNumber)
      .option("--max-steps <n>", "stop after n optimizer steps (overrides --epochs)", parseInteger)
      .option("--max-examples <n>", "use only the first n training examples", parseInteger)
      .option(
        "--max-prompt-tokens <n>",
        "longest prompt; longer ones keep their end (default 512)",
        parseInteger,
      )
      .option(
        "--eval-every <n>",
        "validate every n steps (default 0: at the end only)",
        parseInteger,
      )
      .option(
        "--eval-examples <n>",
        "validation examples (loss + HR@1 by ranking; default 200)",
        parseInteger,
      )
      .option(
        "--save-every <n>",
        "write the last checkpoint every n steps (default 0: at the end)",
        parseInteger,
      )
      .option("--seed <n>", "seed for data order and LoRA init (default 0)", parseInteger)
      .option(
        "--log-every <n>",
        "without a terminal, a progress line every n steps (default: ~20 lines)",
        parseInteger,
      )
      .option("--threads <n>", "intra-op threads (default: all cores)", parseInteger)
      .addOption(new Option("--provider <name>", "execution provider").choices(["cpu", "cuda"]))
      .option("--quiet", "no progress output")
      .option("--no-verify", "skip the dataset's sha256 check (its counts are always checked)")
      .action(async (opts) => {
        const { config, runDir, resume } = await resolveConfig(type, opts);
        const interrupt = handleInterrupts({
          mode: "stop",
          message: "stopping after this step, or now during setup",
        });
        const summary = await train(config, runDir, {
          resume,
          quiet: opts.quiet,
          verify: opts.verify,
          signal: interrupt.signal,
        }).finally(() => interrupt.dispose());
        const v = summary.valid;
        process.stdout.write(
          `${summary.interrupted ? "interrupted" : "done"}: ${runDir}, ${summary.steps}/${summary.totalSteps} steps, ${summary.examples} examples in ${summary.seconds.toFixed(1)} s (${summary.examplesPerSecond.toFixed(1)}/s)` +
            (v ? `; valid loss ${v.loss.toFixed(4)}, HR@1 ${v.hr1.toFixed(4)}` : "") +
            `\n${summary.reproducibility.note}\n`,
        );
        if (summary.interrupted) process.exitCode = 130;
      });
  }
}

function describe(type: string): string {
  return {
    sft: "supervised fine-tuning on the target title (stage 1)",
    dpo: "DPO against one negative (Rafailov et al. 2023)",
    sdpo: "S-DPO: softmax DPO over K negatives (Chen et al. 2024)",
    recpo: "RecPO: S-DPO with rating/time-aware margins (Ouyang et al. 2025)",
    simpo: "SimPO: reference-free, length-normalized, margin γ (Meng et al. 2024)",
    dmpo: "DMPO: mean over K negatives in one sigmoid (Bai et al. 2024)",
    ipo: "IPO: squared loss on the log-ratio gap (Azar et al. 2023)",
  }[type]!;
}

type Flags = Record<string, unknown>;

async function resolveConfig(
  type: string,
  opts: Flags,
): Promise<{ config: TrainConfig; runDir: string; resume: boolean }> {
  if (opts.resume) {
    const runDir = opts.resume as string;
    const file = join(runDir, "config.json");
    if (!existsSync(file)) throw new CliError(`${runDir}: not a training run (no config.json)`);
    const config = parseTrainConfig(JSON.parse(await readFile(file, "utf8")));
    if (config.objective.type !== type) {
      throw new CliError(
        `${runDir} is a ${config.objective.type} run; resume it with \`prefrec train ${config.objective.type} --resume\``,
      );
    }
    if (opts.maxSteps !== undefined) config.maxSteps = opts.maxSteps as number;
    return { config, runDir, resume: true };
  }
  const file: Flags = opts.config ? await readConfigFile(opts.config as string) : {};
  const pick = <T>(flag: string, key = flag): T | undefined =>
    (opts[flag] ?? file[key]) as T | undefined;
  const out = pick<string>("out");
  if (!out) throw new CliError("--out <run> is required");
  const data = pick<string>("data");
  if (!data) throw new CliError("--data <dir> is required");
  const initRun = pick<string>("init");
  const init = initRun ? await initFromRun(initRun) : null;
  const model = init?.model ?? pick<string>("model");
  if (!model) throw new CliError("give --model <dir> (or --init <run>)");
  if (opts.lora && opts.full) throw new CliError("--lora and --full exclude each other");
  const overrides: Record<string, number> = {};
  for (const k of ["beta", "negatives", "lambda", "gamma", "tau"]) {
    const v = pick<number>(k);
    if (v !== undefined) overrides[k] = v;
  }
  let lora: TrainConfig["lora"] | Record<string, unknown> | null;
  if (init) {
    if ((opts.full && init.lora) || (opts.lora && !init.lora)) {
      throw new CliError(
        `--init ${initRun}: that run is ${init.lora ? "LoRA" : "full fine-tuning"}; a later stage continues the same way`,
      );
    }
    lora = init.lora;
  } else if (opts.full || file.full === true) {
    lora = null;
  } else {
    const [r, alpha] = (opts.lora as [number, number] | undefined) ?? [8, 32];
    lora = {
      r,
      alpha,
      dropout: pick<number>("loraDropout") ?? 0,
      ...(opts.loraTargets
        ? { targets: (opts.loraTargets as string).split(",").map((s) => s.trim()) }
        : {}),
    };
  }
  const keys = [
    "lr",
    "weightDecay",
    "warmupRatio",
    "maxGradNorm",
    "batchSize",
    "gradAccum",
    "epochs",
    "maxSteps",
    "maxExamples",
    "maxPromptTokens",
    "evalEvery",
    "evalExamples",
    "saveEvery",
    "seed",
    "logEvery",
    "threads",
    "provider",
  ];
  const rest: Flags = {};
  for (const k of keys) {
    const v = pick(k);
    if (v !== undefined) rest[k] = v;
  }
  const config = parseTrainConfig({
    ...rest,
    objective: defaultObjective(type, {
      ...(file.objective as Record<string, number> | undefined),
      ...overrides,
    }),
    data,
    model,
    initAdapter: init?.initAdapter ?? null,
    initModel: init?.initModel ?? null,
    lora,
    recpoDefaultSignals: Boolean(pick("defaultSignals")),
  });
  return { config, runDir: out, resume: false };
}

async function readConfigFile(file: string): Promise<Flags> {
  return (await readSettingsFile(file)) as Flags;
}
