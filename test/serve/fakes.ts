// A small catalog and a deterministic fake Recommender whose scores the tests recompute by hand.

import type { Example } from "../../src/data/types.js";
import type { Recommender, RecommenderDescription } from "../../src/recommender.js";
import { ServeCatalog } from "../../src/serve/catalog.js";

/** 12 items "Item 0" … "Item 11" with source ids "s0" … "s11"; two templates. */
export function fakeCatalog(): ServeCatalog {
  const items = Array.from({ length: 12 }, (_, i) => ({
    item: i,
    id: `s${i}`,
    title: `Item ${i}`,
  }));
  return new ServeCatalog(
    items,
    [
      "History: [HistoryHere]. Pick one of [CansHere]. Answer:",
      "Watched [HistoryHere]; choose from [NumCans]: [CansHere]",
    ],
    { showRatings: true, historySeparator: ", ", candidateSeparator: ", " },
    10,
  );
}

/** The fake's score of `item` after a history ending in `last`: closer ids score higher. */
export const fakeScore = (last: number, item: number, title: string) =>
  -Math.abs(item - last) - title.length / 100;

export interface FakeOptions {
  fullCatalog?: boolean;
  items?: RecommenderDescription["items"];
  delayMs?: number;
}

/** Scores by closeness to the last history item; records every call's batch size. */
export class FakeRecommender implements Recommender {
  readonly calls: number[] = [];
  scoreAll?: Recommender["scoreAll"];

  constructor(private readonly options: FakeOptions = {}) {
    if (options.fullCatalog)
      this.scoreAll = async (examples) => {
        await this.wait();
        this.calls.push(examples.length);
        return examples.map((e) => {
          const last = e.history.at(-1)!.item;
          return Float32Array.from({ length: 12 }, (_, i) => fakeScore(last, i, `Item ${i}`));
        });
      };
  }

  describe(): RecommenderDescription {
    return {
      kind: this.options.fullCatalog ? "fake-catalog" : "fake",
      name: "fake-model",
      items: this.options.items ?? "title",
      fullCatalog: this.options.fullCatalog ?? false,
      generates: false,
    };
  }

  private async wait() {
    if (this.options.delayMs) await new Promise((r) => setTimeout(r, this.options.delayMs));
  }

  /** Released: a later call fails, as a real model's released session does. */
  disposed = false;

  async dispose(): Promise<void> {
    this.disposed = true;
  }

  async scoreCandidates(examples: readonly Example[]): Promise<number[][]> {
    await this.wait();
    if (this.disposed) throw new Error("scoreCandidates after dispose");
    this.calls.push(examples.length);
    return examples.map((e) => {
      const last = e.history.at(-1)?.item ?? e.prompt.length;
      return e.candidates.map((c) => fakeScore(last, c.item, c.title));
    });
  }
}
