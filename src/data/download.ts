// `data download`: fetch public datasets from their official sites, with progress and checksums.

import { createHash } from "node:crypto";
import { mkdir, open, readdir, rename, rm, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { writeFileAtomic } from "../io/atomic.js";
import { RuntimeFailure } from "../io/errors.js";
import { removeOnInterrupt } from "../io/interrupt.js";
import { startProgress } from "../io/progress.js";
import { DataError } from "./errors.js";
import { exists } from "./lines.js";
import { readZip } from "./zip.js";

/** One downloadable dataset: files to fetch and, for archives, which members to keep. */
export interface DownloadSpec {
  name: string;
  description: string;
  files: { url: string; md5Url?: string; unzip?: boolean }[];
  /** Files `data prepare` needs in the folder (for the offline message). */
  expect: string[];
  source: string;
}

/** The public datasets and their official download locations. */
export const DOWNLOADS: Record<string, DownloadSpec> = {
  "movielens-100k": {
    name: "movielens-100k",
    description: "MovieLens 100K (GroupLens): 100,000 ratings, 943 users, 1,682 movies",
    files: [
      {
        url: "https://files.grouplens.org/datasets/movielens/ml-100k.zip",
        md5Url: "https://files.grouplens.org/datasets/movielens/ml-100k.zip.md5",
        unzip: true,
      },
    ],
    expect: ["u.data", "u.item"],
    source: "movielens-100k",
  },
  "movielens-1m": {
    name: "movielens-1m",
    description: "MovieLens 1M (GroupLens): 1,000,209 ratings, 6,040 users, 3,706 movies",
    files: [
      {
        url: "https://files.grouplens.org/datasets/movielens/ml-1m.zip",
        md5Url: "https://files.grouplens.org/datasets/movielens/ml-1m.zip.md5",
        unzip: true,
      },
    ],
    expect: ["ratings.dat", "movies.dat"],
    source: "movielens-1m",
  },
  "lastfm-hetrec": {
    name: "lastfm-hetrec",
    description:
      "Last.fm HetRec 2011 (GroupLens): 1,892 users, 17,632 artists, play counts and tag times",
    files: [
      {
        url: "https://files.grouplens.org/datasets/hetrec2011/hetrec2011-lastfm-2k.zip",
        unzip: true,
      },
    ],
    expect: ["user_artists.dat", "artists.dat", "user_taggedartists-timestamps.dat"],
    source: "lastfm-hetrec",
  },
  goodbooks: {
    name: "goodbooks",
    description: "goodbooks-10k (Zygmunt Zając, CC BY-SA 4.0): 6M ratings of 10,000 books",
    files: [
      {
        url: "https://github.com/zygmuntz/goodbooks-10k/releases/download/v1.0/goodbooks-10k.zip",
        unzip: true,
      },
    ],
    expect: ["ratings.csv", "books.csv"],
    source: "goodbooks",
  },
  steam: {
    name: "steam",
    description: "Steam reviews and games (UCSD, Kang & McAuley 2018)",
    files: [
      { url: "https://cseweb.ucsd.edu/~wckang/steam_reviews.json.gz" },
      { url: "https://cseweb.ucsd.edu/~wckang/steam_games.json.gz" },
    ],
    expect: ["steam_reviews.json.gz", "steam_games.json.gz"],
    source: "steam",
  },
};

/** Amazon Reviews 2023 for one category (e.g. Books, Video_Games): reviews + metadata. */
export function amazonSpec(category: string): DownloadSpec {
  const base = "https://datarepo.eng.ucsd.edu/mcauley_group/data/amazon_2023/raw";
  return {
    name: `amazon-${category}`,
    description: `Amazon Reviews 2023 (McAuley Lab), category ${category}`,
    files: [
      { url: `${base}/review_categories/${category}.jsonl.gz` },
      { url: `${base}/meta_categories/meta_${category}.jsonl.gz` },
    ],
    expect: [`${category}.jsonl.gz`, `meta_${category}.jsonl.gz`],
    source: "amazon",
  };
}

function offlineMessage(spec: DownloadSpec, target: string, why: string): string {
  return [
    `cannot download ${spec.name}: ${why}`,
    "To install it by hand, fetch on a machine with network access:",
    ...spec.files.map((f) => `  ${f.url}${f.unzip ? "  (unzip it)" : ""}`),
    `and put ${spec.expect.join(", ")} into ${target}/, then run:`,
    `  prefrec data prepare --source ${spec.source} --path ${target} --out <dir>`,
  ].join("\n");
}

/** Fetches one URL to `dest` through a temporary file, with progress; returns its md5 and sha256. */
async function fetchTo(
  url: string,
  dest: string,
  quiet: boolean,
  timeoutMs: number,
): Promise<{ md5: string; sha256: string }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  if (!res.ok || !res.body) throw new RuntimeFailure(`HTTP ${res.status} for ${url}`);
  const total = Number(res.headers.get("content-length") ?? 0);
  const bar = startProgress(basename(dest), total || 1, quiet);
  const md5 = createHash("md5");
  const sha = createHash("sha256");
  const tmp = `${dest}.part-${process.pid}`;
  const fh = await open(tmp, "w");
  const forget = removeOnInterrupt(tmp); // Ctrl-C leaves no partial download behind
  try {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      md5.update(chunk);
      sha.update(chunk);
      await fh.write(chunk);
      bar.tick(chunk.length);
    }
  } catch (e) {
    await fh.close();
    await rm(tmp, { force: true });
    forget();
    throw e;
  }
  await fh.close();
  bar.done();
  await rename(tmp, dest);
  forget();
  return { md5: md5.digest("hex"), sha256: sha.digest("hex") };
}

/**
 * Downloads a dataset into `dir/<name>` (archives unpacked flat), verifies the published MD5 where
 * the site provides one, and records sha256 sums in `SHA256SUMS`. Fails fast when offline.
 */
export async function downloadDataset(
  name: string,
  dir: string,
  opts: { category?: string; quiet?: boolean; timeoutMs?: number } = {},
): Promise<{ dir: string; files: string[] }> {
  const spec = name === "amazon" ? amazonSpec(opts.category ?? "") : DOWNLOADS[name];
  if (!spec)
    throw new DataError(
      `unknown dataset ${JSON.stringify(name)}; expected one of ${[...Object.keys(DOWNLOADS), "amazon"].join(", ")}`,
    );
  if (name === "amazon" && !opts.category)
    throw new DataError("amazon needs --category (e.g. Books, Video_Games, Movies_and_TV)");
  return downloadSpec(spec, dir, opts);
}

/** Downloads the files of one spec into `dir/<spec.name>` (see downloadDataset). */
export async function downloadSpec(
  spec: DownloadSpec,
  dir: string,
  opts: { quiet?: boolean; timeoutMs?: number } = {},
): Promise<{ dir: string; files: string[] }> {
  const target = join(dir, spec.name);
  const quiet = opts.quiet ?? false;
  const timeoutMs = opts.timeoutMs ?? 20000;
  // Fail fast: probe the first host with a short timeout before creating anything.
  try {
    await fetch(spec.files[0].url, {
      method: "HEAD",
      signal: AbortSignal.timeout(Math.min(timeoutMs, 8000)),
    });
  } catch (e) {
    throw new DataError(
      offlineMessage(
        spec,
        target,
        `network unreachable (${(e as Error).cause ?? (e as Error).message})`,
      ),
    );
  }
  await mkdir(target, { recursive: true });
  const sums: string[] = [];
  const written: string[] = [];
  for (const f of spec.files) {
    const dest = join(target, basename(new URL(f.url).pathname));
    let sum: { md5: string; sha256: string };
    try {
      sum = await fetchTo(f.url, dest, quiet, 30 * 60 * 1000);
    } catch (e) {
      throw new DataError(offlineMessage(spec, target, (e as Error).message));
    }
    if (f.md5Url) {
      const expected = await fetch(f.md5Url, { signal: AbortSignal.timeout(timeoutMs) })
        .then((r) => (r.ok ? r.text() : ""))
        .catch(() => "");
      const want = /[0-9a-f]{32}/i.exec(expected)?.[0]?.toLowerCase();
      if (want && want !== sum.md5) {
        await rm(dest, { force: true });
        throw new DataError(
          `checksum mismatch for ${basename(dest)}: md5 ${sum.md5}, published ${want}`,
        );
      }
    }
    sums.push(`${sum.sha256}  ${basename(dest)}`);
    if (f.unzip) {
      const entries = await readZip(dest);
      for (const [entry, data] of entries) {
        const out = join(target, basename(entry));
        await mkdir(dirname(out), { recursive: true });
        await writeFileAtomic(out, data);
        written.push(out);
      }
    } else written.push(dest);
  }
  await writeFile(join(target, "SHA256SUMS"), `${sums.join("\n")}\n`);
  const missing = [];
  for (const e of spec.expect) if (!(await exists(join(target, e)))) missing.push(e);
  if (missing.length)
    throw new DataError(
      `downloaded, but ${missing.join(", ")} not found in ${target}: ${(await readdir(target)).join(", ")}`,
    );
  return { dir: target, files: written };
}

/** The names `data download` accepts, for help texts. */
export const DATASETS_HELP = [...Object.keys(DOWNLOADS), "amazon --category C"].join(", ");
