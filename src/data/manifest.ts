// The manifest of a prepared dataset (manifest.json): its format tag, and what it records about
// the source, the options, the filters and the files written.
import type { FilterStep } from "./filter.js";
import type { ColumnMapping } from "./sources/columns.js";
import type { Domain, SplitName } from "./types.js";

/** The manifest format tag; bump on incompatible changes or when the same options give other bytes. */
export const DATASET_FORMAT = "prefrec-dataset/1";

/** The manifest written as manifest.json (see docs/data.md). */
export interface Manifest {
  format: string;
  source: {
    name: string;
    path: string;
    files: { name: string; sha256: string }[];
    /** "log": interactions split here; "examples": ready-made splits (sdpo, llara) kept as given. */
    kind?: "log" | "examples";
    /** csv source: the columns read (given or detected) and what orders each history. */
    columns?: ColumnMapping & { order: "time" | "file order" };
  };
  params: Record<string, unknown>;
  seed: number;
  domain: Domain;
  counts: Record<SplitName, number>;
  users: Record<SplitName, number>;
  items: number;
  filters: FilterStep[];
  timeCuts?: [number, number];
  skippedBad: { total: number; byFile: Record<string, number>; examples: string[] };
  templates: { file: string; count: number; sha256: string };
  signals: {
    negativeRating: number;
    negativePosition: number;
    implicitRating: number;
    phi: string;
  };
  hashes: Record<string, string>;
}
