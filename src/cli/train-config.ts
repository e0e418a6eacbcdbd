// How `prefrec train <objective>` turns its flags, an optional `--config FILE` and `--init RUN`
// into one validated TrainConfig: flags win over the file, the file over the schema's defaults;
// every key of the file is honoured or rejected by name; `--resume` accepts only the settings
// that may change on resume.

import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { type InitFromRun, initFromRun } from "../eval/load.js";
import { readConfigFile } from "../io/config-file.js";
import { parseOptions, withoutDefaults } from "../io/schema.js";
import { objectiveDefaults, objectiveDefinition } from "../objectives/index.js";
import {
  loraSchema,
  parseTrainConfig,
  RESUMABLE_KEYS,
  type TrainConfig,
  trainOptionsShape,
} from "../train/config.js";
import { CliError } from "./errors.js";

type Flags = Record<string, unknown>;

/** `r,alpha` as written on the command line or in a config file. */
export function parseLoraPair(value: string): { r: number; alpha: number } | null {
  const parts = value.split(",").map((s) => Number(s.trim()));
  const [r, alpha] = parts;
  if (parts.length !== 2 || !Number.isSafeInteger(r) || r <= 0 || !(alpha > 0)) return null;
  return { r, alpha };
}

const loraPairString = z.string().transform((value, ctx) => {
  const pair = parseLoraPair(value);
  if (!pair) {
    ctx.addIssue({ code: "custom", message: `expected "r,alpha" (e.g. "8,32"), got "${value}"` });
    return z.NEVER;
  }
  return pair;
});

const commaList = z
  .union([z.string(), z.array(z.string())])
  .transform((v) => (typeof v === "string" ? v.split(",").map((s) => s.trim()) : v));

/** The keys a `train --config` file may hold: every training setting plus the command's own. */
function fileSchema(type: string) {
  const params = objectiveDefinition(type).params.shape as Record<string, z.ZodType>;
  return z.strictObject({
    data: z.string().min(1).optional(),
    model: z.string().min(1).optional(),
    init: z.string().min(1).optional(),
    out: z.string().min(1).optional(),
    /** Full fine-tuning (as `lora: null`). */
    full: z.boolean().optional(),
    /** null = full fine-tuning; "r,alpha" or {r, alpha, dropout, targets} = LoRA. */
    lora: z.union([z.null(), loraPairString, withoutLoraDefaults]).optional(),
    loraTargets: commaList.optional(),
    loraDropout: loraSchema.shape.dropout.unwrap().optional(),
    defaultSignals: z.boolean().optional(),
    objective: z.looseObject({ type: z.string().optional() }).optional(),
    ...withoutDefaults(trainOptionsShape),
    ...withoutDefaults(params),
  });
}

const withoutLoraDefaults = z.strictObject(withoutDefaults(loraSchema.shape));

/** Reads and validates a `--config` file (YAML, or JSON by extension). */
export async function readTrainFile(file: string, type: string): Promise<Flags> {
  const parsed = await readConfigFile(file);
  return parseOptions(fileSchema(type), parsed, file) as Flags;
}

const flagName = (key: string) => `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

/** `--resume RUN`: the run's own config.json, with only the settings that may change applied. */
export async function resumeConfig(type: string, opts: Flags): Promise<TrainConfig> {
  const runDir = opts.resume as string;
  const mayChange = new Set(["resume", "quiet", "verify", ...RESUMABLE_KEYS]);
  const fixed = Object.keys(opts).filter((k) => opts[k] !== undefined && !mayChange.has(k));
  if (fixed.length > 0) {
    throw new CliError(
      `--resume continues ${runDir} with the settings in its config.json; these cannot change on resume: ${fixed.map(flagName).join(", ")} (may change: ${RESUMABLE_KEYS.map(flagName).join(", ")})`,
      2,
    );
  }
  const file = join(runDir, "config.json");
  if (!existsSync(file)) throw new CliError(`${runDir}: not a training run (no config.json)`, 2);
  const config = parseTrainConfig(JSON.parse(await readFile(file, "utf8")), file);
  if (config.objective.type !== type) {
    throw new CliError(
      `${runDir} is a ${config.objective.type} run; resume it with \`prefrec train ${config.objective.type} --resume\``,
      2,
    );
  }
  const changed = config as Record<string, unknown>;
  for (const key of RESUMABLE_KEYS) if (opts[key] !== undefined) changed[key] = opts[key];
  return config;
}

/** A new run's config: flags over `--config FILE` over defaults; `--init` fixes model and LoRA. */
export async function newRunConfig(
  type: string,
  opts: Flags,
): Promise<{ config: TrainConfig; runDir: string }> {
  const fileName = opts.config as string | undefined;
  const file: Flags = fileName ? await readTrainFile(fileName, type) : {};
  const from = fileName ? `${fileName}: ` : "";
  const pick = (key: string, fileKey = key): unknown => opts[key] ?? file[fileKey];
  const out = pick("out") as string | undefined;
  if (!out) throw new CliError("--out <run> is required (or out: in --config)", 2);
  const data = pick("data") as string | undefined;
  if (!data) throw new CliError("--data <dir> is required (or data: in --config)", 2);
  const initRun = pick("init") as string | undefined;
  const init = initRun ? await initFromRun(initRun) : null;
  const model = init?.model ?? (pick("model") as string | undefined);
  if (!model) throw new CliError("give --model <dir> (or --init <run>)", 2);

  const fileObjective = (file.objective ?? {}) as Flags;
  if (fileObjective.type !== undefined && fileObjective.type !== type) {
    throw new CliError(
      `${from}objective.type is "${fileObjective.type}" but the command is \`train ${type}\``,
      2,
    );
  }
  const params: Flags = { ...objectiveDefaults(type), ...fileObjective, type };
  for (const key of Object.keys(objectiveDefinition(type).params.shape)) {
    const value = pick(key);
    if (value !== undefined) params[key] = value;
  }
  const rest: Flags = {};
  for (const key of Object.keys(trainOptionsShape)) {
    const value = pick(key);
    if (value !== undefined) rest[key] = value;
  }
  const signals = opts.defaultSignals ?? file.defaultSignals ?? file.recpoDefaultSignals;
  if (signals !== undefined) rest.recpoDefaultSignals = signals;
  const config = parseTrainConfig({
    ...rest,
    objective: params,
    data,
    model,
    initAdapter: init?.initAdapter ?? null,
    initModel: init?.initModel ?? null,
    lora: resolveLora(opts, file, from, initRun, init),
  });
  return { config, runDir: out };
}

/** LoRA settings from flags, file and `--init`; contradictions are errors naming both sides. */
function resolveLora(
  opts: Flags,
  file: Flags,
  from: string,
  initRun: string | undefined,
  init: InitFromRun | null,
): TrainConfig["lora"] | Flags {
  if (opts.lora !== undefined && opts.full)
    throw new CliError("--lora and --full exclude each other", 2);
  const fileLora = file.lora as Flags | null | undefined;
  if (opts.lora === undefined && !opts.full && file.full === true && fileLora)
    throw new CliError(`${from}full: true and lora settings exclude each other`, 2);
  const full =
    Boolean(opts.full) || (opts.lora === undefined && (file.full === true || fileLora === null));
  const dropout = opts.loraDropout ?? file.loraDropout ?? fileLora?.dropout;
  const targets = opts.loraTargets ?? file.loraTargets ?? fileLora?.targets;
  if (full) {
    const adapterOnly = [
      opts.loraDropout !== undefined
        ? "--lora-dropout"
        : file.loraDropout !== undefined
          ? `${from}loraDropout`
          : null,
      opts.loraTargets !== undefined
        ? "--lora-targets"
        : file.loraTargets !== undefined
          ? `${from}loraTargets`
          : null,
    ].filter(Boolean);
    if (adapterOnly.length > 0)
      throw new CliError(
        `${adapterOnly.join(" and ")}: LoRA settings, but this run is full fine-tuning`,
        2,
      );
  }
  const pair = opts.lora as { r: number; alpha: number } | undefined;
  if (init) {
    const kind = init.lora ? "LoRA" : "full fine-tuning";
    if ((full && init.lora) || ((pair || fileLora) && !init.lora))
      throw new CliError(
        `--init ${initRun}: that run is ${kind}; a later stage continues the same way`,
        2,
      );
    if (!init.lora) return null;
    const r = pair?.r ?? (fileLora?.r as number | undefined);
    const alpha = pair?.alpha ?? (fileLora?.alpha as number | undefined);
    if (
      (r !== undefined && r !== init.lora.r) ||
      (alpha !== undefined && alpha !== init.lora.alpha)
    )
      throw new CliError(
        `--init ${initRun}: that run's adapter is LoRA ${init.lora.r},${init.lora.alpha}; a later stage keeps it`,
        2,
      );
    if (
      targets !== undefined &&
      [...(targets as string[])].sort().join() !== [...init.lora.targets].sort().join()
    )
      throw new CliError(
        `--init ${initRun}: that run adapts ${init.lora.targets.join(",")}; a later stage keeps the same targets`,
        2,
      );
    return dropout === undefined ? init.lora : { ...init.lora, dropout };
  }
  if (full) return null;
  return {
    ...(fileLora ?? {}),
    r: pair?.r ?? fileLora?.r ?? 8,
    alpha: pair?.alpha ?? fileLora?.alpha ?? 32,
    ...(dropout !== undefined ? { dropout } : {}),
    ...(targets !== undefined ? { targets } : {}),
  };
}
