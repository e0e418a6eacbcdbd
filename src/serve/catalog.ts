// What the server knows about items and prompts: the prepared dataset's catalog (dense id,
// source id, title) and its prompt templates and style, so a request's history and candidates
// become an `Example` rendered by the data layer's own code — served scores equal evaluation
// scores for the same history, candidates and template.

import { type CatalogItem, loadPrepared } from "../data/dataset.js";
import {
  DEFAULT_PROMPT_STYLE,
  loadTemplates,
  type PromptStyle,
  renderPrompt,
} from "../data/prompts.js";
import type { Candidate, Example, HistoryEntry, ItemRef } from "../data/types.js";

/** An item as a request names it: a dense id (number), a source id (string) or a title. */
export interface ItemQuery {
  item?: number | string;
  title?: string;
}

/** The catalog and prompt format of one prepared dataset. */
export class ServeCatalog {
  private readonly byTitle = new Map<string, number>();
  private readonly bySourceId = new Map<string, number>();

  constructor(
    readonly items: readonly CatalogItem[],
    readonly templates: readonly string[],
    readonly style: PromptStyle,
    /** Most recent history entries kept in a prompt (the dataset's history window). */
    readonly historyWindow: number,
  ) {
    // First occurrence wins for duplicate titles, as a title-matching parser would.
    for (const it of items) {
      if (!this.byTitle.has(it.title)) this.byTitle.set(it.title, it.item);
      this.bySourceId.set(it.id, it.item);
    }
  }

  /** Loads the catalog, templates and prompt style a prepared dataset was built with. */
  static async load(dataDir: string): Promise<ServeCatalog> {
    const { manifest, items } = await loadPrepared(dataDir);
    const file = manifest.templates.file.startsWith("builtin:")
      ? undefined
      : manifest.templates.file;
    const templates = await loadTemplates(manifest.domain, file);
    const p = manifest.params as Record<string, unknown>;
    const style: PromptStyle = {
      ...DEFAULT_PROMPT_STYLE,
      showRatings: p.showRatings === true,
      historySeparator: typeof p.historySeparator === "string" ? p.historySeparator : ", ",
    };
    const window =
      typeof p.historyWindow === "number" && p.historyWindow > 0
        ? p.historyWindow
        : Number.POSITIVE_INFINITY;
    return new ServeCatalog(items, templates, style, window);
  }

  /** The dense id an item query names, or null when the catalog has no such item. */
  resolve(q: ItemQuery): number | null {
    if (typeof q.item === "number")
      return q.item >= 0 && q.item < this.items.length ? q.item : null;
    if (typeof q.item === "string") return this.bySourceId.get(q.item) ?? null;
    if (q.title !== undefined) return this.byTitle.get(q.title) ?? null;
    return null;
  }

  ref(item: number): ItemRef {
    return { item, title: this.items[item].title };
  }

  /** A prompt from history + candidates with template `template`, as the data layer renders it. */
  prompt(history: readonly HistoryEntry[], candidates: readonly ItemRef[], template = 0): string {
    return renderPrompt(this.templates[template], history, candidates, this.style);
  }

  /**
   * An Example for the Recommender contract. The target is a placeholder (candidate 0): scoring
   * never reads it. Candidate signals are neutral (they only matter to RecPO training).
   */
  example(
    id: string,
    history: readonly HistoryEntry[],
    candidates: readonly ItemRef[],
    options: { template?: number; prompt?: string } = {},
  ): Example {
    const cands: Candidate[] = candidates.map((c) => ({
      ...c,
      rating: 0,
      position: 0,
      phi: 0,
      observed: false,
    }));
    const kept = history.slice(Math.max(0, history.length - this.historyWindow));
    const template = options.template ?? 0;
    return {
      id,
      split: "test",
      user: "",
      history: [...kept],
      candidates: cands,
      target: {
        ...(cands[0] ?? { item: -1, title: "", rating: 0, position: 0, phi: 0, observed: false }),
        index: 0,
      },
      negatives: [],
      prompt:
        options.prompt ??
        (candidates.length || kept.length ? this.prompt(kept, candidates, template) : ""),
      template,
    };
  }
}
