// An experiment: dataset → tokenizer → model → training stages → evaluation, in one validated
// YAML/JSON file. `${dataRoot}` in paths stands for --data-root.

import { z } from "zod";
import { BASELINE_KINDS, baselineConfigSchema } from "../baselines/config.js";
import { prepareSettingsShape, synthOptionsSchema } from "../data/options.js";
import { evalOptionsSchema } from "../eval/options.js";
import { readConfigFile } from "../io/config-file.js";
import { UserError } from "../io/errors.js";
import { describeIssues, parseOptions, withoutDefaults } from "../io/schema.js";
import {
  loraSchema,
  parseTrainConfig,
  trainConfigSchema,
  trainOptionsShape,
} from "../train/config.js";

/** `train` settings as written (checked against the training schema in parseExperiment, so
 *  that only what the user wrote overrides: never a default). */
const trainFields = z.record(z.string(), z.unknown());

/** What `training` and a stage may set: the training options and LoRA, as written. */
const trainingSettings = z.strictObject(
  withoutDefaults({ lora: loraSchema.nullable().default(null), ...trainOptionsShape }),
);

/** What a baseline stage may set: every baseline option but kind and data, as written. */
const { kind: _kind, data: _data, ...baselineOptionShape } = baselineConfigSchema.shape;
const baselineSettings = z.strictObject(withoutDefaults(baselineOptionShape));

const SEED_ERROR = "expected a whole number ≥ 0";

/** A stage trains a language model (`objective`) or a classic baseline (`baseline: sasrec`). */
const stage = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9_-]+$/, "letters, digits, - and _ only"),
    objective: trainConfigSchema.shape.objective.optional(),
    baseline: z.enum(BASELINE_KINDS).optional(),
    /** A previous stage to start from (its best checkpoint, as the papers do). */
    init: z.string().optional(),
  })
  .catchall(z.unknown());

export const experimentSchema = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9_.-]+$/),
    description: z.string().optional(),
    seed: z.number().int().default(0),
    /** Run the whole experiment once per seed (OUT/seed-<s>/), then mean ± std over them. */
    seeds: z
      .array(z.number({ error: SEED_ERROR }).int({ error: SEED_ERROR }).min(0, SEED_ERROR), {
        error: "expected a list of seeds, e.g. [0, 1, 2]",
      })
      .min(1, "expected at least one seed")
      .refine((s) => new Set(s).size === s.length, "each seed once (a seed is listed twice)")
      .optional(),
    data: z
      .object({
        /** Generate a synthetic world first (then source is "synth"). */
        synth: z.strictObject(withoutDefaults(synthOptionsSchema.shape)).optional(),
        source: z.string().default("synth"),
        path: z.string().optional(),
        /** Any `data prepare` option (camelCase), e.g. candidates, negatives, maxTrain. */
        prepare: z.strictObject(withoutDefaults(prepareSettingsShape)).default({}),
      })
      .strict(),
    tokenizer: z
      .object({
        /** An existing tokenizer directory (else the model directory's). */
        dir: z.string().optional(),
        /** Or train a byte-level BPE of this size on the training prompts and all titles. */
        vocab: z.number().int().min(259).optional(),
      })
      .strict()
      .default({}),
    model: z
      .object({
        dir: z.string().optional(),
        preset: z.enum(["tiny", "small", "base"]).optional(),
        seed: z.number().int().default(0),
      })
      .strict()
      .refine(
        (m) => Boolean(m.dir) !== Boolean(m.preset),
        "give exactly one of model.dir or model.preset",
      ),
    /** Defaults for every stage (any `train` setting). */
    training: trainFields.default({}),
    stages: z.array(stage).min(1),
    evaluation: evalOptionsSchema.omit({ maxPromptTokens: true }).prefault({}),
  })
  .strict();

export type ExperimentConfig = z.infer<typeof experimentSchema>;
export type StageConfig = ExperimentConfig["stages"][number];

/** Whether a stage trains a classic baseline rather than a language model. */
export const isBaselineStage = (
  s: StageConfig,
): s is StageConfig & { baseline: (typeof BASELINE_KINDS)[number] } => s.baseline !== undefined;

/** Validates an experiment; errors list every bad field, with stage references checked. */
export function parseExperiment(input: unknown, where = "experiment"): ExperimentConfig {
  const result = experimentSchema.safeParse(input);
  if (!result.success) {
    throw new UserError(
      `${where}: invalid experiment config: ${describeIssues(result.error, experimentSchema)}`,
    );
  }
  const config = result.data;
  const fail = (message: string) => new UserError(`${where}: ${message}`);
  if (config.seeds) checkSeedsAlone(input as Record<string, unknown>, fail);
  for (const key of ["data", "model", "initAdapter", "initModel", "objective"]) {
    if (key in config.training)
      throw fail(`training.${key} is set by the experiment, not in training`);
  }
  if ("itemInit" in config.training)
    throw fail("training.itemInit: set itemInit on the stage that adds the item tokens");
  const sasrecStages = new Set<string>();
  parseOptions(trainingSettings, config.training, `${where}: invalid experiment config: training`);
  const seen = new Set<string>();
  const baselines = new Set<string>();
  for (const s of config.stages) {
    if (seen.has(s.name)) throw fail(`stage name "${s.name}" is used twice`);
    if (s.init !== undefined && !seen.has(s.init))
      throw fail(`stage "${s.name}" starts from "${s.init}", which is not an earlier stage`);
    if (s.init !== undefined && baselines.has(s.init))
      throw fail(
        `stage "${s.name}" starts from "${s.init}", a baseline stage (not a language model)`,
      );
    seen.add(s.name);
    if ((s.objective === undefined) === (s.baseline === undefined)) {
      const hint = "model" in s && s.objective === undefined ? ` (baseline: ${s.model})` : "";
      throw fail(
        `stage "${s.name}": give either objective (a language-model stage) or baseline${hint} (one of ${BASELINE_KINDS.join(", ")})`,
      );
    }
    if (isBaselineStage(s)) {
      baselines.add(s.name);
      if (s.baseline === "sasrec") sasrecStages.add(s.name);
      parseBaselineStage(s, `${where}: stage "${s.name}"`);
      continue;
    }
    const { name, init: _init, baseline: _b, objective, ...overrides } = s;
    for (const key of ["data", "model", "initAdapter", "initModel"]) {
      if (key in overrides) throw fail(`stage "${name}": ${key} is set by the experiment`);
    }
    const itemInit = (overrides as { itemInit?: unknown }).itemInit;
    if (itemInit != null && !sasrecStages.has(itemInit as string))
      throw fail(
        `stage "${name}": itemInit "${itemInit}" is not an earlier stage with baseline: sasrec`,
      );
    const stageWhere = `${where}: stage "${name}": invalid training config`;
    parseOptions(trainingSettings, overrides, stageWhere);
    parseTrainConfig(
      { ...config.training, ...overrides, objective, data: "-", model: "-" },
      `${where}: stage "${name}"`,
    );
  }
  if (!config.data.synth && !config.data.path) throw fail("data needs a path (or synth settings)");
  if (!config.model.dir && config.tokenizer.vocab === undefined && !config.tokenizer.dir) {
    throw new UserError(
      `${where}: a model from a preset needs a tokenizer (tokenizer.vocab to train one, or tokenizer.dir)`,
    );
  }
  return config;
}

/**
 * With `seeds`, each run's seed comes from the list: a seed written anywhere else (top level,
 * model, training defaults, a stage) would pin it, so it is refused by name.
 */
function checkSeedsAlone(raw: Record<string, unknown>, fail: (m: string) => Error): void {
  const why = "cannot be given with seeds (each run sets it from seeds); remove it";
  const has = (x: unknown): boolean =>
    typeof x === "object" && x !== null && (x as Record<string, unknown>).seed !== undefined;
  if (raw.seed !== undefined) throw fail(`seed ${why}`);
  if (has(raw.model)) throw fail(`model.seed ${why}`);
  if (has(raw.training)) throw fail(`training.seed ${why}`);
  for (const s of raw.stages as Record<string, unknown>[])
    if (has(s)) throw fail(`stage "${s.name}": seed ${why}`);
}

/** The config one seed of a multi-seed experiment runs: `seed` and `model.seed` set to it. */
export function seedConfig(config: ExperimentConfig, seed: number): ExperimentConfig {
  const { seeds: _s, ...single } = config;
  return { ...single, seed, model: { ...config.model, seed } };
}

/** A baseline stage's options, checked against the baseline schema (stage settings only: the
 *  experiment's `training` defaults are for language models and do not apply). */
export function parseBaselineStage(
  s: StageConfig,
  where: string,
): z.output<typeof baselineSettings> {
  const { name: _n, baseline: _b, objective: _o, init, ...options } = s;
  if (init !== undefined)
    throw new UserError(`${where}: a baseline stage cannot have init (it trains from scratch)`);
  for (const key of ["data", "kind"]) {
    if (key in options) throw new UserError(`${where}: ${key} is set by the experiment`);
  }
  return parseOptions(baselineSettings, options, `${where}: invalid baseline config`);
}

/**
 * Reads a YAML or JSON experiment file, substituting `${dataRoot}`. `seeds` (the command's
 * --seeds) replaces the file's seeding: its `seeds`, `seed` and `model.seed`.
 */
export async function loadExperiment(
  file: string,
  dataRoot: string,
  seeds?: readonly number[],
): Promise<ExperimentConfig> {
  const raw = substitute(await readConfigFile(file), dataRoot);
  return parseExperiment(seeds ? withSeeds(raw, seeds) : raw, file);
}

function withSeeds(raw: unknown, seeds: readonly number[]): unknown {
  if (!raw || typeof raw !== "object" || Array.isArray(raw)) return raw; // the parser says why
  const { seed: _s, seeds: _l, ...rest } = raw as Record<string, unknown>;
  const model = rest.model;
  if (model && typeof model === "object" && !Array.isArray(model)) {
    const { seed: _m, ...m } = model as Record<string, unknown>;
    rest.model = m;
  }
  return { ...rest, seeds: [...seeds] };
}

function substitute(value: unknown, dataRoot: string): unknown {
  // biome-ignore lint/suspicious/noTemplateCurlyInString: the config's literal placeholder
  if (typeof value === "string") return value.replaceAll("${dataRoot}", dataRoot);
  if (Array.isArray(value)) return value.map((v) => substitute(v, dataRoot));
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v, dataRoot)]));
  }
  return value;
}
