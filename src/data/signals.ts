// RecPO utility φ(s, Δt) = s / (1 + position)^0.5, position-based as in the authors' code.
import type { Signal } from "./types.js";

/** Defaults for items with no real feedback (RecPO code: random negatives get rating 3, step 10). */
export const DEFAULT_NEGATIVE_RATING = 3;
export const DEFAULT_NEGATIVE_POSITION = 10;
/** Rating used for a real (observed) interaction when the source has no ratings: implicit positive. */
export const DEFAULT_IMPLICIT_RATING = 5;
/** φ never reaches 0 (a ratio margin divides by it): ratings are clamped to at least this. */
export const MIN_RATING = 0.1;

/** φ = rating / (1 + position)^0.5; position ≥ 0 and rating clamped above 0, so it is finite and > 0. */
export function phi(rating: number, position: number): number {
  const s = Number.isFinite(rating) ? Math.max(rating, MIN_RATING) : MIN_RATING;
  const p = Number.isFinite(position) ? Math.max(position, 0) : DEFAULT_NEGATIVE_POSITION;
  return s / Math.sqrt(1 + p);
}

/** Options for signals: the defaults for unobserved items and for observed items without a rating. */
export interface SignalDefaults {
  negativeRating: number;
  negativePosition: number;
  implicitRating: number;
}

export const DEFAULT_SIGNALS: SignalDefaults = {
  negativeRating: DEFAULT_NEGATIVE_RATING,
  negativePosition: DEFAULT_NEGATIVE_POSITION,
  implicitRating: DEFAULT_IMPLICIT_RATING,
};

/** Signal of an item the user really interacted with `position` steps after the history. */
export function observedSignal(
  rating: number | undefined,
  position: number,
  d: SignalDefaults = DEFAULT_SIGNALS,
): Signal {
  const r = rating === undefined || !Number.isFinite(rating) ? d.implicitRating : rating;
  return { rating: r, position, phi: round6(phi(r, position)), observed: true };
}

/** Signal of an unobserved (randomly drawn) item: the documented defaults. */
export function unobservedSignal(d: SignalDefaults = DEFAULT_SIGNALS): Signal {
  return {
    rating: d.negativeRating,
    position: d.negativePosition,
    phi: round6(phi(d.negativeRating, d.negativePosition)),
    observed: false,
  };
}

/** Six decimals keep files readable and byte-stable across platforms. */
export function round6(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}
