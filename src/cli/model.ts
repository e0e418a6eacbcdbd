// `prefrec model …`: create and inspect LLaMA-family model directories (running them is in
// model-run.ts). Each subcommand is one register function.
import { type CommandUnknownOpts, InvalidArgumentError, Option } from "@commander-js/extra-typings";
import { weightsDtypeSchema } from "../graph/options.js";
import { assertDirWritable } from "../io/atomic.js";
import { loadCheckpoint, planWeights, saveCheckpoint } from "../model/checkpoint.js";
import { initWeights } from "../model/init.js";
import { parameterCount } from "../model/names.js";
import { isPresetName, PRESET_NAMES, type PresetName, presetConfig } from "../model/presets.js";
import { describeWeights } from "../model/run-memory.js";
import { LmTokenizer } from "../model/tokenizer/tokenizer.js";
import { countParameters } from "../model/weights.js";
import { parseInteger } from "./args.js";
import { CliError } from "./errors.js";
import { registerModelMerge, registerModelRun } from "./model-run.js";
import { weightsDtypeOption } from "./options.js";

/** Registers the `model` command group and its subcommands on the program. */
export function registerModel(program: CommandUnknownOpts): void {
  const model = program
    .command("model")
    .description("Create and inspect LLaMA-family model directories");
  registerInit(model);
  registerInfo(model);
  registerModelRun(model);
  registerModelMerge(model);
}

function registerInit(group: CommandUnknownOpts): void {
  group
    .command("init")
    .description(
      "Write a randomly initialized model (config.json, model.safetensors, tokenizer files) to DIR",
    )
    .argument("<dir>", "output model directory (created atomically)")
    .addOption(
      // choices() lists them in help; the parser keeps the message naming the bad value.
      new Option("--preset <name>", "model size")
        .choices(PRESET_NAMES)
        .argParser((value: string): PresetName => {
          if (!isPresetName(value))
            throw new InvalidArgumentError(
              `unknown preset "${value}" (${PRESET_NAMES.join(", ")})`,
            );
          return value;
        })
        .default("tiny" as PresetName),
    )
    .requiredOption(
      "--tokenizer <dir>",
      "tokenizer directory: vocab size and bos/eos/pad ids come from it",
    )
    .option("--seed <n>", "random seed", parseInteger, 0)
    .option("--force", "replace a non-empty DIR", false)
    .action(async (dir, opts) => {
      await assertDirWritable(dir, opts.force);
      const tok = await LmTokenizer.load(opts.tokenizer);
      if (tok.eosId === null) {
        throw new CliError(
          `${opts.tokenizer}: the tokenizer defines no eos_token (tokenizer_config.json); the model needs one`,
        );
      }
      const config = presetConfig(opts.preset, {
        vocabSize: tok.vocabSize,
        bosTokenId: tok.bosId,
        eosTokenIds: [tok.eosId],
        padTokenId: tok.padId,
      });
      const weights = initWeights(config, opts.seed);
      await saveCheckpoint(
        dir,
        { config, weights },
        { tokenizerDir: opts.tokenizer, overwrite: opts.force },
      );
      process.stdout.write(
        `wrote ${dir}: preset ${opts.preset}, ${countParameters(weights).toLocaleString("en-US")} parameters, vocab ${config.vocabSize}, seed ${opts.seed}\n`,
      );
    });
}

function registerInfo(group: CommandUnknownOpts): void {
  group
    .command("info")
    .description(
      "Validate a model directory (config + every tensor) and print its configuration as JSON",
    )
    .argument("<dir>", "model directory")
    .addOption(weightsDtypeOption())
    .action(async (dir, opts) => {
      const unexpected: string[] = [];
      const weightsDtype = weightsDtypeSchema.parse(opts.weightsDtype);
      // Stored weights are checked from the headers without reading a 16-bit tensor.
      const { config } = await loadCheckpoint(dir, {
        onUnexpected: (names) => unexpected.push(...names),
        weightsDtype,
      });
      const plan = await planWeights(dir, config, weightsDtype);
      const { extra: _extra, ...shown } = config;
      const weights = {
        dtype: weightsDtype,
        stored: plan.dtypes,
        held: describeWeights(plan.dtypes, weightsDtype),
        gib: Number((plan.bytes / 2 ** 30).toFixed(3)),
      };
      process.stdout.write(
        `${JSON.stringify({ ...shown, parameters: parameterCount(config), weights, unexpectedTensors: unexpected })}\n`,
      );
    });
}
