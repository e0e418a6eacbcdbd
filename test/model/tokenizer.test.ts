import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { DEFAULT_ROLES, saveBpeTokenizer } from "../../src/model/tokenizer/bpe-files.js";
import { trainBpe } from "../../src/model/tokenizer/bpe-trainer.js";
import { LmTokenizer, TokenizerError } from "../../src/model/tokenizer/tokenizer.js";
import { tempDir } from "../io/helpers.js";

test("a missing tokenizer.json is a clear error naming the file", async (t) => {
  const dir = await tempDir(t);
  await assert.rejects(LmTokenizer.load(dir), (e: unknown) => {
    assert.ok(e instanceof TokenizerError);
    assert.equal(
      e.message,
      `${join(dir, "tokenizer.json")}: does not exist (a tokenizer directory needs tokenizer.json)`,
    );
    return true;
  });
  await writeFile(join(dir, "tokenizer.json"), "[1,");
  await assert.rejects(LmTokenizer.load(dir), /tokenizer\.json: is not valid JSON/);
});

test("special ids come from tokenizer_config.json, else special_tokens_map.json (AddedToken objects too)", async (t) => {
  const dir = join(await tempDir(t), "tok");
  const bpe = trainBpe(["hello world", "hello there"], {
    vocabSize: 265,
    specialTokens: ["<|endoftext|>", "<pad>"],
  });
  await saveBpeTokenizer(dir, bpe, {
    roles: { bos: "<|endoftext|>", eos: "<|endoftext|>", pad: "<pad>" },
  });
  const tok = await LmTokenizer.load(dir);
  assert.deepEqual([tok.bosId, tok.eosId, tok.padId], [0, 0, 1]);
  assert.equal(tok.vocabSize, bpe.vocab.length);
  // Only a special_tokens_map.json with an AddedToken-style object.
  await writeFile(join(dir, "tokenizer_config.json"), "{}");
  await writeFile(
    join(dir, "special_tokens_map.json"),
    JSON.stringify({ eos_token: { content: "<pad>", lstrip: false } }),
  );
  const tok2 = await LmTokenizer.load(dir);
  assert.deepEqual([tok2.bosId, tok2.eosId, tok2.padId], [null, 1, null]);
  assert.equal(tok2.decode(tok2.encode("hello world")), "hello world");
  assert.equal(tok2.idToToken(1), "<pad>");
  assert.equal(tok2.tokenToId("nope-not-a-token"), null);
  assert.throws(() => trainBpe(["x"], { vocabSize: 300, specialTokens: ["a", "a"] }), /distinct/);
  assert.equal(DEFAULT_ROLES.bos, "<s>");
});
