import { basename, join } from "node:path";
import { startProgress } from "../io/progress.js";
import { type badRowPolicy, DataError } from "./errors.js";
import {
  type Catalog,
  ExampleBuilder,
  type ExampleOptions,
  logUnits,
  type Positions,
  readyUnits,
  splitPositions,
  withTitles,
} from "./examples.js";
import { type FilterStep, filterAndOrder, naturalCompare } from "./filter.js";
import { LineWriter, sha256File, writeFileAtomically } from "./lines.js";
import type { Loaded } from "./log.js";
import { DATASET_FORMAT, type Manifest } from "./manifest.js";
import type { PrepareOptions } from "./options.js";
import { type Domain, type Item, SPLITS, type SplitName } from "./types.js";

/** What to write: the catalog and, per split, a way to enumerate units. */
export interface Plan {
  items: (Item & { count?: number })[];
  filters: FilterStep[];
  cuts?: [number, number];
  units: Record<
    SplitName,
    () => Iterable<ReturnType<typeof readyUnits> extends Iterable<infer U> ? U : never>
  >;
  sizes: Record<SplitName, number>;
  trainTargets: () => Iterable<number>;
}

/** Which units each split holds, after filtering (log sources) or the history/size caps. */
export async function planExamples(
  loaded: Loaded,
  o: PrepareOptions,
  eo: ExampleOptions,
  work: string,
): Promise<Plan> {
  if (loaded.kind === "examples") {
    const sizes = {} as Record<SplitName, number>;
    for (const s of SPLITS) {
      let list = loaded.splits[s].filter((e) => e.history.length >= o.minHistory);
      const max = eo.maxExamples[s];
      if (max !== undefined && list.length > max) list = list.slice(0, max);
      loaded.splits[s] = list;
      sizes[s] = list.length;
    }
    const total = sizes.train + sizes.valid + sizes.test;
    if (total === 0)
      throw new DataError(
        `no examples: every record has fewer than --min-history ${o.minHistory} history items`,
      );
    return {
      items: loaded.items,
      filters: [],
      units: {
        train: () => readyUnits(loaded.splits.train, "train", eo),
        valid: () => readyUnits(loaded.splits.valid, "valid", eo),
        test: () => readyUnits(loaded.splits.test, "test", eo),
      },
      sizes,
      trainTargets: () => loaded.splits.train.map((e) => e.target),
    };
  }
  const { log, catalog } = loaded;
  const loadedRows = log.length;
  const seqs = await filterAndOrder(
    log,
    {
      dedup: o.dedup,
      ratingThreshold: o.ratingThreshold,
      userCore: o.userCore,
      itemCore: o.itemCore,
    },
    work,
  );
  const filters: FilterStep[] = [
    // Rows the loader left out by design (placeholder or untitled items), before "load".
    ...(loaded.dropped ?? []).map((d) => ({
      step: `dropped on load: ${d.reason}`,
      removed: d.count,
      remaining: loadedRows,
    })),
    { step: "load", removed: 0, remaining: loadedRows },
    ...seqs.steps,
  ];
  // Dense output ids: surviving items in natural order of their source ids.
  const present = new Uint8Array(log.itemIds.length);
  const counts = new Float64Array(log.itemIds.length);
  for (let n = 0; n < seqs.items.length; n++) {
    present[seqs.items[n]] = 1;
    counts[seqs.items[n]]++;
  }
  const kept = [...present.keys()]
    .filter((i) => present[i])
    .sort((a, b) => naturalCompare(log.itemIds[a], log.itemIds[b]));
  const dense = new Int32Array(log.itemIds.length).fill(-1);
  kept.forEach((i, k) => {
    dense[i] = k;
  });
  const items = kept.map((i) => {
    const src = log.itemIds[i];
    const it = catalog.get(src);
    const title = it?.title ?? `item ${src}`;
    return {
      id: src,
      title,
      ...(it?.attributes ? { attributes: it.attributes } : {}),
      count: counts[i],
    };
  });
  const pos = splitPositions(seqs, eo);
  const sizes = {
    train: pos.train.seq.length,
    valid: pos.valid.seq.length,
    test: pos.test.seq.length,
  };
  if (sizes.train + sizes.valid + sizes.test === 0)
    throw new DataError(
      `no examples: after filtering (${filters.map((f) => `${f.step}: ${f.remaining} left`).join("; ")}) no user has more than --min-history ${o.minHistory} interactions`,
    );
  if (sizes.train === 0)
    throw new DataError(
      `no training examples with --split ${o.split} (valid ${sizes.valid}, test ${sizes.test})`,
    );
  const units = (p: Positions) => () => logUnits(seqs, p, log.userIds, dense, eo);
  return {
    items,
    filters,
    cuts: pos.cuts,
    units: { train: units(pos.train), valid: units(pos.valid), test: units(pos.test) },
    sizes,
    trainTargets: function* () {
      for (let k = 0; k < pos.train.seq.length; k++)
        yield dense[seqs.items[seqs.offsets[pos.train.seq[k]] + pos.train.pos[k]]];
    },
  };
}

/** Writes the catalog, the three split files and manifest.json into `dir`. */
export async function writeDataset(
  dir: string,
  plan: Plan,
  o: PrepareOptions,
  eo: ExampleOptions,
  loaded: Loaded,
  domain: Domain,
  templateFile: string,
  policy: ReturnType<typeof badRowPolicy>,
): Promise<Manifest> {
  const catalog: Catalog = { titles: plan.items.map((i) => i.title) };
  const builder = new ExampleBuilder(catalog, eo);
  if (eo.negativeSampling === "popularity") {
    const pop = new Float64Array(catalog.titles.length).fill(1);
    for (const t of plan.trainTargets()) pop[t]++;
    builder.setPopularity(pop);
  }
  const iw = await LineWriter.create(join(dir, "items.jsonl"));
  for (let k = 0; k < plan.items.length; k++) {
    const it = plan.items[k];
    await iw.write(
      JSON.stringify({
        item: k,
        id: it.id,
        title: it.title,
        ...(it.attributes ? { attributes: it.attributes } : {}),
        ...("count" in it && it.count !== undefined ? { count: it.count } : {}),
      }),
    );
  }
  await iw.close();
  const counts = { train: 0, valid: 0, test: 0 };
  const users = { train: 0, valid: 0, test: 0 };
  const dropped = { train: 0, valid: 0, test: 0 };
  const total = plan.sizes.train + plan.sizes.valid + plan.sizes.test;
  const bar = startProgress("prepare", total, o.quiet);
  for (const s of SPLITS) {
    const w = await LineWriter.create(join(dir, `${s}.jsonl`));
    const seen = new Set<string>();
    for (const u of plan.units[s]()) {
      const ex = builder.build(withTitles(u, catalog.titles), s, counts[s]);
      bar.tick();
      if (o.minTargetRating !== undefined && !(ex.target.rating >= o.minTargetRating)) {
        dropped[s]++;
        continue;
      }
      await w.write(JSON.stringify(ex));
      counts[s]++;
      if (ex.user) seen.add(ex.user);
    }
    users[s] = seen.size;
    await w.close();
  }
  bar.done();
  if (o.minTargetRating !== undefined) {
    for (const sp of SPLITS)
      plan.filters.push({
        step: `${sp}: target rating >= ${o.minTargetRating}`,
        removed: dropped[sp],
        remaining: counts[sp],
      });
    if (counts.train === 0)
      throw new DataError(
        `--min-target-rating ${o.minTargetRating} removed all ${dropped.train} training examples`,
      );
  }
  const hashes: Record<string, string> = {};
  for (const f of ["items.jsonl", "train.jsonl", "valid.jsonl", "test.jsonl"])
    hashes[f] = await sha256File(join(dir, f));
  const files = [];
  for (const f of loaded.files) files.push({ name: basename(f), sha256: await sha256File(f) });
  const skippedTotal = Object.values(policy.skipped).reduce((a, b) => a + b, 0);
  const { out: _out, force: _force, quiet: _quiet, source: _source, path: _path, ...params } = o;
  const manifest: Manifest = {
    format: DATASET_FORMAT,
    source: {
      name: o.source,
      path: o.path,
      files,
      kind: loaded.kind,
      ...(loaded.kind === "log" && loaded.columns
        ? {
            columns: {
              ...loaded.columns,
              order: loaded.columns.time === null ? ("file order" as const) : ("time" as const),
            },
          }
        : {}),
    },
    params: { ...params, candidateSampler: eo.candidateSampler, domain },
    seed: o.seed,
    domain,
    counts,
    users,
    items: plan.items.length,
    filters: plan.filters,
    ...(plan.cuts ? { timeCuts: plan.cuts } : {}),
    skippedBad: {
      total: skippedTotal,
      byFile: Object.fromEntries(Object.entries(policy.skipped).map(([k, v]) => [basename(k), v])),
      examples: policy.examples,
    },
    templates: {
      file: o.templates ?? `builtin:${domain}`,
      count: eo.templates.length,
      sha256: await sha256File(templateFile),
    },
    signals: {
      negativeRating: eo.signals.negativeRating,
      negativePosition: eo.signals.negativePosition,
      implicitRating: eo.signals.implicitRating,
      phi: "rating / (1 + position)^0.5",
    },
    hashes,
  };
  await writeFileAtomically(join(dir, "manifest.json"), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}
