import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { Command, CommanderError } from "@commander-js/extra-typings";
import { registerModel } from "../../src/cli/model.js";
import { registerTokenizer } from "../../src/cli/tokenizer.js";
import { UserError } from "../../src/io/errors.js";
import { loadCheckpoint } from "../../src/model/checkpoint.js";
import { expectedTensorShapes, parameterCount } from "../../src/model/names.js";
import { writeRandomCheckpoint } from "../../src/model/random-checkpoint.js";
import { tempDir } from "../io/helpers.js";
import { tinyConfig } from "./tiny.js";

/** Runs the CLI in-process with only these command groups; returns what it printed. */
async function run(...args: string[]): Promise<string> {
  const program = new Command()
    .name("prefrec")
    .exitOverride()
    .configureOutput({ writeErr: () => {}, writeOut: () => {} });
  registerTokenizer(program);
  registerModel(program);
  for (const c of program.commands) {
    c.exitOverride();
    for (const s of c.commands) s.exitOverride();
  }
  const chunks: string[] = [];
  const write = process.stdout.write;
  process.stdout.write = ((chunk: string) => {
    chunks.push(String(chunk));
    return true;
  }) as typeof process.stdout.write;
  try {
    await program.parseAsync(["node", "prefrec", ...args]);
  } finally {
    process.stdout.write = write;
  }
  return chunks.join("");
}

test("tokenizer train → model init → a loadable model with the tokenizer's ids", async (t) => {
  const dir = await tempDir(t);
  const lines = Array.from(
    { length: 300 },
    (_, i) => `User ${i % 17} watched Movie ${i % 23} (${1990 + (i % 30)}) and liked it`,
  );
  await writeFile(join(dir, "corpus.txt"), lines.join("\n"));
  const tok = join(dir, "tok");
  const out = await run(
    "tokenizer",
    "train",
    join(dir, "corpus.txt"),
    "--vocab",
    "300",
    "--out",
    tok,
  );
  assert.match(out, /^wrote .*tok: vocab 300, \d+ merges, [\d.]+s\n$/);
  const enc = JSON.parse(
    await run("tokenizer", "encode", tok, "--text", "User 3 watched", "--special"),
  );
  assert.equal(enc.ids[0], 1);
  assert.equal(enc.tokens[0], "<s>");

  const model = join(dir, "model");
  const initOut = await run(
    "model",
    "init",
    model,
    "--preset",
    "tiny",
    "--tokenizer",
    tok,
    "--seed",
    "7",
  );
  assert.match(initOut, /preset tiny, 435,168 parameters, vocab 300, seed 7/);
  const { config, weights } = await loadCheckpoint(model);
  assert.equal(config.vocabSize, 300);
  assert.deepEqual([config.bosTokenId, config.eosTokenIds, config.padTokenId], [1, [2], 0]);
  assert.equal(
    JSON.parse(await readFile(join(model, "tokenizer_config.json"), "utf8")).eos_token,
    "</s>",
  );
  const info = JSON.parse(await run("model", "info", model));
  assert.equal(info.parameters, 435168);
  assert.equal(info.hiddenSize, 96);

  // Same seed → byte-identical weights; an existing directory needs --force.
  await assert.rejects(
    run("model", "init", model, "--tokenizer", tok, "--seed", "7"),
    (e: unknown) => e instanceof UserError && /already exists and is not empty/.test(e.message),
  );
  const again = join(dir, "model2");
  await run("model", "init", again, "--tokenizer", tok, "--seed", "7");
  assert.deepEqual(
    await readFile(join(again, "model.safetensors")),
    await readFile(join(model, "model.safetensors")),
  );
  assert.deepEqual(
    (await loadCheckpoint(again)).weights.get("model.norm.weight"),
    weights.get("model.norm.weight"),
  );
  await run("model", "init", model, "--tokenizer", tok, "--seed", "8", "--force");
  assert.notDeepEqual(
    (await loadCheckpoint(model)).weights.get("model.embed_tokens.weight"),
    weights.get("model.embed_tokens.weight"),
  );
  await assert.rejects(
    run("tokenizer", "train", join(dir, "corpus.txt"), "--vocab", "300", "--out", tok),
    (e: unknown) =>
      e instanceof UserError &&
      /tok already exists and is not empty \(use --force to replace it\)/.test(e.message),
  );
});

test("user errors: missing tokenizer, unknown preset, vocab too small", async (t) => {
  const dir = await tempDir(t);
  await assert.rejects(
    run("model", "init", join(dir, "m"), "--tokenizer", join(dir, "none")),
    (e: unknown) => {
      assert.ok(e instanceof UserError);
      assert.match(e.message, /none\/tokenizer\.json: does not exist/);
      return true;
    },
  );
  await assert.rejects(
    run("model", "init", join(dir, "m"), "--tokenizer", dir, "--preset", "huge"),
    (e: unknown) => e instanceof CommanderError && /unknown preset "huge"/.test(e.message),
  );
  await assert.rejects(
    run("tokenizer", "train", dir, "--vocab", "10", "--out", join(dir, "t")),
    (e: unknown) => e instanceof CommanderError && /expected an integer ≥ 259/.test(e.message),
  );
  await assert.rejects(
    run("tokenizer", "train", join(dir, "nope.txt"), "--vocab", "300", "--out", join(dir, "t")),
    (e: unknown) => e instanceof UserError && /nope\.txt: corpus does not exist/.test(e.message),
  );
});

test("model info shows how frozen weights will be held (--weights-dtype stored|float32)", async (t) => {
  const dir = await tempDir(t);
  const config = tinyConfig({ tieWordEmbeddings: false });
  await writeRandomCheckpoint(dir, config, { shardBytes: 4096 });
  const stored = JSON.parse(await run("model", "info", dir));
  const bytes = parameterCount(config) * 2;
  assert.equal(stored.weights.dtype, "stored");
  assert.deepEqual(stored.weights.stored, { BF16: expectedTensorShapes(config).size });
  assert.match(stored.weights.held, /^BF16 as stored \(memory-mapped/);
  assert.equal(stored.weights.gib, Number((bytes / 2 ** 30).toFixed(3)));
  const f32 = JSON.parse(await run("model", "info", dir, "--weights-dtype", "float32"));
  assert.equal(f32.weights.held, "float32 in memory");
  assert.equal(f32.weights.gib, Number(((2 * bytes) / 2 ** 30).toFixed(3)));
  await assert.rejects(
    run("model", "info", dir, "--weights-dtype", "int8"),
    (e: unknown) => e instanceof CommanderError && /int8/.test(e.message),
  );
});
