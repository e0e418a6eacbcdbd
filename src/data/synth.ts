// The synthetic world: a latent-factor catalog and users with drifting tastes, popularity skew,
// noisy 1–5 ratings and timestamps. Deterministic per seed; the latent truth is saved beside it.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { startProgress } from "../io/progress.js";
import { dataRng, deriveSeed, type Rng } from "../io/rng.js";
import { DataError } from "./errors.js";
import { LineWriter, writeDirAtomically, writeFileAtomically } from "./lines.js";

/** Generator parameters; the defaults keep the whole demo to a few minutes. */
export interface SynthOptions {
  users: number;
  items: number;
  seed: number;
  /** Latent dimension. */
  dim: number;
  genres: number;
  /** Mean events per user (log-normal around it, at least `minLength`). */
  meanLength: number;
  minLength: number;
  /** Size of the taste drift over a user's whole sequence, relative to the taste vector. */
  drift: number;
  /** Popularity skew: item bias = −skew·log(1 + popularity rank). */
  popularitySkew: number;
  /** Choice temperature (Gumbel noise scale) and rating noise (std, in rating points). */
  temperature: number;
  ratingNoise: number;
  /** First timestamp (Unix seconds). */
  startTime: number;
}

export const DEFAULT_SYNTH: SynthOptions = {
  users: 300,
  items: 200,
  seed: 1,
  dim: 8,
  genres: 6,
  meanLength: 20,
  minLength: 8,
  drift: 0.6,
  popularitySkew: 0.35,
  temperature: 0.35,
  ratingNoise: 0.6,
  startTime: 1_600_000_000,
};

const GENRES = [
  "Adventure",
  "Mystery",
  "Romance",
  "Science Fiction",
  "Comedy",
  "Drama",
  "Horror",
  "Fantasy",
  "Thriller",
  "Documentary",
  "Western",
  "Musical",
];
const ADJ = [
  "Silent",
  "Crimson",
  "Hidden",
  "Golden",
  "Broken",
  "Midnight",
  "Wandering",
  "Frozen",
  "Burning",
  "Lost",
  "Electric",
  "Velvet",
  "Hollow",
  "Distant",
  "Savage",
  "Gentle",
  "Restless",
  "Forgotten",
  "Secret",
  "Bright",
  "Iron",
  "Paper",
  "Silver",
  "Wild",
  "Quiet",
  "Emerald",
  "Last",
  "Endless",
  "Shattered",
  "Northern",
];
const NOUN = [
  "Harbor",
  "Garden",
  "Empire",
  "River",
  "Lantern",
  "Kingdom",
  "Voyage",
  "Mirror",
  "Forest",
  "City",
  "Promise",
  "Horizon",
  "Castle",
  "Storm",
  "Letter",
  "Island",
  "Machine",
  "Orchard",
  "Crown",
  "Signal",
  "Valley",
  "Tide",
  "Archive",
  "Circus",
  "Compass",
  "Meadow",
  "Tower",
  "Winter",
  "Echo",
  "Station",
];

/** The latent model behind a synthetic world, saved as truth.json. */
export interface SynthTruth {
  options: SynthOptions;
  genreNames: string[];
  itemGenre: number[];
  itemVectors: number[][];
  itemBias: number[];
  userStart: number[][];
  userDrift: number[][];
  affinityMean: number;
  affinityStd: number;
}

const dot = (a: readonly number[], b: readonly number[]) => a.reduce((s, x, i) => s + x * b[i], 0);
const r4 = (x: number) => Math.round(x * 1e4) / 1e4;

/** A user's taste at progress `t` ∈ [0, 1] through their sequence. */
export function tasteAt(truth: SynthTruth, user: number, t: number): number[] {
  return truth.userStart[user].map((x, k) => x + t * truth.userDrift[user][k]);
}

/** The ground-truth preference score (affinity + popularity bias) of `item` for `user` at progress t. */
export function truthScore(truth: SynthTruth, user: number, item: number, t: number): number {
  return dot(tasteAt(truth, user, t), truth.itemVectors[item]) + truth.itemBias[item];
}

/** Readable, unique titles: "The Silent Harbor", "Crimson Garden", "Echo of the Lost Tower"… */
function makeTitles(n: number, rng: Rng): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  while (out.length < n) {
    const a = ADJ[rng.int(ADJ.length)];
    const b = NOUN[rng.int(NOUN.length)];
    const c = NOUN[rng.int(NOUN.length)];
    const form = rng.int(3);
    let t = form === 0 ? `The ${a} ${b}` : form === 1 ? `${a} ${b}` : `${b} of the ${a} ${c}`;
    for (let k = 2; seen.has(t); k++) t = `${t.replace(/ \d+$/, "")} ${k}`;
    seen.add(t);
    out.push(t);
  }
  return out;
}

/** Generates the world in memory: truth plus interactions (user, item, rating, time) per user. */
export function generateWorld(options: Partial<SynthOptions> = {}): {
  truth: SynthTruth;
  titles: string[];
  interactions: { user: number; item: number; rating: number; time: number }[];
} {
  const o = { ...DEFAULT_SYNTH, ...options };
  for (const [k, v] of Object.entries({
    users: o.users,
    items: o.items,
    dim: o.dim,
    genres: o.genres,
  }))
    if (!Number.isInteger(v) || v < 1)
      throw new DataError(`synth: --${k} must be a positive integer, got ${v}`);
  if (o.items < o.minLength + 1)
    throw new DataError(`synth: --items must exceed the minimum sequence length ${o.minLength}`);
  const rng = dataRng(deriveSeed(o.seed, "world"));
  const G = Math.min(o.genres, GENRES.length);
  const norm = (v: number[]) => {
    const s = Math.sqrt(dot(v, v)) || 1;
    return v.map((x) => x / s);
  };
  const centroids = Array.from({ length: G }, () =>
    norm(Array.from({ length: o.dim }, () => rng.normal())),
  );
  const itemGenre = Array.from({ length: o.items }, () => rng.int(G));
  const itemVectors = itemGenre.map((g) =>
    centroids[g].map((x) => r4(1.5 * x + rng.normal(0, 0.5 / Math.sqrt(o.dim)))),
  );
  const popRank = rng.shuffle(Array.from({ length: o.items }, (_, i) => i));
  const itemBias = popRank.map((r) => r4(-o.popularitySkew * Math.log(1 + r)));
  const userStart: number[][] = [];
  const userDrift: number[][] = [];
  for (let u = 0; u < o.users; u++) {
    const g1 = rng.int(G);
    const g2 = rng.int(G);
    const w = rng.uniform();
    userStart.push(
      centroids[g1].map((x, k) =>
        r4(
          1.2 * (w * x + (1 - w) * 0.5 * centroids[g2][k]) + rng.normal(0, 0.3 / Math.sqrt(o.dim)),
        ),
      ),
    );
    const target = centroids[rng.int(G)];
    userDrift.push(target.map((x, k) => r4(o.drift * (x - userStart[u][k]))));
  }
  let sum = 0;
  let sq = 0;
  for (let u = 0; u < o.users; u++)
    for (let i = 0; i < o.items; i++) {
      const a = dot(userStart[u], itemVectors[i]);
      sum += a;
      sq += a * a;
    }
  const cnt = o.users * o.items;
  const affinityMean = sum / cnt;
  const affinityStd = Math.sqrt(Math.max(sq / cnt - affinityMean * affinityMean, 1e-9));
  const truth: SynthTruth = {
    options: o,
    genreNames: GENRES.slice(0, G),
    itemGenre,
    itemVectors,
    itemBias,
    userStart,
    userDrift,
    affinityMean: r4(affinityMean),
    affinityStd: r4(affinityStd),
  };
  const titles = makeTitles(o.items, dataRng(deriveSeed(o.seed, "titles")));
  const interactions: { user: number; item: number; rating: number; time: number }[] = [];
  for (let u = 0; u < o.users; u++) {
    const ur = dataRng(deriveSeed(o.seed, "user", u));
    // At most 60% of the catalog, so 20-item candidate lists of unseen items remain possible.
    const len = Math.min(
      Math.max(o.minLength, Math.floor(0.6 * o.items)),
      Math.max(
        o.minLength,
        Math.round(Math.exp(Math.log(o.meanLength) - 0.125 + 0.5 * ur.normal())),
      ),
    );
    const used = new Uint8Array(o.items);
    let time = o.startTime + Math.floor(ur.uniform() * 180 * 86400);
    for (let k = 0; k < len; k++) {
      const taste = tasteAt(truth, u, len > 1 ? k / (len - 1) : 0);
      let best = -1;
      let bestScore = Number.NEGATIVE_INFINITY;
      for (let i = 0; i < o.items; i++) {
        if (used[i]) continue;
        const gumbel = -Math.log(-Math.log(1 - ur.uniform() * 0.999999 - 5e-7));
        const s = (dot(taste, itemVectors[i]) + itemBias[i]) / o.temperature + gumbel;
        if (s > bestScore) {
          bestScore = s;
          best = i;
        }
      }
      used[best] = 1;
      const z = (dot(taste, itemVectors[best]) - affinityMean) / affinityStd;
      const rating = Math.min(
        5,
        Math.max(1, Math.round(3.4 + 1.1 * z + ur.normal(0, o.ratingNoise))),
      );
      time += 600 + Math.floor(-Math.log(1 - ur.uniform()) * 2 * 86400);
      interactions.push({ user: u, item: best, rating, time });
    }
  }
  return { truth, titles, interactions };
}

/** Writes a synthetic world folder: interactions.csv, items.jsonl, truth.json, README.md. */
export async function writeSynth(
  dir: string,
  options: Partial<SynthOptions> = {},
  force = false,
  quiet = true,
): Promise<{ interactions: number; users: number; items: number }> {
  const bar = startProgress("synth", 1, quiet);
  const world = generateWorld(options);
  bar.done();
  await writeDirAtomically(
    dir,
    async (tmp) => {
      const w = await LineWriter.create(join(tmp, "interactions.csv"));
      await w.write("user,item,rating,time");
      for (const x of world.interactions)
        await w.write(`u${x.user},i${x.item},${x.rating},${x.time}`);
      await w.close();
      const it = await LineWriter.create(join(tmp, "items.jsonl"));
      for (let i = 0; i < world.titles.length; i++)
        await it.write(
          JSON.stringify({
            id: `i${i}`,
            title: world.titles[i],
            genre: world.truth.genreNames[world.truth.itemGenre[i]],
          }),
        );
      await it.close();
      await writeFileAtomically(join(tmp, "truth.json"), `${JSON.stringify(world.truth)}\n`);
      await writeFileAtomically(
        join(tmp, "README.md"),
        [
          "# prefrec synthetic world",
          "",
          `Generated by \`prefrec data synth\` with seed ${world.truth.options.seed}: ${world.truth.options.users} users, ${world.truth.options.items} items, ${world.interactions.length} interactions.`,
          "",
          "- `interactions.csv`: user,item,rating,time (user `u<k>`, item `i<k>`, rating 1-5, Unix seconds).",
          "- `items.jsonl`: {id, title, genre}.",
          "- `truth.json`: the latent model (item vectors and biases, user start tastes and drifts); user `u<k>` is row k, item `i<k>` is row k.",
          "",
        ].join("\n"),
      );
    },
    force,
  );
  return {
    interactions: world.interactions.length,
    users: world.truth.options.users,
    items: world.truth.options.items,
  };
}

/** Reads truth.json of a synthetic world folder. */
export async function loadSynthTruth(dir: string): Promise<SynthTruth> {
  const file = join(dir, "truth.json");
  try {
    return JSON.parse(await readFile(file, "utf8")) as SynthTruth;
  } catch (e) {
    throw new DataError(`cannot read the synthetic world's truth: ${(e as Error).message}`, file);
  }
}
