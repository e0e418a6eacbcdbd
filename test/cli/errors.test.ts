// Ordinary mistakes through the real executable: one line `prefrec: …` naming what and where,
// exit code 2 for input/usage errors and 1 for runtime failures, the stack only with --debug or
// PREFREC_DEBUG=1; and Ctrl-C during `data prepare` leaves no temporary folder behind.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { writeSynth } from "../../src/data/synth.js";
import { buildTrainFixture, type TrainFixture } from "../train/fixture.js";

const root = join(import.meta.dirname, "..", "..");
const bin = join(root, "bin", "prefrec.js");

interface Outcome {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI; `onStart` gets the child (to send it a signal). */
function prefrec(
  args: string[],
  env: Record<string, string> = {},
  onStart?: (child: ReturnType<typeof spawn>) => void,
): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], {
      env: { ...process.env, PREFREC_DEBUG: "", ...env },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => {
      stdout += d;
    });
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
    onStart?.(child);
  });
}

/** The failure is one `prefrec: …` line without a stack trace, matching `pattern`. */
function assertOneLine(o: Outcome, code: number, pattern: RegExp): void {
  const lines = o.stderr.trim().split("\n");
  assert.equal(o.code, code, o.stderr);
  assert.equal(lines.length, 1, o.stderr);
  assert.match(lines[0], /^prefrec: /);
  assert.match(lines[0], pattern);
  assert.doesNotMatch(o.stderr, /^\s+at /m);
}

describe("the CLI's failures", () => {
  let dir = "";
  let fx: TrainFixture;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "prefrec-cli-errors-"));
    fx = await buildTrainFixture(dir, { users: 40, maxTrain: 16 });
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it("--data /nonexistent: train and eval name the folder (exit 2)", async () => {
    const missing = join(dir, "nonexistent");
    const common = ["--data", missing, "--quiet"];
    const t = await prefrec([
      "train",
      "sft",
      ...common,
      "--model",
      fx.model,
      "--full",
      "--out",
      join(dir, "r1"),
    ]);
    assertOneLine(t, 2, /nonexistent: not a prepared dataset/);
    const e = await prefrec(["eval", fx.model, ...common, "--out", join(dir, "e1")]);
    assertOneLine(e, 2, /nonexistent: not a prepared dataset/);
  });

  it("a train.jsonl cut mid-line names the file and line (exit 2)", async () => {
    const cut = join(dir, "cut");
    await cp(fx.data, cut, { recursive: true });
    const text = await readFile(join(cut, "train.jsonl"), "utf8");
    await writeFile(join(cut, "train.jsonl"), text.slice(0, text.indexOf("\n") + 40));
    const o = await prefrec([
      "train",
      "sft",
      "--data",
      cut,
      "--model",
      fx.model,
      "--full",
      "--max-steps",
      "1",
      "--quiet",
      "--out",
      join(dir, "r2"),
    ]);
    assertOneLine(o, 2, /cut\/train\.jsonl:2: invalid JSON .*prepare it again/);
  });

  it("experiment with a wrong --data-root (the shipped config's own command) names the file", async () => {
    const o = await prefrec([
      "experiment",
      join(root, "configs", "movielens-100k.yaml"),
      "--data-root",
      join(dir, "nowhere"),
      "--out",
      join(dir, "exp"),
      "--quiet",
    ]);
    assertOneLine(
      o,
      2,
      /nowhere\/movielens-100k\/u\.data: missing MovieLens 100K ratings .*`prefrec data download movielens-100k --dir .*nowhere` fetches it/,
    );
    assert.equal(existsSync(join(dir, "exp")), false);
  });

  it("an output path that cannot be created is one line naming it", async () => {
    await writeFile(join(dir, "file"), "x");
    const o = await prefrec([
      "data",
      "synth",
      "--out",
      join(dir, "file", "world"),
      "--users",
      "20",
    ]);
    assertOneLine(o, 2, /file\/world: cannot be written, .*file is a file, not a folder/);
  });

  it("--provider cuda without the CUDA provider is a runtime failure (exit 1)", async (t) => {
    const { usableProviders } = await import("../../src/graph/runtime.js");
    if ((await usableProviders()).includes("cuda")) return t.skip("this machine has CUDA");
    const o = await prefrec([
      "eval",
      fx.model,
      "--data",
      fx.data,
      "--provider",
      "cuda",
      "--quiet",
      "--out",
      join(dir, "e2"),
    ]);
    assertOneLine(o, 1, /--provider cuda: this onnxruntime-node install has no CUDA provider/);
  });

  it("usage errors exit 2; --debug and PREFREC_DEBUG=1 show the stack", async () => {
    const u = await prefrec(["train", "sft", "--bogus"]);
    assert.equal(u.code, 2);
    assert.match(u.stderr, /unknown option '--bogus'/);
    const missing = join(dir, "nonexistent");
    for (const [args, env] of [
      [["eval", fx.model, "--data", missing, "--debug"], {}],
      [["eval", fx.model, "--data", missing], { PREFREC_DEBUG: "1" }],
    ] as const) {
      const o = await prefrec([...args], env);
      assert.equal(o.code, 2);
      assert.match(o.stderr, /^\s+at .*dataset\.ts/m);
      assert.match(o.stderr, /prefrec: .*nonexistent: not a prepared dataset/);
    }
  });

  it("Ctrl-C during data prepare exits 130 and leaves no temporary folder", async () => {
    const world = join(dir, "big");
    await writeSynth(world, { users: 1500, items: 300, seed: 2 }, false, true);
    const outDir = join(dir, "prep");
    const out = join(outDir, "ds");
    let sent = false;
    let pid = 0;
    const o = await prefrec(
      ["data", "prepare", "--source", "synth", "--path", world, "--out", out, "--quiet"],
      {},
      (child) => {
        pid = child.pid ?? 0;
        // Interrupt once the atomic write's hidden temporary folder exists.
        const poll = setInterval(async () => {
          const names = await readdir(outDir).catch(() => [] as string[]);
          if (names.some((n) => n.startsWith(".ds.tmp-"))) {
            clearInterval(poll);
            sent = child.kill("SIGINT");
          }
        }, 10);
        child.on("close", () => clearInterval(poll));
      },
    );
    assert.ok(sent, `prepare finished before it could be interrupted: ${o.stderr}`);
    assert.equal(o.code, 130, o.stderr);
    assert.deepEqual(await readdir(outDir), []);
    const scratch = (await readdir(tmpdir())).filter((n) => n.startsWith("prefrec-prepare-"));
    assert.ok(
      pid > 0 && !scratch.some((n) => n.startsWith(`prefrec-prepare-${pid}-`)),
      scratch.join(),
    );
  });
});
