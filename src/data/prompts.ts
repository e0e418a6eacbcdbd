// Prompt templates per domain (readable .txt files, one template per line) and their rendering.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { dataRng } from "../io/rng.js";
import { DataError } from "./errors.js";
import { readText } from "./lines.js";
import type { Domain, HistoryEntry, ItemRef } from "./types.js";

/** Placeholders a template may use; [HistoryHere] and [CansHere] are required. */
export const PLACEHOLDERS = ["[HistoryHere]", "[CansHere]", "[NumCans]"] as const;

/** How the history is rendered into [HistoryHere]. */
export interface PromptStyle {
  /** Show "Title | Rating: 4" for rated history items (RecPO style). */
  showRatings: boolean;
  /** Separator between history items (", " as in S-DPO; "\n" gives RecPO's one item per line). */
  historySeparator: string;
  /** Separator between candidates. */
  candidateSeparator: string;
}

export const DEFAULT_PROMPT_STYLE: PromptStyle = {
  showRatings: false,
  historySeparator: ", ",
  candidateSeparator: ", ",
};

/** The shipped template file of a domain; works from src/ (tsx) and from the built dist/. */
export function builtinTemplatePath(domain: Domain): string {
  // From src/data (tsx) the file sits beside this module; from dist/data it is in the shipped src/.
  const candidates = [
    `./templates/${domain}.txt`,
    `../../src/data/templates/${domain}.txt`,
    `../../../src/data/templates/${domain}.txt`,
  ];
  for (const c of candidates) {
    const p = fileURLToPath(new URL(c, import.meta.url));
    if (existsSync(p)) return p;
  }
  return fileURLToPath(new URL(candidates[0], import.meta.url));
}

/** Parses a template file: one template per line, blank lines and lines starting with # ignored. */
export function parseTemplates(text: string, file: string): string[] {
  const out: string[] = [];
  text.split("\n").forEach((raw, i) => {
    const line = raw.trimEnd();
    if (!line.trim() || line.trimStart().startsWith("#")) return;
    for (const p of ["[HistoryHere]", "[CansHere]"])
      if (!line.includes(p))
        throw new DataError(`template lacks the placeholder ${p}`, file, i + 1);
    out.push(line.replaceAll("\\n", "\n"));
  });
  if (!out.length) throw new DataError("no templates found (one per line, # for comments)", file);
  return out;
}

/** Loads templates from a user file, or the shipped ones for `domain`. */
export async function loadTemplates(domain: Domain, file?: string): Promise<string[]> {
  const path = file ?? builtinTemplatePath(domain);
  return parseTemplates(await readText(path), path);
}

/** Renders one history entry, with its rating when asked and known. */
export function renderHistoryEntry(h: HistoryEntry, style: PromptStyle): string {
  return style.showRatings && h.rating !== undefined ? `${h.title} | Rating: ${h.rating}` : h.title;
}

/** Fills a template with the history and candidate titles. */
export function renderPrompt(
  template: string,
  history: readonly HistoryEntry[],
  candidates: readonly ItemRef[],
  style: PromptStyle = DEFAULT_PROMPT_STYLE,
): string {
  const hist = history.map((h) => renderHistoryEntry(h, style)).join(style.historySeparator);
  const cans = candidates.map((c) => c.title).join(style.candidateSeparator);
  // Function replacers: titles may contain "$&"-like sequences that string replacement would expand.
  return template
    .replaceAll("[HistoryHere]", () => hist)
    .replaceAll("[CansHere]", () => cans)
    .replaceAll("[NumCans]", () => String(candidates.length));
}

/** Picks a template index for an example from its own seed. */
export function pickTemplate(seed: number, count: number): number {
  return dataRng(seed).int(count);
}

/** Where a rendered list of entries sits in a prompt: its span and the separator used. */
interface Block {
  start: number;
  end: number;
  separator: string;
}

/**
 * Finds the block `parts.join(sep)` in `text` before `before`, inferring the separator from
 * where the first two parts occur (any separator a dataset was prepared with works).
 */
function findBlock(text: string, parts: readonly string[], before: number): Block | null {
  if (parts.length === 0) return { start: before, end: before, separator: "" };
  const tries = new Set<string>();
  if (parts.length > 1) {
    for (let p = text.indexOf(parts[0]); p >= 0; p = text.indexOf(parts[0], p + 1)) {
      const q = text.indexOf(parts[1], p + parts[0].length);
      if (q >= 0 && q - p - parts[0].length <= 16) tries.add(text.slice(p + parts[0].length, q));
    }
  } else tries.add("");
  for (const separator of tries) {
    const block = parts.join(separator);
    const start = text.lastIndexOf(block, before - block.length);
    if (start >= 0) return { start, end: start + block.length, separator };
  }
  return null;
}

/**
 * An example's prompt with each history and candidate title shown by `show` instead (item
 * tokens, title + token): the prompt's history and candidate blocks are located exactly and
 * re-rendered with the same separators and ratings, so one prepared dataset serves every item
 * representation. `compact` drops the separators between bare entries (item tokens are
 * self-delimiting); rated history entries keep theirs. `hideCandidates` leaves the candidate
 * list empty (the template's words around it stay). Throws when the prompt does not contain
 * the example's lists.
 */
export function rerenderItems(
  example: {
    id: string;
    prompt: string;
    history: readonly HistoryEntry[];
    candidates: readonly ItemRef[];
  },
  show: (ref: ItemRef) => string,
  options: { compact?: boolean; hideCandidates?: boolean } = {},
): string {
  const { prompt } = example;
  const cans = findBlock(
    prompt,
    example.candidates.map((c) => c.title),
    prompt.length,
  );
  if (!cans) throw new DataError(`example ${example.id}: the prompt does not list its candidates`);
  let hist: Block | null = null;
  let rated = false;
  for (const showRatings of [true, false]) {
    const style = { ...DEFAULT_PROMPT_STYLE, showRatings };
    hist = findBlock(
      prompt,
      example.history.map((h) => renderHistoryEntry(h, style)),
      cans.start,
    );
    if (hist) {
      rated = showRatings && example.history.some((h) => h.rating !== undefined);
      break;
    }
  }
  if (!hist) throw new DataError(`example ${example.id}: the prompt does not list its history`);
  const histText = example.history
    .map((h) => (rated && h.rating !== undefined ? `${show(h)} | Rating: ${h.rating}` : show(h)))
    .join(options.compact && !rated ? "" : hist.separator);
  const cansText = options.hideCandidates
    ? ""
    : example.candidates.map(show).join(options.compact ? "" : cans.separator);
  return (
    prompt.slice(0, hist.start) +
    histText +
    prompt.slice(hist.end, cans.start) +
    cansText +
    prompt.slice(cans.end)
  );
}
