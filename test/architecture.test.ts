// The import graph of src/: no file imports a higher layer, no circle between folders, no
// circle between files, and no source file over 400 lines. Parsed from the sources themselves.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), "..", "src");

/** Highest first: a folder may import only folders at its own level or below. */
const LAYERS = [
  "cli",
  "serve",
  "report",
  "experiment",
  "train",
  "eval",
  "objectives",
  "baselines",
  "model",
  "data",
  "graph",
  "io",
];
/** Root modules any layer may import (types) or that may import any layer (the public API). */
const ROOTS = new Set(["recommender.ts", "index.ts"]);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory()
      ? sourceFiles(join(dir, e.name))
      : e.name.endsWith(".ts")
        ? [join(dir, e.name)]
        : [],
  );
}

/**
 * Relative imports and re-exports of a file (static `from "…"`, `import("…")`, bare `import "…"`);
 * `typeOnly` marks `import type …`/`export type …` statements, which compile to nothing.
 */
function importsOf(text: string): { spec: string; typeOnly: boolean }[] {
  const out: { spec: string; typeOnly: boolean }[] = [];
  // Comments are dropped first so an example import in a doc comment is not counted.
  const code = text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:"'`])\/\/.*$/gm, "$1");
  const re =
    /\b(?:import|export)(\s+type\b)?[^;"'`]*?\bfrom\s*["']([^"']+)["']|\bimport\s*\(\s*["']([^"']+)["']|\bimport\s+["']([^"']+)["']/g;
  for (let m = re.exec(code); m !== null; m = re.exec(code)) {
    const spec = m[2] ?? m[3] ?? m[4];
    if (spec.startsWith(".")) out.push({ spec, typeOnly: m[1] !== undefined });
  }
  return out;
}

/** The source file an import specifier names (".js" in ESM specifiers stands for the ".ts"). */
function target(from: string, spec: string): string {
  return resolve(dirname(from), spec).replace(/\.js$/, ".ts");
}

/** The top folder under src/ of a file, or null for a root module. */
function layerOf(file: string): string | null {
  const rel = relative(SRC, file);
  return rel.includes("/") ? rel.split("/")[0] : null;
}

const files = sourceFiles(SRC);
const edges = files.flatMap((f) =>
  importsOf(readFileSync(f, "utf8")).map(({ spec, typeOnly }) => ({
    from: f,
    to: target(f, spec),
    spec,
    typeOnly,
  })),
);

test("the import parser sees static, dynamic and re-export imports, not comments", () => {
  const text = [
    'import { a } from "./a.js";',
    'export { b } from "../b/b.js";',
    'import type { C } from "./c.js";',
    'const d = await import("./d.js");',
    'import "./e.js";',
    '// import { x } from "./x.js";',
    'import { y } from "node:fs";',
    "import {",
    "  type F,",
    "  g,",
    '} from "./f.js";',
    'export type { H } from "./h.js";',
  ].join("\n");
  assert.deepEqual(importsOf(text), [
    { spec: "./a.js", typeOnly: false },
    { spec: "../b/b.js", typeOnly: false },
    { spec: "./c.js", typeOnly: true },
    { spec: "./d.js", typeOnly: false },
    { spec: "./e.js", typeOnly: false },
    { spec: "./f.js", typeOnly: false },
    { spec: "./h.js", typeOnly: true },
  ]);
});

test("every folder under src/ is a known layer", () => {
  const folders = new Set(files.map(layerOf).filter((l): l is string => l !== null));
  for (const f of folders) assert.ok(LAYERS.includes(f), `src/${f}/ is not in the layer order`);
  for (const f of files)
    if (layerOf(f) === null)
      assert.ok(ROOTS.has(relative(SRC, f)), `${relative(SRC, f)} is a root module`);
});

test("every relative import names an existing source file", () => {
  const known = new Set(files);
  const missing = edges.filter((e) => !known.has(e.to));
  assert.deepEqual(
    missing.map((e) => `${relative(SRC, e.from)} → ${e.spec}`),
    [],
  );
});

test("no file imports a higher layer", () => {
  const upward: string[] = [];
  for (const e of edges) {
    const from = layerOf(e.from);
    const to = layerOf(e.to);
    if (from === null || to === null) continue; // roots: index.ts re-exports, recommender.ts types
    if (LAYERS.indexOf(to) < LAYERS.indexOf(from))
      upward.push(`${relative(SRC, e.from)} (${from}) → ${relative(SRC, e.to)} (${to})`);
  }
  assert.deepEqual(upward, []);
});

/** Strongly connected components with more than one node (Tarjan), each sorted. */
function cycles(nodes: string[], next: (n: string) => Iterable<string>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  let counter = 0;
  const visit = (v: string): void => {
    index.set(v, counter);
    low.set(v, counter++);
    stack.push(v);
    onStack.add(v);
    for (const w of next(v)) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1) out.push(scc.sort());
    }
  };
  for (const n of nodes) if (!index.has(n)) visit(n);
  return out;
}

test("the cycle finder finds a circle and ignores a chain", () => {
  const g: Record<string, string[]> = { a: ["b"], b: ["c"], c: ["a"], d: ["a"] };
  assert.deepEqual(
    cycles(Object.keys(g), (n) => g[n]),
    [["a", "b", "c"]],
  );
});

test("no circle between layer folders", () => {
  // Within a layer a folder and its sub-folders may use each other (data/ ↔ data/sources/);
  // between layers any circle is a design error even when the layer order would allow half of it.
  const folderEdges = new Map<string, Set<string>>();
  for (const e of edges) {
    const a = layerOf(e.from);
    const b = layerOf(e.to);
    if (a !== null && b !== null && a !== b) {
      if (!folderEdges.has(a)) folderEdges.set(a, new Set());
      folderEdges.get(a)!.add(b);
    }
  }
  const folderCycles = cycles([...folderEdges.keys()], (n) => folderEdges.get(n) ?? []);
  assert.deepEqual(folderCycles, [], "layer folders import each other");
});

/**
 * Known file circles, each with the reason it is accepted. graph/ops: each op family's gradient
 * rules are written with the other families' ops (Add's gradient sums with ReduceSum, ReduceMax's
 * compares with Equal); breaking it means separating op builders from gradient rules.
 */
const ACCEPTED_FILE_CIRCLES = [
  ["graph/ops/elementwise.ts", "graph/ops/reduce.ts", "graph/ops/shape.ts"],
];

test("no circle between files (type-only imports aside: they compile to nothing)", () => {
  const fileEdges = new Map<string, Set<string>>();
  for (const e of edges) {
    if (e.typeOnly) continue;
    if (!fileEdges.has(e.from)) fileEdges.set(e.from, new Set());
    fileEdges.get(e.from)!.add(e.to);
  }
  const fileCycles = cycles(files, (n) => fileEdges.get(n) ?? []).map((c) =>
    c.map((f) => relative(SRC, f)),
  );
  const accepted = new Set(ACCEPTED_FILE_CIRCLES.map((c) => c.join(" ")));
  assert.deepEqual(
    fileCycles.filter((c) => !accepted.has(c.join(" "))),
    [],
    "files import each other",
  );
});

/** Lines as `wc -l` counts them (a final newline does not start another line). */
function lineCount(text: string): number {
  return text.split("\n").length - (text.endsWith("\n") ? 1 : 0);
}

test("no source file is over 400 lines", () => {
  const long = files
    .map((f) => ({ f: relative(SRC, f), n: lineCount(readFileSync(f, "utf8")) }))
    .filter(({ n }) => n > 400)
    .map(({ f, n }) => `${f}: ${n} lines`);
  assert.deepEqual(long, []);
});
