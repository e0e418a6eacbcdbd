// Reads a training corpus for the tokenizer trainer: a text file (one document per line) or a
// directory of .txt files (searched recursively, in sorted order so results are reproducible).
import { createReadStream } from "node:fs";
import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { UserError } from "../../io/errors.js";

/** The .txt files of a corpus path (the path itself when it is a file). */
export async function corpusFiles(path: string): Promise<string[]> {
  const info = await stat(path).catch(() => null);
  if (info === null) throw new UserError(`${path}: corpus does not exist`);
  if (info.isFile()) return [path];
  const out: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) =>
      a.name < b.name ? -1 : 1,
    );
    for (const entry of entries) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) await walk(full);
      else if (entry.isFile() && entry.name.endsWith(".txt")) out.push(full);
    }
  };
  await walk(path);
  if (out.length === 0) throw new UserError(`${path}: directory holds no .txt files`);
  return out;
}

/** Streams the corpus line by line, each line with its newline restored (so "\n" is learned too). */
export async function* corpusLines(path: string): AsyncGenerator<string> {
  for (const file of await corpusFiles(path)) {
    const lines = createInterface({
      input: createReadStream(file, { encoding: "utf8" }),
      crlfDelay: Number.POSITIVE_INFINITY,
    });
    for await (const line of lines) yield `${line}\n`;
  }
}
