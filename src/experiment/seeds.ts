// An experiment with `seeds`: the whole experiment once per seed into OUT/seed-<s>/ (each an
// ordinary experiment directory, so finished steps are reused and an interrupted run resumes),
// then OUT/results.json and OUT/results.md with mean ± std over the seeds.

import { join } from "node:path";
import { writeFileAtomic } from "../io/atomic.js";
import {
  aggregateSeeds,
  allMetrics,
  type SeedRun,
  type SeedsAggregate,
  userViews,
} from "./aggregate.js";
import { type ExperimentConfig, seedConfig } from "./config.js";
import {
  type ExperimentOptions,
  type ExperimentResult,
  type ResultRow,
  runExperiment,
} from "./run.js";
import { seedsMarkdown } from "./seeds-md.js";

/** A multi-seed experiment's result: every seed's rows (each with its seed) and the aggregate. */
export interface SeedsResult extends ExperimentResult {
  rows: (ResultRow & { seed: number })[];
  aggregate: SeedsAggregate;
}

/**
 * Runs (or continues) an experiment: once per seed when the config has `seeds`, else exactly as
 * `runExperiment`.
 */
export async function runExperimentSeeds(
  config: ExperimentConfig,
  options: ExperimentOptions,
): Promise<ExperimentResult | SeedsResult> {
  const seeds = config.seeds;
  if (!seeds) return runExperiment(config, options);
  const runs: SeedRun[] = [];
  for (const [i, seed] of seeds.entries()) {
    // Ctrl-C during an evaluation lets it finish; the next seed does not start.
    if (options.signal?.aborted)
      throw new Error(`interrupted before seed ${seed}; run the experiment again to continue`);
    const dir = join(options.out, `seed-${seed}`);
    const single = seedConfig(config, seed);
    const label = `seed ${seed} (${i + 1}/${seeds.length}) `;
    if (!options.quiet) process.stderr.write(`${label}→ ${dir}\n`);
    const result = await runExperiment(single, { ...options, out: dir, label });
    runs.push({ seed, dir, rows: result.rows, views: await userViews(dir, single, result.rows) });
  }
  const shown = shownConfig(config);
  const aggregate = aggregateSeeds(config.name, runs);
  const markdown = seedsMarkdown(shown, aggregate, allMetrics(runs));
  const rows = runs.flatMap((r) => r.rows.map((row) => ({ seed: r.seed, ...row })));
  await writeFileAtomic(join(options.out, "results.md"), markdown);
  await writeFileAtomic(
    join(options.out, "results.json"),
    `${JSON.stringify({ ...aggregate, config: shown, rows }, null, 2)}\n`,
  );
  return { name: config.name, rows, markdown, dir: options.out, aggregate };
}

/** The config as written: `seed` and `model.seed` (schema defaults here) come from `seeds`. */
function shownConfig(config: ExperimentConfig): Omit<ExperimentConfig, "seed"> {
  const { seed: _s, ...rest } = config;
  const { seed: _m, ...model } = config.model;
  // Keys stay in the config's order (the page's YAML reads like the file).
  return { ...rest, model: model as ExperimentConfig["model"] };
}
