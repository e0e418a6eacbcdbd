// Splits and example construction: history window, candidate lists, negatives, RecPO signals, prompts.

import { dataRng, deriveSeed } from "../io/rng.js";
import { DataError } from "./errors.js";
import type { Sequences } from "./filter.js";
import type { ReadyExample } from "./log.js";
import { type PromptStyle, pickTemplate, renderPrompt } from "./prompts.js";
import { PyRandom } from "./pyrandom.js";
import { observedSignal, type SignalDefaults, unobservedSignal } from "./signals.js";
import type { Candidate, Example, HistoryEntry, IndexedCandidate, SplitName } from "./types.js";

export type SplitMode = "users" | "last" | "time";
export type CandidateSampler = "uniform" | "sdpo" | "given";
export type NegativeSampling = "uniform" | "popularity";

/** Everything that shapes examples (documented in docs/data.md). */
export interface ExampleOptions {
  seed: number;
  split: SplitMode;
  /** users mode: train/valid/test shares of users. */
  userRatio: [number, number, number];
  /** time mode: cut points; a value in (0, 1) is a quantile of all interaction times. */
  timeValid: number;
  timeTest: number;
  minHistory: number;
  historyWindow: number;
  numCandidates: number;
  numNegatives: number;
  negativeSampling: NegativeSampling;
  candidateSampler: CandidateSampler;
  /** RecPO-style: up to this many of the user's real later items join the candidates. */
  followCandidates: number;
  /** "next": the target is the next item; "max-phi": the candidate with the highest φ (RecPO). */
  chosen: "next" | "max-phi";
  maxExamples: Partial<Record<SplitName, number>>;
  signals: SignalDefaults;
  style: PromptStyle;
  templates: string[];
}

/** One unit of work: what an example is built from, whatever the source kind. */
interface Unit {
  key: string;
  user: string;
  history: HistoryEntry[];
  target: number;
  targetRating?: number;
  targetTime?: number;
  /** The user's real items after the target (position 1, 2, …) with ratings, within the split's horizon. */
  follow: { item: number; rating?: number }[];
  /** Items that uniform sampling must avoid (everything the user interacted with that we know of). */
  exclude: Set<number>;
  /** Items S-DPO's sampler leaves out of its pool: the full (unwindowed) history. */
  historyAll: number[];
  given?: number[];
}

/** The catalog the builder draws from: dense ids 0..N−1 with titles. */
export interface Catalog {
  titles: string[];
}

/** Turns units into examples: candidate list, target, negatives, RecPO signals and prompt. */
export class ExampleBuilder {
  private popularity: Float64Array;
  constructor(
    private readonly catalog: Catalog,
    private readonly opts: ExampleOptions,
  ) {
    this.popularity = new Float64Array(catalog.titles.length).fill(1);
    const o = opts;
    if (o.numCandidates < 2)
      throw new DataError(`--candidates must be at least 2, got ${o.numCandidates}`);
    if (o.numNegatives < 0 || o.numNegatives > o.numCandidates - 1)
      throw new DataError(
        `--negatives must be between 0 and candidates − 1 = ${o.numCandidates - 1}, got ${o.numNegatives}`,
      );
    if (o.followCandidates > 0 && o.candidateSampler === "sdpo")
      throw new DataError("--follow-candidates cannot be combined with --candidate-sampler sdpo");
  }

  /** Counts train targets so popularity negatives follow the training distribution (+1 smoothing). */
  setPopularity(counts: Float64Array): void {
    this.popularity = counts;
  }

  /** Turns a unit into an example. */
  build(u: Unit, split: SplitName, index: number): Example {
    const o = this.opts;
    const titles = this.catalog.titles;
    const ref = (item: number, s: ReturnType<typeof unobservedSignal>): Candidate => ({
      item,
      title: titles[item],
      ...s,
    });
    let cands: Candidate[];
    if (u.given) {
      cands = u.given.map((it) =>
        it === u.target
          ? ref(it, observedSignal(u.targetRating, 0, o.signals))
          : ref(it, unobservedSignal(o.signals)),
      );
    } else if (o.candidateSampler === "sdpo") {
      cands = this.sdpoCandidates(u).map((it) =>
        it === u.target
          ? ref(it, observedSignal(u.targetRating, 0, o.signals))
          : ref(it, unobservedSignal(o.signals)),
      );
    } else {
      const rng = dataRng(deriveSeed(o.seed, "candidates", u.key));
      const chosen = new Set<number>([u.target]);
      cands = [ref(u.target, observedSignal(u.targetRating, 0, o.signals))];
      for (
        let k = 0;
        k < u.follow.length &&
        cands.length < 1 + o.followCandidates &&
        cands.length < o.numCandidates;
        k++
      ) {
        const f = u.follow[k];
        if (chosen.has(f.item)) continue;
        chosen.add(f.item);
        cands.push(ref(f.item, observedSignal(f.rating, k + 1, o.signals)));
      }
      const need = o.numCandidates - cands.length;
      let free = titles.length - u.exclude.size;
      for (const c of chosen) if (!u.exclude.has(c)) free--;
      if (free < need)
        throw new DataError(
          `catalog too small: user ${u.user || u.key} leaves ${free} items they have not interacted with, ${need} random candidates needed; lower --candidates`,
        );
      while (cands.length < o.numCandidates) {
        const it = rng.int(titles.length);
        if (chosen.has(it) || u.exclude.has(it)) continue;
        chosen.add(it);
        cands.push(ref(it, unobservedSignal(o.signals)));
      }
      rng.shuffle(cands);
    }
    let targetIndex = cands.findIndex((c) => c.item === u.target);
    if (o.chosen === "max-phi") {
      for (let i = 0; i < cands.length; i++)
        if (
          cands[i].phi > cands[targetIndex].phi ||
          (cands[i].phi === cands[targetIndex].phi &&
            cands[i].position < cands[targetIndex].position)
        )
          targetIndex = i;
    }
    const others = cands.map((_, i) => i).filter((i) => i !== targetIndex);
    const negRng = dataRng(deriveSeed(o.seed, "negatives", u.key));
    const k = Math.min(o.numNegatives, others.length);
    const negIdx =
      o.negativeSampling === "popularity"
        ? negRng
            .weightedSample(
              others.map((i) => this.popularity[cands[i].item]),
              k,
            )
            .map((j) => others[j])
        : negRng.sample(others, k);
    const template = pickTemplate(deriveSeed(o.seed, "template", u.key), o.templates.length);
    const t = cands[targetIndex];
    const target: Example["target"] = { ...t, index: targetIndex };
    if (targetIndex === cands.findIndex((c) => c.item === u.target) && u.targetTime !== undefined)
      target.time = u.targetTime;
    return {
      id: `${split}-${index}`,
      split,
      user: u.user,
      history: u.history,
      candidates: cands,
      target,
      negatives: negIdx.map((i): IndexedCandidate => ({ ...cands[i], index: i })),
      prompt: renderPrompt(o.templates[template], u.history, cands, o.style),
      template,
    };
  }

  /** S-DPO's own rule: seed(target); sample(pool, C−1); append target; seed(target); shuffle. */
  private sdpoCandidates(u: Unit): number[] {
    const n = this.catalog.titles.length;
    // The pool is 0..n−1 minus a few skipped ids, in order: position j maps to an id by stepping
    // over the sorted skipped ids, so the pool never has to be built.
    const skip = [...new Set([...u.historyAll, u.target])].sort((a, b) => a - b);
    const size = n - skip.length;
    if (size < this.opts.numCandidates - 1)
      throw new DataError(`catalog too small for ${this.opts.numCandidates} candidates`);
    const r = new PyRandom(u.target);
    const list = r.sampleIndices(size, this.opts.numCandidates - 1).map((j) => {
      let id = j;
      for (const s of skip) {
        if (s <= id) id++;
        else break;
      }
      return id;
    });
    list.push(u.target);
    r.seed(u.target);
    return r.shuffle(list);
  }
}

/** Per-split positions of a log: sequence index, target position, follow horizon. */
export interface Positions {
  seq: Int32Array;
  pos: Int32Array;
  end: Int32Array;
}

function quantile(sorted: Float64Array, q: number): number {
  if (!sorted.length) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

/** Assigns every usable (user, position) of the sequences to a split. */
export function splitPositions(
  seqs: Sequences,
  o: ExampleOptions,
): Record<SplitName, Positions> & { cuts?: [number, number] } {
  const acc: Record<SplitName, { seq: number[]; pos: number[]; end: number[] }> = {
    train: { seq: [], pos: [], end: [] },
    valid: { seq: [], pos: [], end: [] },
    test: { seq: [], pos: [], end: [] },
  };
  const push = (s: SplitName, q: number, p: number, end: number) => {
    acc[s].seq.push(q);
    acc[s].pos.push(p);
    acc[s].end.push(end);
  };
  const nSeq = seqs.users.length;
  let cuts: [number, number] | undefined;
  if (o.split === "users") {
    const order = dataRng(deriveSeed(o.seed, "user-split")).shuffle(
      Array.from({ length: nSeq }, (_, i) => i),
    );
    const [a, b] = o.userRatio;
    const total = o.userRatio[0] + o.userRatio[1] + o.userRatio[2];
    const nTrain = Math.round((nSeq * a) / total);
    const nValid = Math.round((nSeq * b) / total);
    const splitOf = new Uint8Array(nSeq);
    order.forEach((q, k) => {
      splitOf[q] = k < nTrain ? 0 : k < nTrain + nValid ? 1 : 2;
    });
    for (let q = 0; q < nSeq; q++) {
      const len = seqs.offsets[q + 1] - seqs.offsets[q];
      for (let p = o.minHistory; p < len; p++)
        push((["train", "valid", "test"] as const)[splitOf[q]], q, p, len);
    }
  } else if (o.split === "last") {
    for (let q = 0; q < nSeq; q++) {
      const len = seqs.offsets[q + 1] - seqs.offsets[q];
      for (let p = o.minHistory; p < len; p++)
        push(
          p === len - 1 ? "test" : p === len - 2 ? "valid" : "train",
          q,
          p,
          p >= len - 2 ? p + 1 : len - 2,
        );
    }
  } else {
    for (let n = 0; n < seqs.times.length; n++)
      if (!Number.isFinite(seqs.times[n]))
        throw new DataError(
          "--split time needs a timestamp on every interaction; this source has rows without time",
        );
    const sorted = Float64Array.from(seqs.times).sort();
    const cut = (v: number) => (v > 0 && v < 1 ? quantile(sorted, v) : v);
    cuts = [cut(o.timeValid), cut(o.timeTest)];
    if (!(cuts[0] <= cuts[1]))
      throw new DataError(`--time-valid must not be after --time-test (${cuts[0]} > ${cuts[1]})`);
    for (let q = 0; q < nSeq; q++) {
      const off = seqs.offsets[q];
      const len = seqs.offsets[q + 1] - off;
      let endTrain = len;
      let endValid = len;
      for (let p = len - 1; p >= 0; p--) {
        if (seqs.times[off + p] >= cuts[0]) endTrain = p;
        if (seqs.times[off + p] >= cuts[1]) endValid = p;
      }
      for (let p = o.minHistory; p < len; p++) {
        const t = seqs.times[off + p];
        if (t < cuts[0]) push("train", q, p, endTrain);
        else if (t < cuts[1]) push("valid", q, p, endValid);
        else push("test", q, p, len);
      }
    }
  }
  const out = {} as Record<SplitName, Positions>;
  for (const s of ["train", "valid", "test"] as const) {
    let idx = acc[s].seq.map((_, i) => i);
    const max = o.maxExamples[s];
    if (max !== undefined && idx.length > max)
      idx = dataRng(deriveSeed(o.seed, "cap", s))
        .sample(idx, max)
        .sort((x, y) => x - y);
    out[s] = {
      seq: Int32Array.from(idx, (i) => acc[s].seq[i]),
      pos: Int32Array.from(idx, (i) => acc[s].pos[i]),
      end: Int32Array.from(idx, (i) => acc[s].end[i]),
    };
  }
  return { ...out, cuts };
}

/** Yields the units of one split of a log; `item` maps the sequences' item index to the dense output id. */
export function* logUnits(
  seqs: Sequences,
  positions: Positions,
  userIds: readonly string[],
  item: Int32Array,
  o: ExampleOptions,
): Generator<Unit> {
  let cachedSeq = -1;
  let exclude = new Set<number>();
  for (let k = 0; k < positions.seq.length; k++) {
    const q = positions.seq[k];
    const p = positions.pos[k];
    const off = seqs.offsets[q];
    if (q !== cachedSeq) {
      cachedSeq = q;
      exclude = new Set<number>();
      for (let n = off; n < seqs.offsets[q + 1]; n++) exclude.add(item[seqs.items[n]]);
    }
    const user = userIds[seqs.users[q]];
    const history: HistoryEntry[] = [];
    for (let n = off + Math.max(0, p - o.historyWindow); n < off + p; n++) {
      const h: HistoryEntry = { item: item[seqs.items[n]], title: "" };
      if (Number.isFinite(seqs.ratings[n])) h.rating = seqs.ratings[n];
      if (Number.isFinite(seqs.times[n])) h.time = seqs.times[n];
      history.push(h);
    }
    const follow: Unit["follow"] = [];
    for (let n = off + p + 1; n < off + positions.end[k] && follow.length < o.followCandidates; n++)
      follow.push({
        item: item[seqs.items[n]],
        rating: Number.isFinite(seqs.ratings[n]) ? seqs.ratings[n] : undefined,
      });
    const historyAll: number[] = [];
    for (let n = off + Math.max(0, p - o.historyWindow); n < off + p; n++)
      historyAll.push(item[seqs.items[n]]);
    yield {
      key: `${user}#${p}`,
      user,
      history,
      target: item[seqs.items[off + p]],
      targetRating: Number.isFinite(seqs.ratings[off + p]) ? seqs.ratings[off + p] : undefined,
      targetTime: Number.isFinite(seqs.times[off + p]) ? seqs.times[off + p] : undefined,
      follow,
      exclude,
      historyAll,
    };
  }
}

/** Yields the units of ready-made examples (S-DPO / LLaRA), keeping their history and candidates. */
export function* readyUnits(
  examples: readonly ReadyExample[],
  split: SplitName,
  o: ExampleOptions,
): Generator<Unit> {
  for (let i = 0; i < examples.length; i++) {
    const e = examples[i];
    if (e.history.length < o.minHistory) continue;
    const start = Math.max(0, e.history.length - o.historyWindow);
    const history: HistoryEntry[] = [];
    for (let k = start; k < e.history.length; k++) {
      const h: HistoryEntry = { item: e.history[k], title: "" };
      const r = e.historyRatings?.[k];
      if (r !== undefined && Number.isFinite(r)) h.rating = r;
      history.push(h);
    }
    yield {
      key: `${split}#${i}`,
      user: e.user,
      history,
      target: e.target,
      targetRating: e.targetRating,
      follow: [],
      exclude: new Set([...e.history, e.target]),
      historyAll: e.history,
      given: e.candidates,
    };
  }
}

/** Fills history titles from the catalog (units carry ids only). */
export function withTitles(u: Unit, titles: readonly string[]): Unit {
  for (const h of u.history) h.title = titles[h.item];
  return u;
}
