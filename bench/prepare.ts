// Benchmark of `data prepare`: a generated log of 10M interactions (100k users, 50k items), and the
// conversion of S-DPO's LastFM training file. Prints one JSON line:
// {"interactions", "seconds", "peak_rss_mb", "sdpo_lastfm_train_seconds", ...}.
// Usage: tsx bench/prepare.ts [--interactions N] [--users U] [--items I]
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { LineWriter } from "../src/data/lines.js";
import { prepareDataset } from "../src/data/prepare.js";
import { dataRng } from "../src/io/rng.js";

const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
};
const interactions = arg("interactions", 10_000_000);
const users = arg("users", 100_000);
const items = arg("items", 50_000);

const work = await mkdtemp(join(tmpdir(), "prefrec-bench-"));
try {
  // A skewed log: item = floor(items · u^2) gives a popularity long tail; times increase per user.
  const logFile = join(work, "log.csv");
  const rng = dataRng(7);
  const w = await LineWriter.create(logFile);
  await w.write("user,item,rating,time");
  const per = Math.floor(interactions / users);
  let n = 0;
  for (let u = 0; u < users; u++) {
    const len = u === users - 1 ? interactions - n : per;
    let t = 1_500_000_000 + rng.int(1_000_000);
    for (let k = 0; k < len; k++) {
      const r = rng.uniform();
      t += 1 + rng.int(5000);
      await w.write(`${u},${Math.floor(items * r * r)},${1 + rng.int(5)},${t}`);
    }
    n += len;
  }
  await w.close();

  const t0 = performance.now();
  const m = await prepareDataset({
    source: "csv",
    path: logFile,
    columns: { user: "user", item: "item", rating: "rating", time: "time" },
    out: join(work, "ds"),
    split: "last",
    maxTrain: 200_000,
    quiet: true,
  });
  const seconds = (performance.now() - t0) / 1000;

  let sdpoSeconds: number | null = null;
  const here = dirname(fileURLToPath(import.meta.url));
  const sdpoTrain = resolve(here, "../../shared/data/lastfm/sdpo-cans20/lastfm-train.json");
  if (existsSync(sdpoTrain)) {
    const dir = join(work, "sdpo");
    await mkdir(dir);
    await symlink(sdpoTrain, join(dir, "lastfm-train.json"));
    const t1 = performance.now();
    await prepareDataset({ source: "sdpo", path: dir, out: join(work, "sdpo-ds"), quiet: true });
    sdpoSeconds = Math.round((performance.now() - t1) / 10) / 100;
  }
  const peak = process.resourceUsage().maxRSS / 1024;
  process.stdout.write(
    `${JSON.stringify({
      interactions,
      seconds: Math.round(seconds * 100) / 100,
      peak_rss_mb: Math.round(peak),
      sdpo_lastfm_train_seconds: sdpoSeconds,
      users,
      items,
      examples: m.counts,
      split: "last",
      max_train: 200_000,
    })}\n`,
  );
} finally {
  await rm(work, { recursive: true, force: true });
}
