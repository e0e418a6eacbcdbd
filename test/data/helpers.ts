// Shared test helpers: temporary folders with small fixture files written by the tests themselves.
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after } from "node:test";

/** A fresh temporary folder, removed when the test file finishes. */
export async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "prefrec-data-test-"));
  after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Writes files (path → content) under `dir`. */
export async function writeFiles(
  dir: string,
  files: Record<string, string | Buffer>,
): Promise<void> {
  for (const [p, content] of Object.entries(files)) {
    await mkdir(dirname(join(dir, p)), { recursive: true });
    await writeFile(join(dir, p), content);
  }
}

/** Reads a JSON-lines file into objects. */
export async function readJsonl<T = Record<string, unknown>>(file: string): Promise<T[]> {
  const { readFile } = await import("node:fs/promises");
  const text = await readFile(file, "utf8");
  return text
    .split("\n")
    .filter((l) => l)
    .map((l) => JSON.parse(l) as T);
}
