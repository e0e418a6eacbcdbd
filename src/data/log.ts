// A columnar interaction log with string-id dictionaries: 10M rows fit in typed arrays.
import type { BadRowPolicy } from "./errors.js";
import type { ColumnMapping } from "./sources/columns.js";
import type { Domain, Item } from "./types.js";

/** Growable columns of (user, item, rating, time) plus the dictionaries of source ids. */
export class InteractionLog {
  readonly userIds: string[] = [];
  readonly itemIds: string[] = [];
  private readonly userIndex = new Map<string, number>();
  private readonly itemIndex = new Map<string, number>();
  users = new Int32Array(1024);
  items = new Int32Array(1024);
  ratings = new Float64Array(1024);
  times = new Float64Array(1024);
  length = 0;

  private grow(): void {
    const n = this.users.length * 2;
    const u = new Int32Array(n);
    u.set(this.users);
    this.users = u;
    const i = new Int32Array(n);
    i.set(this.items);
    this.items = i;
    const r = new Float64Array(n);
    r.set(this.ratings);
    this.ratings = r;
    const t = new Float64Array(n);
    t.set(this.times);
    this.times = t;
  }

  /** Dense index of a user id, created on first sight. */
  userIdx(id: string): number {
    let k = this.userIndex.get(id);
    if (k === undefined) {
      k = this.userIds.length;
      this.userIds.push(id);
      this.userIndex.set(id, k);
    }
    return k;
  }

  /** Dense index of an item id, created on first sight. */
  itemIdx(id: string): number {
    let k = this.itemIndex.get(id);
    if (k === undefined) {
      k = this.itemIds.length;
      this.itemIds.push(id);
      this.itemIndex.set(id, k);
    }
    return k;
  }

  /** Appends one interaction; NaN marks a missing rating or time. File order is the row index. */
  add(user: string, item: string, rating = Number.NaN, time = Number.NaN): void {
    if (this.length === this.users.length) this.grow();
    const n = this.length++;
    this.users[n] = this.userIdx(user);
    this.items[n] = this.itemIdx(item);
    this.ratings[n] = rating;
    this.times[n] = time;
  }
}

/** What an interaction source yields: the log, the catalog and how to describe them. */
export interface LoadedLog {
  kind: "log";
  log: InteractionLog;
  /** Catalog by source item id; items of the log missing here get a title "item <id>". */
  catalog: Map<string, Item>;
  domain: Domain;
  /** Input files read, for the manifest's hashes. */
  files: string[];
  hasRatings: boolean;
  hasTime: boolean;
  /** The column mapping a generic table was read with (csv source), for the manifest. */
  columns?: ColumnMapping;
  /** Rows a loader leaves out by design (not bad rows), reported in manifest.filters. */
  dropped?: { reason: string; count: number }[];
}

/** A ready-made example (S-DPO / LLaRA files): indices into `items`. */
export interface ReadyExample {
  user: string;
  history: number[];
  historyRatings?: number[];
  /** Given candidate list (S-DPO files); absent when the candidates are to be drawn. */
  candidates?: number[];
  target: number;
  targetRating?: number;
}

/** What a ready-made source yields: items in id order and examples per split. */
export interface LoadedExamples {
  kind: "examples";
  items: Item[];
  splits: { train: ReadyExample[]; valid: ReadyExample[]; test: ReadyExample[] };
  domain: Domain;
  files: string[];
  /** The source's own candidate rule when it has none stored (LLaRA → S-DPO's Python sampler). */
  defaultSampler: "given" | "sdpo" | "uniform";
}

export type Loaded = LoadedLog | LoadedExamples;

/** Options every loader understands. */
export interface LoadOptions {
  path: string;
  policy: BadRowPolicy;
  /** Generic CSV column mapping and title file. */
  columns?: { user?: string; item?: string; rating?: string; time?: string };
  titleFile?: string;
  /** Amazon/Steam metadata file when not found next to the reviews. */
  metaFile?: string;
  domain?: Domain;
  quiet?: boolean;
}
