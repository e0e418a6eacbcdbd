// `data prepare`: source → (DuckDB filters) → splits → examples → a dataset directory, atomically.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { badRowPolicy, DataError } from "./errors.js";
import {
  type CandidateSampler,
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
import { LineWriter, sha256File, writeDirAtomically, writeFileAtomically } from "./lines.js";
import type { Loaded, LoadOptions } from "./log.js";
import { DEFAULT_PREPARE, type PrepareOptions, parsePrepareOptions } from "./options.js";
import { note, startProgress } from "./progress.js";
import { builtinTemplatePath, DEFAULT_PROMPT_STYLE, loadTemplates } from "./prompts.js";
import { loadSource } from "./sources/index.js";
import { type Domain, type Item, SPLITS, type SplitName } from "./types.js";

export { DEFAULT_PREPARE, type PrepareOptions } from "./options.js";

/** The manifest format tag; bump on incompatible changes. */
export const DATASET_FORMAT = "prefrec-dataset/1";

/** The manifest written as manifest.json (see docs/data.md). */
export interface Manifest {
  format: string;
  source: { name: string; path: string; files: { name: string; sha256: string }[] };
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

/** Prepares a dataset directory; returns its manifest. Fails without leaving a partial directory. */
export async function prepareDataset(
  options: Partial<PrepareOptions> & Pick<PrepareOptions, "source" | "path" | "out">,
): Promise<Manifest> {
  // Validated before any data is read; the key order (defaults first) is the manifest's.
  const o: PrepareOptions = { ...DEFAULT_PREPARE, ...options, ...parsePrepareOptions(options) };
  const policy = badRowPolicy(o.skipBad);
  const loadOpts: LoadOptions = {
    path: o.path,
    policy,
    columns: o.columns,
    titleFile: o.titleFile,
    metaFile: o.metaFile,
    domain: o.domain,
    quiet: o.quiet,
  };
  const started = performance.now();
  const say = (m: string) =>
    note(`${m} (${((performance.now() - started) / 1000).toFixed(1)} s)`, o.quiet);
  say(`loading ${o.source} from ${o.path}`);
  const loaded = await loadSource(o.source, loadOpts);
  say(
    loaded.kind === "log"
      ? `loaded ${loaded.log.length} interactions, ${loaded.log.userIds.length} users, ${loaded.log.itemIds.length} items`
      : `loaded ${loaded.splits.train.length + loaded.splits.valid.length + loaded.splits.test.length} ready-made examples, ${loaded.items.length} items`,
  );
  const domain = o.domain ?? loaded.domain;
  const sampler: CandidateSampler =
    o.candidateSampler ?? (loaded.kind === "examples" ? loaded.defaultSampler : "uniform");
  if (sampler === "given" && loaded.kind !== "examples")
    throw new DataError(
      "--candidate-sampler given needs a source with stored candidate lists (sdpo)",
    );
  const templateFile = o.templates ?? builtinTemplatePath(domain);
  const templates = await loadTemplates(domain, templateFile);
  const exampleOpts: ExampleOptions = {
    seed: o.seed,
    split: o.split,
    userRatio: o.userRatio,
    timeValid: o.timeValid,
    timeTest: o.timeTest,
    minHistory: o.minHistory,
    historyWindow: o.historyWindow,
    numCandidates: o.candidates,
    numNegatives: o.negatives,
    negativeSampling: o.negativeSampling,
    candidateSampler: sampler,
    followCandidates: o.followCandidates,
    chosen: o.chosen,
    maxExamples: { train: o.maxTrain, valid: o.maxValid, test: o.maxTest },
    signals: {
      negativeRating: o.negativeRating,
      negativePosition: o.negativePosition,
      implicitRating: o.implicitRating,
    },
    style: {
      ...DEFAULT_PROMPT_STYLE,
      showRatings: o.showRatings,
      historySeparator: o.historySeparator,
    },
    templates,
  };
  const work = await mkdtemp(join(tmpdir(), "prefrec-prepare-"));
  try {
    const plan = await planExamples(loaded, o, exampleOpts, work);
    say(
      `filtered and split: ${plan.sizes.train} train, ${plan.sizes.valid} valid, ${plan.sizes.test} test positions`,
    );
    let manifest: Manifest | undefined;
    await writeDirAtomically(
      o.out,
      async (tmp) => {
        manifest = await writeDataset(
          tmp,
          plan,
          o,
          exampleOpts,
          loaded,
          domain,
          templateFile,
          policy,
        );
      },
      o.force,
    );
    say(`wrote ${o.out}`);
    return manifest as Manifest;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** What to write: the catalog and, per split, a way to enumerate units. */
interface Plan {
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

async function planExamples(
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

async function writeDataset(
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
    source: { name: o.source, path: o.path, files },
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
