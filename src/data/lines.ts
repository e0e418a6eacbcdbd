// File reading with line numbers (plain or .gz, UTF-8 checked or Latin-1) and atomic writing.
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { open, readdir, stat } from "node:fs/promises";
import { basename, dirname } from "node:path";
import { createGunzip } from "node:zlib";
import { withAtomicDir, writeFileAtomic } from "../io/atomic.js";
import { startProgress } from "../io/progress.js";
import { DataError } from "./errors.js";

export type Encoding = "utf8" | "latin1";

/** Whether a path exists. */
export async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** Throws a DataError that says which file is missing and what it is for. */
export async function requireFile(
  path: string,
  what: string,
  download?: { name: string },
): Promise<string> {
  if (!(await exists(path))) {
    // A downloadable dataset says how to get it into the folder the source expects.
    const hint = download
      ? `; \`prefrec data download ${download.name} --dir ${dirname(dirname(path))}\` fetches it`
      : "";
    throw new DataError(`missing ${what} (expected this file)${hint}`, path);
  }
  return path;
}

/**
 * Calls `onLine(text, lineNumber)` for every line (1-based, without the line break or a final CR).
 * `.gz` files are decompressed; UTF-8 input is validated so bad bytes are reported with their line.
 */
export async function forEachLine(
  file: string,
  onLine: (line: string, lineNo: number) => void,
  encoding: Encoding = "utf8",
  showProgress = false,
): Promise<number> {
  if (!(await exists(file))) throw new DataError("file not found", file);
  const raw = createReadStream(file, { highWaterMark: 1 << 20 });
  let stream: NodeJS.ReadableStream = raw;
  if (file.endsWith(".gz")) stream = stream.pipe(createGunzip());
  // Progress in bytes of the file on disk (compressed bytes for .gz), only for large files.
  const size = showProgress ? (await stat(file)).size : 0;
  const bar = startProgress(`reading ${basename(file)}`, size, size < 32 << 20);
  let seen = 0;
  let lineNo = 0;
  let rest: Buffer = Buffer.alloc(0);
  const decoder = new TextDecoder("utf-8", { fatal: true });
  const decode = (buf: Buffer, firstLine: number): string => {
    if (encoding === "latin1") return buf.toString("latin1");
    try {
      return decoder.decode(buf);
    } catch {
      let n = firstLine;
      let start = 0;
      for (let i = 0; i <= buf.length; i++) {
        if (i === buf.length || buf[i] === 10) {
          try {
            new TextDecoder("utf-8", { fatal: true }).decode(buf.subarray(start, i));
          } catch {
            throw new DataError("bad encoding: bytes that are not valid UTF-8", file, n);
          }
          n++;
          start = i + 1;
        }
      }
      throw new DataError("bad encoding: bytes that are not valid UTF-8", file, firstLine);
    }
  };
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      bar.tick(raw.bytesRead - seen);
      seen = raw.bytesRead;
      const buf = rest.length ? Buffer.concat([rest, chunk]) : chunk;
      const last = buf.lastIndexOf(10);
      if (last < 0) {
        rest = buf;
        continue;
      }
      const text = decode(buf.subarray(0, last), lineNo + 1);
      rest = Buffer.from(buf.subarray(last + 1));
      let start = 0;
      while (start <= text.length) {
        let end = text.indexOf("\n", start);
        if (end < 0) end = text.length;
        let line = text.slice(start, end);
        if (line.endsWith("\r")) line = line.slice(0, -1);
        if (lineNo === 0 && line.charCodeAt(0) === 0xfeff) line = line.slice(1);
        onLine(line, ++lineNo);
        start = end + 1;
      }
    }
  } catch (error) {
    if (error instanceof DataError) throw error;
    throw new DataError(`cannot read: ${(error as Error).message}`, file);
  }
  if (rest.length) {
    let line = decode(rest, lineNo + 1);
    if (line.endsWith("\r")) line = line.slice(0, -1);
    if (lineNo === 0 && line.charCodeAt(0) === 0xfeff) line = line.slice(1);
    onLine(line, ++lineNo);
  }
  bar.done();
  return lineNo;
}

/** Reads a whole text file (UTF-8 validated), naming the file on failure. */
export async function readText(file: string): Promise<string> {
  const parts: string[] = [];
  await forEachLine(file, (l) => parts.push(l));
  return parts.join("\n");
}

/** sha256 of a file's bytes, hex. */
export async function sha256File(file: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/** A buffered line writer: keeps memory flat on multi-gigabyte outputs. */
export class LineWriter {
  private parts: string[] = [];
  private size = 0;
  private constructor(private readonly fh: Awaited<ReturnType<typeof open>>) {}

  static async create(path: string): Promise<LineWriter> {
    return new LineWriter(await open(path, "w"));
  }

  /** Appends one line (a newline is added); flushes every few megabytes. */
  write(line: string): Promise<void> | undefined {
    this.parts.push(line, "\n");
    this.size += line.length + 1;
    if (this.size > 4 << 20) return this.flush();
    return undefined;
  }

  private async flush(): Promise<void> {
    if (!this.parts.length) return;
    await this.fh.write(this.parts.join(""));
    this.parts = [];
    this.size = 0;
  }

  async close(): Promise<void> {
    await this.flush();
    await this.fh.close();
  }
}

/**
 * Runs `build(tmpDir)` in a fresh sibling temporary directory, then renames it to `dir`; on any
 * failure the temporary directory is removed, so no half-written dataset is ever left behind.
 */
export async function writeDirAtomically(
  dir: string,
  build: (tmpDir: string) => Promise<void>,
  overwrite = false,
): Promise<void> {
  if (await exists(dir)) {
    const entries = await readdir(dir).catch(() => null);
    if (entries === null) throw new DataError("output path exists and is not a directory", dir);
    if (entries.length > 0 && !overwrite)
      throw new DataError(
        "output directory exists and is not empty (pass --force to replace it)",
        dir,
      );
  }
  // io/atomic.ts does the rest: temp sibling, removal on failure or Ctrl-C, stale-temp sweep.
  await withAtomicDir(dir, build, { replace: overwrite });
}

/** Writes a file through a temporary name and a rename (io/atomic.ts). */
export const writeFileAtomically = writeFileAtomic;
