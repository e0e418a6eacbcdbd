// The one data model every source loads into, and the prepared-example format every consumer reads.

/** One user–item event from a raw log. Ratings and times are optional (implicit data, no clock). */
export interface Interaction {
  user: string;
  item: string;
  rating?: number;
  time?: number;
}

/** A catalog entry: the source's own id, a display title and optional attributes (genre, author…). */
export interface Item {
  id: string;
  title: string;
  attributes?: Record<string, string | number | string[]>;
}

/** Domains select the prompt templates. */
export const DOMAINS = ["music", "movie", "book", "game", "product", "generic"] as const;
export type Domain = (typeof DOMAINS)[number];

/** Split names as written to disk. */
export const SPLITS = ["train", "valid", "test"] as const;
export type SplitName = (typeof SPLITS)[number];

/** An item as it appears inside an example: dense integer id (line of items.jsonl) + title. */
export interface ItemRef {
  item: number;
  title: string;
}

/** A history entry: the item, its rating (if the source has ratings) and time (if it has a clock). */
export interface HistoryEntry extends ItemRef {
  rating?: number;
  time?: number;
}

/**
 * RecPO signals of one candidate: the rating s (real, or a documented default), the delay
 * position after the history (0 = the next item) and φ = s / (1 + position)^0.5.
 */
export interface Signal {
  rating: number;
  position: number;
  phi: number;
  /** True when rating/position come from the user's real later interactions. */
  observed: boolean;
}

/** A candidate: item, title and its RecPO signal. */
export interface Candidate extends ItemRef, Signal {}

/** A candidate referenced by its index in `candidates`. */
export interface IndexedCandidate extends Candidate {
  index: number;
}

/** One prepared example (one line of train/valid/test.jsonl). */
export interface Example {
  /** Stable id: `<split>-<n>` in file order. */
  id: string;
  split: SplitName;
  /** The source's user id (string), or an empty string when the source has no users (S-DPO files). */
  user: string;
  /** Most recent last. */
  history: HistoryEntry[];
  /** The candidate list shown in the prompt (size C), target included exactly once. */
  candidates: Candidate[];
  /** The answer: item, title, index in `candidates`, real rating/time when known, signal. */
  target: IndexedCandidate & { time?: number };
  /** K negatives drawn from `candidates` (never the target), for preference training. */
  negatives: IndexedCandidate[];
  /** The rendered prompt and the index of the template line it came from. */
  prompt: string;
  template: number;
}
