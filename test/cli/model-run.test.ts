// `prefrec model logits|score|generate` through the real executable.

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";

const run = promisify(execFile);
const root = join(import.meta.dirname, "..", "..");
const bin = join(root, "bin", "prefrec.js");
const prefrec = async (...args: string[]) => (await run(process.execPath, [bin, ...args])).stdout;

describe("prefrec model logits/score/generate", () => {
  let dir = "";
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "prefrec-cli-"));
    const lines = Array.from(
      { length: 120 },
      (_, i) => `User ${i % 9} played Song ${i} by Björk, then Sigur Rós.`,
    );
    await writeFile(join(dir, "corpus.txt"), `${lines.join("\n")}\n`);
    await prefrec(
      "tokenizer",
      "train",
      join(dir, "corpus.txt"),
      "--vocab",
      "300",
      "--out",
      join(dir, "tok"),
    );
    await prefrec(
      "model",
      "init",
      join(dir, "model"),
      "--tokenizer",
      join(dir, "tok"),
      "--seed",
      "3",
    );
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("logits --ids --json on a checkpoint without tokenizer equals the PyTorch reference", async () => {
    const fixture = join(root, "test", "fixtures", "tiny-llama");
    const out = JSON.parse(await prefrec("model", "logits", fixture, "--ids", "4,8,15", "--json"));
    const expected = JSON.parse(await readFile(join(fixture, "expected.json"), "utf8"));
    assert.deepEqual(out.shape, [3, 37]);
    for (let t = 0; t < 3; t++) {
      for (let v = 0; v < 37; v++) {
        assert.ok(Math.abs(out.logits[t][v] - expected.logits[1][t][v]) < 1e-4);
      }
    }
  });

  it("score --json gives a finite log-prob per completion, EOS counted", async () => {
    const out = JSON.parse(
      await prefrec(
        "model",
        "score",
        join(dir, "model"),
        "--prompt",
        "User 3 played",
        "--completion",
        "Song 4",
        "Björk",
        "--json",
      ),
    );
    assert.equal(out.completions.length, 2);
    for (const c of out.completions) {
      assert.ok(Number.isFinite(c.logp) && c.logp < 0);
      assert.ok(Math.abs(c.mean_logp * c.tokens - c.logp) < 1e-4);
    }
    const noEos = JSON.parse(
      await prefrec(
        "model",
        "score",
        join(dir, "model"),
        "--prompt",
        "User 3 played",
        "--completion",
        "Song 4",
        "--no-eos",
        "--json",
      ),
    );
    assert.equal(noEos.completions[0].tokens, out.completions[0].tokens - 1);
  });

  it("generate with a candidates file returns one of the candidates", async () => {
    const candidates = ["Song 12", "Song 1", "Sigur Rós", "Björk"];
    await writeFile(join(dir, "cands.txt"), `${candidates.join("\n")}\n`);
    const out = JSON.parse(
      await prefrec(
        "model",
        "generate",
        join(dir, "model"),
        "--prompt",
        "User 3 played",
        "--candidates-file",
        join(dir, "cands.txt"),
        "--json",
      ),
    );
    assert.ok(candidates.includes(out.candidate));
    assert.equal(out.text, out.candidate);
    assert.equal(out.stop, "eos");
    const free = JSON.parse(
      await prefrec(
        "model",
        "generate",
        join(dir, "model"),
        "--prompt",
        "User 3 played",
        "--max-new-tokens",
        "4",
        "--json",
      ),
    );
    assert.ok(free.tokens.length <= 4);
    assert.equal(free.candidate, null);
  });

  it("errors name the problem", async () => {
    await assert.rejects(
      prefrec("model", "logits", join(dir, "model"), "--ids", "1,99999"),
      (e: { stderr: string }) => {
        assert.match(e.stderr, /token id 99999 is outside the vocabulary \(size \d+\)/);
        return true;
      },
    );
    await assert.rejects(
      prefrec("model", "logits", join(dir, "nope"), "--ids", "1"),
      (e: { stderr: string }) => {
        assert.match(e.stderr, /nope.*config\.json/);
        return true;
      },
    );
  });
});
