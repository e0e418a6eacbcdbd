// A damaged prepared dataset is refused on load: counts always, sha256 unless verify=false;
// `data inspect` refuses it too instead of printing two different counts.
import assert from "node:assert/strict";
import { cp, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { loadExamples, loadPrepared } from "../../src/data/dataset.js";
import { DataError } from "../../src/data/errors.js";
import { inspectDataset } from "../../src/data/inspect.js";
import { prepareDataset } from "../../src/data/prepare.js";
import { writeSynth } from "../../src/data/synth.js";
import { tempDir } from "./helpers.js";

async function prepared(): Promise<string> {
  const d = await tempDir();
  await writeSynth(join(d, "w"), { users: 40, items: 50, seed: 1 }, false, true);
  await prepareDataset({ source: "synth", path: join(d, "w"), out: join(d, "ds"), quiet: true });
  return d;
}

async function damaged(d: string, name: string, edit: (text: string) => string): Promise<string> {
  const dir = join(d, name);
  await cp(join(d, "ds"), dir, { recursive: true });
  const file = join(dir, "train.jsonl");
  await writeFile(file, edit(await readFile(file, "utf8")));
  return dir;
}

test("a train.jsonl cut to fewer lines fails on the count, with or without verification", async () => {
  const d = await prepared();
  const intact = await loadExamples(join(d, "ds"), "train");
  assert.ok(intact.length > 10);
  const dir = await damaged(d, "cut", (t) => `${t.split("\n").slice(0, 10).join("\n")}\n`);
  for (const verify of [true, false]) {
    await assert.rejects(loadExamples(dir, "train", { verify }), (e: unknown) => {
      assert.ok(e instanceof DataError);
      assert.match(
        e.message,
        new RegExp(`cut/train\\.jsonl: holds 10 examples, the manifest says ${intact.length}`),
      );
      return true;
    });
  }
  await assert.rejects(inspectDataset(dir), /holds 10 examples, the manifest says/);
});

test("a train.jsonl cut mid-line names the file and line", async () => {
  const d = await prepared();
  const text = await readFile(join(d, "ds", "train.jsonl"), "utf8");
  const secondLineEnd = text.indexOf("\n", text.indexOf("\n") + 1);
  const dir = await damaged(d, "mid", (t) => t.slice(0, secondLineEnd - 20));
  await assert.rejects(loadExamples(dir, "train"), /mid\/train\.jsonl:2: invalid JSON/);
});

test("same count, edited content: the sha256 check catches it; verify=false skips it", async () => {
  const d = await prepared();
  const dir = await damaged(d, "edit", (t) => t.replace('"prompt":"', '"prompt":"X'));
  await assert.rejects(
    loadExamples(dir, "train"),
    /edit\/train\.jsonl: sha256 differs from the manifest's/,
  );
  const loose = await loadExamples(dir, "train", { verify: false });
  assert.equal(loose.length, (await loadExamples(join(d, "ds"), "train")).length);
  assert.ok(loose[0].prompt.startsWith("X"));
});

test("items.jsonl with a missing item fails on load", async () => {
  const d = await prepared();
  const dir = join(d, "items");
  await cp(join(d, "ds"), dir, { recursive: true });
  const file = join(dir, "items.jsonl");
  const lines = (await readFile(file, "utf8")).split("\n").filter((l) => l);
  await writeFile(file, `${lines.slice(0, -1).join("\n")}\n`);
  await assert.rejects(
    loadPrepared(dir, { verify: false }),
    new RegExp(`holds ${lines.length - 1} items, the manifest says ${lines.length}`),
  );
  // The intact dataset loads, and inspect prints one count per split that matches the manifest.
  const ds = await loadPrepared(join(d, "ds"));
  const text = await inspectDataset(join(d, "ds"));
  assert.match(text, new RegExp(`train: ${ds.manifest.counts.train} examples`));
});
