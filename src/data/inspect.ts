// `data inspect`: counts, history-length and popularity summaries, and a few rendered prompts.
import { type LoadOptions, loadPrepared, readExamples } from "./dataset.js";
import { SPLITS } from "./types.js";

function summary(xs: number[]): string {
  if (!xs.length) return "n/a";
  const s = xs.slice().sort((a, b) => a - b);
  const mean = s.reduce((a, b) => a + b, 0) / s.length;
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return `min ${s[0]}, median ${q(0.5)}, mean ${mean.toFixed(2)}, p90 ${q(0.9)}, max ${s[s.length - 1]}`;
}

/** Builds the inspection report of a prepared dataset as text. */
export async function inspectDataset(
  dir: string,
  samples = 2,
  options: LoadOptions = {},
): Promise<string> {
  const ds = await loadPrepared(dir, options);
  const m = ds.manifest;
  const out: string[] = [];
  out.push(`dataset ${dir}`);
  out.push(
    `  source ${m.source.name} (${m.source.path}), domain ${m.domain}, seed ${m.seed}, format ${m.format}`,
  );
  out.push(
    `  items ${m.items}; examples train ${m.counts.train}, valid ${m.counts.valid}, test ${m.counts.test}`,
  );
  const users = m.users.train + m.users.valid + m.users.test;
  const readyMade = m.source.kind === "examples" || (m.source.kind === undefined && users === 0);
  if (readyMade) {
    // Published splits (S-DPO, LLaRA) come as examples: no user ids, no split of ours.
    out.push(
      "  splits as published by the source (the split options do not apply); users not identified",
    );
  } else {
    out.push(`  users train ${m.users.train}, valid ${m.users.valid}, test ${m.users.test}`);
    const p = m.params as Record<string, unknown>;
    const split =
      p.split === "users"
        ? `users ${(p.userRatio as number[]).join(":")}`
        : p.split === "time"
          ? `time (valid from ${p.timeValid}, test from ${p.timeTest})`
          : String(p.split);
    out.push(`  split ${split}; min history ${p.minHistory}, history window ${p.historyWindow}`);
  }
  for (const f of m.filters)
    out.push(`  filter ${f.step}: removed ${f.removed}, ${f.remaining} left`);
  if (m.skippedBad.total) out.push(`  skipped bad rows: ${m.skippedBad.total}`);
  const targetCount = new Map<number, number>();
  for (const s of SPLITS) {
    const lens: number[] = [];
    const cands: number[] = [];
    const shown: string[] = [];
    let n = 0;
    for await (const e of readExamples(dir, s, options)) {
      lens.push(e.history.length);
      cands.push(e.candidates.length);
      if (s === "train") targetCount.set(e.target.item, (targetCount.get(e.target.item) ?? 0) + 1);
      if (n++ < samples)
        shown.push(
          `    [${e.id}] user ${e.user || "-"} → target "${e.target.title}" (index ${e.target.index}, φ ${e.target.phi}); negatives ${e.negatives.map((x) => `"${x.title}"`).join(", ")}\n      ${e.prompt.replaceAll("\n", "\n      ")}`,
        );
    }
    out.push(`${s}: ${n} examples`);
    out.push(`  history length: ${summary(lens)}`);
    out.push(`  candidates per example: ${summary(cands)}`);
    out.push(...shown);
  }
  const counts = [...targetCount.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0]);
  const total = counts.reduce((a, [, c]) => a + c, 0);
  if (total) {
    const top = Math.max(1, Math.ceil(ds.items.length * 0.1));
    const topShare = counts.slice(0, top).reduce((a, [, c]) => a + c, 0) / total;
    out.push(
      `popularity (train targets): ${counts.length} distinct of ${ds.items.length} items; top 10% of items take ${(100 * topShare).toFixed(1)}% of targets`,
    );
    out.push(
      `  most frequent: ${counts
        .slice(0, 5)
        .map(([i, c]) => `"${ds.items[i]?.title}" ×${c}`)
        .join(", ")}`,
    );
  }
  return out.join("\n");
}
