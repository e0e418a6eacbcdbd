import { UserError } from "../io/errors.js";
/** A data-layer error meant for the user: names the file, line or field and what was expected. */
export class DataError extends UserError {
  constructor(
    message: string,
    readonly file?: string,
    readonly line?: number,
  ) {
    super(file ? `${file}${line !== undefined ? `:${line}` : ""}: ${message}` : message);
    this.name = "DataError";
  }
}

/** How loaders treat malformed rows: fail on the first one, or skip and count them. */
export interface BadRowPolicy {
  skipBad: boolean;
  /** Rows skipped so far, per file; reported in the manifest. */
  skipped: Record<string, number>;
  /** The first few skip reasons, so a user can see what was dropped. */
  examples: string[];
}

/** A fresh policy; `skipBad` false means the first bad row throws. */
export function badRowPolicy(skipBad = false): BadRowPolicy {
  return { skipBad, skipped: {}, examples: [] };
}

/** Throws a DataError for a bad row, or records it when the policy skips bad rows. */
export function badRow(policy: BadRowPolicy, file: string, line: number, message: string): void {
  if (!policy.skipBad) throw new DataError(message, file, line);
  policy.skipped[file] = (policy.skipped[file] ?? 0) + 1;
  if (policy.examples.length < 10) policy.examples.push(`${file}:${line}: ${message}`);
}
