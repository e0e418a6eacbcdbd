import assert from "node:assert/strict";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { createRng } from "../../src/io/rng.js";
import { saveBpeTokenizer } from "../../src/model/tokenizer/bpe-files.js";
import {
  byteLevelCounts,
  trainBpe,
  trainBpeFromCounts,
  WordCounter,
} from "../../src/model/tokenizer/bpe-trainer.js";
import { BYTE_TO_CHAR, preTokenize, toByteLevel } from "../../src/model/tokenizer/byte-level.js";
import { corpusLines } from "../../src/model/tokenizer/corpus.js";
import { LmTokenizer } from "../../src/model/tokenizer/tokenizer.js";
import { trainTokenizer } from "../../src/model/tokenizer/train-tokenizer.js";
import { tempDir } from "../io/helpers.js";

const SYLLABLES = [
  "the",
  "mo",
  "vie",
  "star",
  "wars",
  "ma",
  "trix",
  "über",
  "ca",
  "fé",
  "東",
  "京",
  "物語",
  "🎬",
  "иг",
  "ра",
  "ka",
  "lo",
  "ri",
  "zen",
  "ton",
  "1999",
  "20",
  "24",
  "(",
  ")",
  ":",
  "'s",
  "-",
  "qu",
];

/** A deterministic corpus of pseudo-titles: a few hundred words built from mixed-script syllables. */
function corpus(lines: number, seed = 1): string[] {
  const rng = createRng(seed);
  const pick = () => SYLLABLES[Math.min(rng.int(SYLLABLES.length), rng.int(SYLLABLES.length))];
  const words = Array.from({ length: 400 }, () =>
    Array.from({ length: 1 + rng.int(3) }, pick).join(""),
  );
  return Array.from({ length: lines }, () => {
    const n = 2 + rng.int(8);
    const word = () => words[Math.min(rng.int(words.length), rng.int(words.length))];
    return Array.from({ length: n }, word).join(rng.int(5) === 0 ? "  " : " ");
  });
}

/** Reference trainer: recounts every pair from scratch before each merge (slow, obviously right). */
function naiveMerges(
  counts: Map<string, number>,
  specials: number,
  vocabSize: number,
  minFrequency: number,
): [string, string][] {
  const alphabet = [...BYTE_TO_CHAR].sort((x, y) => x.codePointAt(0)! - y.codePointAt(0)!);
  const vocab = [...Array(specials).fill("<special>"), ...alphabet];
  const ids = new Map(alphabet.map((c, i) => [c, i + specials]));
  const words = [...counts].map(([w, f]) => ({ s: [...w].map((c) => ids.get(c)!), f }));
  const merges: [string, string][] = [];
  while (vocab.length < vocabSize) {
    const pairs = new Map<string, number>();
    for (const { s, f } of words)
      for (let i = 0; i + 1 < s.length; i++)
        pairs.set(`${s[i]},${s[i + 1]}`, (pairs.get(`${s[i]},${s[i + 1]}`) ?? 0) + f);
    let best: [number, number] | null = null;
    let bestCount = 0;
    for (const [k, c] of pairs) {
      const [a, b] = k.split(",").map(Number);
      if (
        c > bestCount ||
        (c === bestCount && best !== null && (a < best[0] || (a === best[0] && b < best[1])))
      ) {
        best = [a, b];
        bestCount = c;
      }
    }
    if (best === null || bestCount < minFrequency) break;
    const token = vocab[best[0]] + vocab[best[1]];
    let id = ids.get(token);
    if (id === undefined) {
      id = vocab.length;
      vocab.push(token);
      ids.set(token, id);
    }
    merges.push([vocab[best[0]], vocab[best[1]]]);
    for (const w of words) {
      const out: number[] = [];
      for (let i = 0; i < w.s.length; i++) {
        if (i + 1 < w.s.length && w.s[i] === best[0] && w.s[i + 1] === best[1]) {
          out.push(id);
          i++;
        } else out.push(w.s[i]);
      }
      w.s = out;
    }
  }
  return merges;
}

test("pre-tokenizer and byte-level alphabet match GPT-2", () => {
  assert.deepEqual(preTokenize("Hello world's  test 123!!\n"), [
    "Hello",
    " world",
    "'s",
    " ",
    " test",
    " 123",
    "!!",
    "\n",
  ]);
  assert.equal(BYTE_TO_CHAR[32], "Ġ");
  assert.equal(BYTE_TO_CHAR[10], "Ċ");
  assert.equal(BYTE_TO_CHAR[65], "A");
  assert.equal(new Set(BYTE_TO_CHAR).size, 256);
  assert.equal(toByteLevel(" é"), "ĠÃ©");
});

test("ties go to the smallest (left, right) pair; min frequency stops merging", () => {
  const bpe = trainBpe(["ab", "cd", "ab", "cd", "ab", "cd", "xy"], {
    vocabSize: 3 + 256 + 10,
    minFrequency: 2,
  });
  assert.deepEqual(bpe.merges, [
    ["a", "b"],
    ["c", "d"],
  ]);
  assert.equal(bpe.vocab.length, 3 + 256 + 2);
  assert.deepEqual(bpe.vocab.slice(0, 3), ["<pad>", "<s>", "</s>"]);
  assert.deepEqual(bpe.vocab.slice(-2), ["ab", "cd"]);
});

test("incremental pair counts give exactly the merges of a from-scratch recount", () => {
  const counter = new WordCounter();
  for (const line of corpus(400, 3)) counter.add(`${line}\n`);
  const counts = byteLevelCounts(counter.counts);
  const fast = trainBpeFromCounts(counts, { vocabSize: 3 + 256 + 150, minFrequency: 2 });
  assert.deepEqual(fast.merges, naiveMerges(counts, 3, 3 + 256 + 150, 2));
  assert.ok(fast.merges.length > 100);
  // Repeated symbols ("aaaa") exercise overlapping merges.
  const rep = byteLevelCounts(
    new Map([
      ["aaaaaaa", 5],
      [" aaa", 3],
      ["abab", 2],
      ["baaab", 4],
    ]),
  );
  assert.deepEqual(
    trainBpeFromCounts(rep, { vocabSize: 3 + 256 + 8, minFrequency: 1 }).merges,
    naiveMerges(rep, 3, 3 + 256 + 8, 1),
  );
});

test("trained tokenizer loads in @huggingface/tokenizers and round-trips arbitrary unicode", async (t) => {
  const dir = await tempDir(t);
  const corpusFile = join(dir, "corpus.txt");
  await writeFile(corpusFile, `${corpus(2000).join("\n")}\n`);
  const out = join(dir, "tok");
  const bpe = await trainTokenizer(corpusFile, out, { vocabSize: 600 });
  assert.equal(bpe.vocab.length, 600);
  const json = JSON.parse(await readFile(join(out, "tokenizer.json"), "utf8"));
  assert.equal(json.model.type, "BPE");
  assert.equal(json.pre_tokenizer.type, "ByteLevel");
  assert.equal(json.decoder.type, "ByteLevel");
  assert.deepEqual(
    json.added_tokens.map((a: { content: string; id: number }) => [a.content, a.id]),
    [
      ["<pad>", 0],
      ["<s>", 1],
      ["</s>", 2],
    ],
  );

  const tok = await LmTokenizer.load(out);
  assert.equal(tok.vocabSize, 600);
  assert.deepEqual([tok.padId, tok.bosId, tok.eosId], [0, 1, 2]);
  const texts = [
    "the matrix (1999): star wars",
    "  leading and trailing spaces  ",
    "über café 東京物語 🎬🍿 игра",
    "unseen: Ωμέγα ﷺ 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 e\u0301 👩‍👩‍👧 \t tab\r\nCRLF",
    "ids <s> and </s> inside text",
    "x".repeat(300),
    "\u0000\u0001 control \u007f",
  ];
  for (const text of texts) {
    const ids = tok.encode(text);
    assert.ok(
      ids.every((id) => Number.isInteger(id) && id >= 0 && id < 600),
      text,
    );
    assert.equal(tok.decode(ids), text);
  }
  // Merges were learned: a frequent title word is one token (with its leading space).
  const frequent = [...bpe.vocab]
    .reverse()
    .find((v) => v.startsWith("Ġ") && /^Ġ[a-z]{4,}$/.test(v))!;
  assert.deepEqual(tok.tokenize(` ${frequent.slice(1)}`), [frequent]);
  // With special tokens, BOS is prepended; skipping specials drops it again.
  const withBos = tok.encode("star wars", { addSpecialTokens: true });
  assert.equal(withBos[0], 1);
  assert.deepEqual(withBos.slice(1), tok.encode("star wars"));
  assert.equal(tok.decode([...withBos, 2], { skipSpecialTokens: true }), "star wars");
  assert.equal(tok.decode([]), "");

  // Training is deterministic: the same corpus gives byte-identical files.
  const again = join(dir, "tok2");
  await trainTokenizer(corpusFile, again, { vocabSize: 600 });
  assert.equal(
    await readFile(join(again, "tokenizer.json"), "utf8"),
    await readFile(join(out, "tokenizer.json"), "utf8"),
  );
});

test("a directory of .txt files is a corpus; vocab smaller than the base alphabet is refused", async (t) => {
  const dir = await tempDir(t);
  await mkdir(join(dir, "c", "sub"), { recursive: true });
  await writeFile(join(dir, "c", "a.txt"), corpus(50, 1).join("\n"));
  await writeFile(join(dir, "c", "sub", "b.txt"), corpus(50, 2).join("\n"));
  await writeFile(join(dir, "c", "ignored.csv"), "zzzzzzzz zzzzzzzz zzzzzzzz");
  const bpe = await trainTokenizer(join(dir, "c"), join(dir, "t"), { vocabSize: 300 });
  assert.ok(!bpe.vocab.includes("zz"));
  assert.throws(() => trainBpe(["x"], { vocabSize: 100 }), /vocab size must be an integer ≥ 259/);
  await assert.rejects(
    trainTokenizer(join(dir, "missing"), join(dir, "t2"), { vocabSize: 300 }),
    /missing: corpus does not exist/,
  );
  await saveBpeTokenizer(join(dir, "t3"), bpe);
  await assert.rejects(saveBpeTokenizer(join(dir, "t3"), bpe), /already exists and is not empty/);
});

test("merges equal those of HF tokenizers' own (Rust) BpeTrainer on the same corpus", async () => {
  // bpe-hf-merges.json was produced once by the Rust trainer (BpeTrainer defaults: no special
  // tokens, min_frequency 0; ByteLevel pre-tokenizer) through its Node bindings, outside the project.
  const corpusPath = fileURLToPath(new URL("./fixtures/bpe-corpus.txt", import.meta.url));
  const reference = JSON.parse(
    await readFile(
      fileURLToPath(new URL("./fixtures/bpe-hf-merges.json", import.meta.url)),
      "utf8",
    ),
  );
  const counter = new WordCounter([]);
  for await (const line of corpusLines(corpusPath)) counter.add(line);
  const bpe = trainBpeFromCounts(byteLevelCounts(counter.counts), {
    vocabSize: 256 + reference.total_merges + 10,
    minFrequency: 0,
    specialTokens: [],
  });
  assert.equal(reference.merges.length, reference.total_merges);
  assert.deepEqual(
    bpe.merges.map(([a, b]) => `${a} ${b}`),
    reference.merges,
  );
});

test("HF tokenizers (Rust) reads our tokenizer.json exactly as @huggingface/tokenizers does", async (t) => {
  // bpe-hf-encodings.json: ids the Rust library gave for this very tokenizer (trained below,
  // deterministically), recorded once outside the project.
  const dir = await tempDir(t);
  const corpusPath = fileURLToPath(new URL("./fixtures/bpe-corpus.txt", import.meta.url));
  const reference = JSON.parse(
    await readFile(
      fileURLToPath(new URL("./fixtures/bpe-hf-encodings.json", import.meta.url)),
      "utf8",
    ),
  );
  await trainTokenizer(corpusPath, join(dir, "tok"), { vocabSize: 400 });
  const tok = await LmTokenizer.load(join(dir, "tok"));
  for (const c of reference.cases as {
    text: string;
    plain: number[];
    special: number[];
    decoded: string;
  }[]) {
    assert.deepEqual(tok.encode(c.text), c.plain, c.text);
    assert.deepEqual(tok.encode(c.text, { addSpecialTokens: true }), c.special, c.text);
    assert.equal(c.decoded, c.text);
    assert.equal(tok.decode(c.plain), c.text);
  }
});
