// Atomic file and directory writes: everything is written under a temporary sibling name and
// renamed into place, so a crash or an error never leaves a half-written output behind.
import { randomBytes } from "node:crypto";
import { constants } from "node:fs";
import { access, mkdir, open, readdir, rename, rm, stat } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { UserError } from "./errors.js";
import { removeOnInterrupt } from "./interrupt.js";

/** Raised when an atomic directory write would replace a non-empty directory without `replace`. */
export class DirectoryNotEmptyError extends UserError {
  constructor(readonly path: string) {
    super(`${path} already exists and is not empty (use --force to replace it)`);
    this.name = "DirectoryNotEmptyError";
  }
}

/** A sibling path of `path` that no other writer will pick (hidden, with a unique suffix). */
export function tempSibling(path: string, tag = "tmp"): string {
  // randomBytes only names the temp file; it never influences results.
  const suffix = `${process.pid}-${randomBytes(4).toString("hex")}`;
  return join(dirname(path), `.${basename(path)}.${tag}-${suffix}`);
}

/** Temporary names this module (and tempWorkDir) gives: `.NAME.tmp-PID-HEX`, `.NAME.old-PID-HEX`. */
const TEMP_NAME = /^\..+\.(?:tmp|old)-(\d+)-[0-9a-f]+$/;

/** How old a temporary folder of a live-looking pid must be before it counts as stale. */
export const STALE_AFTER_MS = 6 * 3600 * 1000;

/** Whether process `pid` exists (EPERM means it exists but belongs to someone else). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Removes this tool's leftover temporary siblings in `parent` (from a killed run): those whose
 * process is gone, or older than STALE_AFTER_MS. Returns the names removed.
 */
export async function sweepStaleTemps(parent: string, pattern = TEMP_NAME): Promise<string[]> {
  const names = await readdir(parent).catch(() => [] as string[]);
  const removed: string[] = [];
  for (const name of names) {
    const m = pattern.exec(name);
    if (!m) continue;
    const pid = Number(m[1]);
    if (pid === process.pid) continue;
    const info = await stat(join(parent, name)).catch(() => null);
    if (info === null) continue;
    if (!pidAlive(pid) || Date.now() - info.mtimeMs > STALE_AFTER_MS) {
      await rm(join(parent, name), { recursive: true, force: true });
      removed.push(name);
    }
  }
  return removed;
}

/**
 * Fails with one clear line when `path` could not be created: an ancestor is a file, or the
 * nearest existing ancestor is not writable. Cheap; call it before expensive work.
 */
export async function checkWritable(path: string): Promise<void> {
  let existing = dirname(path);
  let info = await stat(existing).catch(() => null);
  while (info === null && dirname(existing) !== existing) {
    existing = dirname(existing);
    info = await stat(existing).catch(() => null);
  }
  if (info && !info.isDirectory())
    throw new UserError(`${path}: cannot be written, ${existing} is a file, not a folder`);
  try {
    await access(existing, constants.W_OK);
  } catch {
    throw new UserError(
      `${path}: cannot be written, ${existing} is not writable (permission denied)`,
    );
  }
}

/**
 * `mkdir -p` one level at a time: Node's recursive mkdir spins forever where a folder refuses a
 * child with ENOENT (under /proc), so a bad --out would hang instead of failing.
 */
export async function makeDirs(dir: string): Promise<void> {
  const missing: string[] = [];
  for (let d = resolve(dir); !(await stat(d).catch(() => null)); d = dirname(d)) {
    missing.push(d);
    if (dirname(d) === d) break;
  }
  for (const d of missing.reverse())
    await mkdir(d).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== "EEXIST") throw error;
    });
}

/** Creates the folder `path` will be written into, after checkWritable. */
export async function ensureParentDir(path: string): Promise<void> {
  await checkWritable(path);
  await makeDirs(dirname(path));
}

/** Writes `data` to `path` atomically (temp file, fsync, rename). Creates the parent directory. */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  await withAtomicFile(path, async (tmp) => {
    const handle = await open(tmp, "w");
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
  });
}

/** Runs `write(tmpPath)`, then renames tmpPath onto `path`; on failure the temp file is removed. */
export async function withAtomicFile<T>(
  path: string,
  write: (tmpPath: string) => Promise<T>,
): Promise<T> {
  await ensureParentDir(path);
  const tmp = tempSibling(path);
  const forget = removeOnInterrupt(tmp);
  try {
    const result = await write(tmp);
    await rename(tmp, path);
    return result;
  } catch (error) {
    await rm(tmp, { force: true });
    throw error;
  } finally {
    forget();
  }
}

/** Throws DirectoryNotEmptyError early, before expensive work, when `dir` could not be written. */
export async function assertDirWritable(dir: string, replace: boolean): Promise<void> {
  await checkWritable(dir);
  if (replace) return;
  const existing = await stat(dir).catch(() => null);
  if (existing === null) return;
  if (!existing.isDirectory() || (await readdir(dir)).length > 0)
    throw new DirectoryNotEmptyError(dir);
}

/**
 * Builds a directory in a temporary sibling via `write(tmpDir)`, then moves it onto `dir`.
 * An existing non-empty `dir` is replaced only when `replace` is true (it is moved aside first,
 * then deleted); an empty one is always replaced.
 */
export async function withAtomicDir<T>(
  dir: string,
  write: (tmpDir: string) => Promise<T>,
  options: { replace?: boolean } = {},
): Promise<T> {
  await ensureParentDir(dir);
  await sweepStaleTemps(dirname(dir));
  const tmp = tempSibling(dir);
  await mkdir(tmp);
  const forget = removeOnInterrupt(tmp);
  let result: T;
  try {
    result = await write(tmp);
  } catch (error) {
    await rm(tmp, { recursive: true, force: true });
    forget();
    throw error;
  }
  forget();
  const existing = await stat(dir).catch(() => null);
  if (existing !== null) {
    const empty = existing.isDirectory() && (await readdir(dir)).length === 0;
    if (!options.replace && !empty) {
      await rm(tmp, { recursive: true, force: true });
      throw new DirectoryNotEmptyError(dir);
    }
    // rename() cannot replace a non-empty directory: move the old one aside, then delete it.
    const old = tempSibling(dir, "old");
    await rename(dir, old);
    try {
      await rename(tmp, dir);
    } catch (error) {
      await rename(old, dir);
      await rm(tmp, { recursive: true, force: true });
      throw error;
    }
    await rm(old, { recursive: true, force: true });
  } else {
    await rename(tmp, dir);
  }
  return result;
}
