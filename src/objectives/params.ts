// Parameter fields shared by several objectives (β, K), with the papers' scripts' defaults.

import { count, positive } from "../io/schema.js";

/** β: the inverse temperature of the implicit reward (1 in the papers' scripts). */
export const beta = () =>
  positive().default(1).describe("β, the reward scale (inverse temperature)");

/** K: rejected answers per example, drawn from the prepared negatives (3 in S-DPO's scripts). */
export const negatives = () =>
  count().default(3).describe("negatives per example (K; the data needs at least K)");
