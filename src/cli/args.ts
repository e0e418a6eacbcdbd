// Option-value parsers shared by the commands (commander argParsers): a bad value is reported
// by commander together with the option's name.

import { InvalidArgumentError } from "@commander-js/extra-typings";

/** A finite number. */
export function parseNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n)) throw new InvalidArgumentError(`expected a number, got "${value}"`);
  return n;
}

/** An integer. */
export function parseInteger(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n))
    throw new InvalidArgumentError(`expected an integer, got "${value}"`);
  return n;
}

/** A parser for integers ≥ `min`. */
export function integerAtLeast(min: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isSafeInteger(n) || n < min) {
      throw new InvalidArgumentError(`expected an integer ≥ ${min}, got "${value}"`);
    }
    return n;
  };
}

/** A comma-separated list of distinct whole numbers ≥ 0 (`--seeds 0,1,2`). */
export function parseSeedList(value: string): number[] {
  const parts = value.split(",").map((p) => p.trim());
  const seeds = parts.map(Number);
  if (parts.some((p) => !/^\d+$/.test(p)) || seeds.some((s) => !Number.isSafeInteger(s)))
    throw new InvalidArgumentError(
      `expected whole numbers ≥ 0 separated by commas (e.g. 0,1,2), got "${value}"`,
    );
  if (new Set(seeds).size !== seeds.length)
    throw new InvalidArgumentError(`expected each seed once, got "${value}"`);
  return seeds;
}
