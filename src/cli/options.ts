// Commander options built from the zod option schemas, so that a flag, its value check, its help
// text and its default are declared once (in the schema). Values are checked by the field's own
// schema, so `--batch-size 0` fails naming the option; defaults are shown in help once and
// filled in by the schema (a flag that was not given is absent from the parsed options).

import { type CommandUnknownOpts, InvalidArgumentError, Option } from "@commander-js/extra-typings";
import type { z } from "zod";
import { PROVIDERS, runtimeOptionsSchema, WEIGHTS_DTYPES } from "../graph/options.js";

type Field = z.core.$ZodType;
type Def = {
  type: string;
  innerType?: Field;
  defaultValue?: unknown;
  entries?: object;
  element?: Field;
};

export interface FlagOverrides {
  /** Flag name without dashes (default: the key in kebab-case). */
  flag?: string;
  /** Value placeholder (default: n for whole numbers, x for numbers, list, value…). */
  arg?: string;
  /** Help text (default: the field's `.describe()`). */
  description?: string;
  /** Marked "(required)" in help; commander then insists on it. */
  required?: boolean;
  /** Help shows this default instead of the schema's. */
  shownDefault?: string;
}

const kebab = (key: string) => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/** The field under default/optional/nullable wrappers, and the default if any. */
function unwrap(field: Field): { inner: Field; defaultValue: unknown } {
  let inner = field;
  let defaultValue: unknown;
  for (;;) {
    const def = inner._zod.def as unknown as Def;
    if (def.type === "default" || def.type === "prefault") {
      const value = def.defaultValue;
      defaultValue = typeof value === "function" ? (value as () => unknown)() : value;
      inner = def.innerType as Field;
    } else if (def.type === "optional" || def.type === "nullable") {
      inner = def.innerType as Field;
    } else {
      return { inner, defaultValue };
    }
  }
}

const describe = (field: Field): string | undefined =>
  (field as unknown as { description?: string }).description;

/** Checks a parsed value against the field's schema; a failure names what was expected. */
function checked(inner: Field, value: unknown): unknown {
  const result = (inner as unknown as z.ZodType).safeParse(value);
  if (!result.success) {
    throw new InvalidArgumentError(result.error.issues[0].message);
  }
  return result.data;
}

/** One commander Option from a schema field: its flag, placeholder, parser, choices and help. */
export function schemaOption(key: string, field: Field, overrides: FlagOverrides = {}): Option {
  const { inner, defaultValue } = unwrap(field);
  const def = inner._zod.def as unknown as Def;
  const flag = `--${overrides.flag ?? kebab(key)}`;
  let description = overrides.description ?? describe(field) ?? describe(inner) ?? "";
  const shown =
    overrides.shownDefault ??
    (defaultValue === undefined || defaultValue === null || defaultValue === false
      ? undefined
      : Array.isArray(defaultValue)
        ? defaultValue.join(",")
        : String(defaultValue));
  if (!overrides.required && shown !== undefined) description += ` (default: ${shown})`;
  if (def.type === "boolean") return new Option(flag, description);
  const isInt = (inner as unknown as { isInt?: boolean }).isInt === true;
  const arg =
    overrides.arg ??
    (def.type === "number"
      ? isInt
        ? "n"
        : "x"
      : def.type === "array"
        ? "list"
        : def.type === "enum"
          ? "name"
          : "value");
  const option = new Option(`${flag} <${arg}>`, description);
  if (overrides.required) option.makeOptionMandatory();
  if (def.type === "enum") {
    option.choices(Object.values(def.entries as Record<string, string>));
  } else if (def.type === "number") {
    option.argParser((value: string) =>
      checked(inner, value.trim() === "" ? Number.NaN : Number(value)),
    );
  } else if (def.type === "array") {
    option.argParser((value: string) =>
      checked(
        inner,
        value.split(",").map((s) => s.trim()),
      ),
    );
  }
  return option;
}

/** Options for the given keys of a schema shape (all keys when `keys` is omitted). */
export function schemaOptions(
  shape: Record<string, Field>,
  keys: readonly string[] = Object.keys(shape),
  overrides: Record<string, FlagOverrides> = {},
): Option[] {
  return keys.map((key) => {
    const field = shape[key];
    if (!field) throw new Error(`schemaOptions: no field "${key}"`);
    return schemaOption(key, field, overrides[key]);
  });
}

/** `--provider`, declared once (the runtime schema); absent when not given (the schema says cpu). */
export function providerOption() {
  const field = runtimeOptionsSchema.shape.provider;
  return new Option("--provider <name>", `${field.description} (default: cpu)`)
    .choices(PROVIDERS)
    .argParser((value: string) => {
      if (!(PROVIDERS as readonly string[]).includes(value))
        throw new InvalidArgumentError(
          `--provider must be ${PROVIDERS.join(" or ")}, not "${value}"`,
        );
      return value as (typeof PROVIDERS)[number];
    });
}

/** `--threads`, declared once (the runtime schema). */
export function threadsOption(): Option {
  return schemaOption("threads", runtimeOptionsSchema.shape.threads);
}

/** `--weights-dtype stored|float32`, declared once (the runtime schema); absent when not given
 *  (the schema says stored). */
export function weightsDtypeOption() {
  const field = runtimeOptionsSchema.shape.weightsDtype;
  return new Option("--weights-dtype <dtype>", `${field.description} (default: stored)`).choices(
    WEIGHTS_DTYPES,
  );
}

/** Appends "(required)" to the help of every mandatory option, in every subcommand. */
export function markRequired(command: CommandUnknownOpts): void {
  for (const option of command.options) {
    if (option.mandatory && !option.description.endsWith("(required)"))
      option.description += " (required)";
  }
  for (const sub of command.commands) markRequired(sub);
}
