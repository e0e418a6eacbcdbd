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
