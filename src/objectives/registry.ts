// The objectives registry, as graph/registry.ts collects ops: the built-in objectives plus any
// registered later. The `Objective` type, the config schema, the CLI's `train <objective>`
// commands and the README table all come from here; nothing outside src/objectives/ switches on
// an objective's name.

import { z } from "zod";
import { UserError } from "../io/errors.js";
import { closest, parseOptions, unknownKeyMessage, withoutDefaultValues } from "../io/schema.js";
import { dmpo } from "./dmpo.js";
import { dpo } from "./dpo.js";
import { ipo } from "./ipo.js";
import type {
  DataSummary,
  ExampleSignals,
  ObjectiveDefinition,
  ObjectiveInputs,
  ObjectiveOutput,
} from "./objective.js";
import { recpo } from "./recpo.js";
import { sdpo } from "./sdpo.js";
import { sft } from "./sft.js";
import { simpo } from "./simpo.js";

const BUILTIN = { sft, dpo, sdpo, recpo, simpo, dmpo, ipo };
type Builtins = typeof BUILTIN;

/** A built-in objective's settings: its `type` and its validated parameters. */
export type Objective = {
  [K in keyof Builtins]: { type: K } & Fields<z.output<Builtins[K]["params"]>>;
}[keyof Builtins];
/** A parameter object's fields (an empty strict object infers as Record<string, never>). */
type Fields<P> = string extends keyof P ? unknown : P;
export type ObjectiveType = Objective["type"];

/** Any objective's settings (a registered one may be none of the built-ins). */
export interface ObjectiveSettings {
  readonly type: string;
  readonly [param: string]: unknown;
}

// biome-ignore lint/suspicious/noExplicitAny: definitions differ in their parameter types
type AnyDefinition = ObjectiveDefinition<any>;

const registry = new Map<string, AnyDefinition>(Object.entries(BUILTIN));

/** Adds an objective (one file's definition); its name becomes a `train` command and a config type. */
export function registerObjective(definition: AnyDefinition): void {
  if (!/^[a-z][a-z0-9-]*$/.test(definition.name))
    throw new Error(`objective name "${definition.name}": lower-case letters, digits and - only`);
  if (registry.has(definition.name))
    throw new Error(`objective "${definition.name}" is already registered`);
  registry.set(definition.name, definition);
}

/** The registered objectives' names, built-ins first. */
export function objectiveNames(): string[] {
  return [...registry.keys()];
}

/** The registered definitions, built-ins first. */
export function objectiveDefinitions(): AnyDefinition[] {
  return [...registry.values()];
}

/** The definition of an objective, or a UserError naming the closest registered one. */
export function objectiveDefinition(type: string): AnyDefinition {
  const definition = registry.get(type);
  if (!definition) throw new UserError(unknownObjective(type));
  return definition;
}

function unknownObjective(type: string): string {
  const names = objectiveNames();
  return `unknown objective "${type}" (one of ${names.join(", ")}; did you mean "${closest(type, names)}"?)`;
}

/**
 * `{type, ...params}` → validated settings. A config states every parameter (so that it reads the
 * same when defaults change); `objectiveDefaults` fills them where a person types a command.
 * Unknown keys name the closest valid one.
 */
export const objectiveSchema = z
  .looseObject({ type: z.string({ error: "expected an objective name" }) })
  .transform((value, ctx): Objective => {
    const definition = registry.get(value.type);
    if (!definition) {
      ctx.addIssue({ code: "custom", path: ["type"], message: unknownObjective(value.type) });
      return z.NEVER;
    }
    const { type, ...params } = value;
    const result = z.strictObject(withoutDefaultValues(definition.params.shape)).safeParse(params);
    if (!result.success) {
      const valid = ["type", ...Object.keys(definition.params.shape)];
      for (const issue of result.error.issues) {
        if (issue.code === "unrecognized_keys") {
          for (const key of issue.keys)
            ctx.addIssue({ code: "custom", path: [key], message: unknownKeyMessage(key, valid) });
        } else {
          ctx.addIssue({ code: "custom", path: issue.path, message: issue.message });
        }
      }
      return z.NEVER;
    }
    return { type, ...result.data } as Objective;
  });

/** The default parameters of an objective (the papers' scripts' values). */
export function objectiveDefaults(type: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const shape = objectiveDefinition(type).params.shape as Record<string, z.ZodType>;
  for (const [key, field] of Object.entries(shape)) {
    const result = field.safeParse(undefined);
    if (result.success && result.data !== undefined) out[key] = result.data;
  }
  return out;
}

/** Validates objective settings (`where` names the file or option set in errors). */
export function parseObjective(input: unknown, where = "objective"): Objective {
  return parseOptions(objectiveSchema, input, where);
}

const paramsOf = (o: ObjectiveSettings): Record<string, unknown> => o;

/** Whether an objective needs a reference model's log-probs. */
export function needsReference(o: ObjectiveSettings): boolean {
  return objectiveDefinition(o.type).needsReference;
}

/** Number of rejected answers per example the objective uses. */
export function negativesUsed(o: ObjectiveSettings): number {
  return objectiveDefinition(o.type).negatives(paramsOf(o));
}

/** Whether an objective compares the answer with rejected ones (needs negatives). */
export function isPreference(o: ObjectiveSettings): boolean {
  return negativesUsed(o) > 0;
}

/** Names of the objective's extra per-example inputs (each fed as [B, 1 + K]). */
export function objectiveInputNames(o: ObjectiveSettings): string[] {
  return Object.keys(objectiveDefinition(o.type).inputs ?? {});
}

/** One example's extra inputs by name, `answers` = 1 + K values each (column 0 unused). */
export function objectiveExampleInputs(
  o: ObjectiveSettings,
  example: ExampleSignals,
  answers: number,
): Record<string, number[]> {
  const inputs = objectiveDefinition(o.type).inputs ?? {};
  const out: Record<string, number[]> = {};
  for (const [name, compute] of Object.entries(inputs))
    out[name] = compute(example, paramsOf(o), answers);
  return out;
}

/** Which prompt tokens the objective also trains on (none: the answer only). */
export function objectivePromptLoss(o: ObjectiveSettings): "none" | "items" | "all" {
  return objectiveDefinition(o.type).promptLoss?.(paramsOf(o)) ?? "none";
}

/** Why the data cannot serve this objective, or null. */
export function checkObjectiveData(o: ObjectiveSettings, data: DataSummary): string | null {
  return objectiveDefinition(o.type).checkData?.(data, paramsOf(o)) ?? null;
}

/** Builds the loss of an objective. */
export function objectiveLoss(o: ObjectiveSettings, inputs: ObjectiveInputs): ObjectiveOutput {
  return objectiveDefinition(o.type).loss(paramsOf(o), inputs);
}

/** The README's objectives table, generated from the registry (a test keeps README in step). */
export function objectivesTable(): string {
  const rows = objectiveDefinitions().map((d) => {
    const defaults = Object.entries(objectiveDefaults(d.name))
      .map(([k, v]) => `\`${k}\` ${v}`)
      .join(", ");
    return `| \`${d.name}\` | ${d.formula} | ${defaults || "—"} | ${d.needsReference ? "yes" : "no"} | ${d.paper ?? "—"} |`;
  });
  return [
    "| objective | loss (per example; mean over the batch) | parameters (default) | reference | paper |",
    "| --- | --- | --- | --- | --- |",
    ...rows,
  ].join("\n");
}
