#!/usr/bin/env node
// Runs the built CLI when `dist/` exists, otherwise the TypeScript sources through tsx,
// so `npx prefrec` works on a fresh clone right after `npm install`. On Linux with glibc, commands
// that run models first start it again with MALLOC_MMAP_THRESHOLD_ set (src/cli/launch.ts; opt
// out with PREFREC_MALLOC=system): large models then peak lower.
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const built = existsSync(join(root, "dist", "cli", "main.js"));
if (!built) {
  const { register } = await import("tsx/esm/api");
  register();
}
const from = (path) =>
  pathToFileURL(join(root, built ? "dist" : "src", `${path}.${built ? "js" : "ts"}`)).href;
const { launchInChild } = await import(from("cli/launch"));
if (!launchInChild()) await import(from("cli/main"));
