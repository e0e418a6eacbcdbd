// `prefrec tokenizer …`: train a byte-level BPE tokenizer on a corpus; encode text with one.
import type { CommandUnknownOpts } from "@commander-js/extra-typings";
import { DEFAULT_SPECIAL_TOKENS } from "../model/tokenizer/bpe-trainer.js";
import { LmTokenizer } from "../model/tokenizer/tokenizer.js";
import { trainTokenizer } from "../model/tokenizer/train-tokenizer.js";
import { integerAtLeast } from "./args.js";

/** Registers the `tokenizer` command group on the program. */
export function registerTokenizer(program: CommandUnknownOpts): void {
  const tokenizer = program
    .command("tokenizer")
    .description("Train and use byte-level BPE tokenizers");
  registerTrain(tokenizer);
  registerEncode(tokenizer);
}

function registerTrain(group: CommandUnknownOpts): void {
  const minVocab = DEFAULT_SPECIAL_TOKENS.length + 256;
  group
    .command("train")
    .description(
      "Train a byte-level BPE tokenizer (GPT-2 style) and write tokenizer.json, tokenizer_config.json and special_tokens_map.json",
    )
    .argument("<corpus>", "a text file (one document per line) or a directory of .txt files")
    .requiredOption(
      "--vocab <n>",
      `vocabulary size, including ${DEFAULT_SPECIAL_TOKENS.join(" ")} and the 256 bytes`,
      integerAtLeast(minVocab),
    )
    .requiredOption("--out <dir>", "output directory (created atomically)")
    .option("--min-frequency <n>", "minimum count of a pair to be merged", integerAtLeast(1), 2)
    .option("--force", "replace a non-empty output directory", false)
    .action(async (corpus, opts) => {
      const started = Date.now();
      const bpe = await trainTokenizer(corpus, opts.out, {
        vocabSize: opts.vocab,
        minFrequency: opts.minFrequency,
        overwrite: opts.force,
      });
      const seconds = ((Date.now() - started) / 1000).toFixed(1);
      const note =
        bpe.vocab.length < opts.vocab
          ? ` (corpus too small for ${opts.vocab}: no pair left with count ≥ ${opts.minFrequency})`
          : "";
      process.stdout.write(
        `wrote ${opts.out}: vocab ${bpe.vocab.length}${note}, ${bpe.merges.length} merges, ${seconds}s\n`,
      );
    });
}

function registerEncode(group: CommandUnknownOpts): void {
  group
    .command("encode")
    .description("Print the token ids of a text as JSON")
    .argument("<dir>", "tokenizer directory (tokenizer.json [+ tokenizer_config.json])")
    .requiredOption("--text <text>", "text to encode")
    .option("--special", "add special tokens (e.g. BOS)", false)
    .action(async (dir, opts) => {
      let tok: LmTokenizer;
      tok = await LmTokenizer.load(dir);
      const ids = tok.encode(opts.text, { addSpecialTokens: opts.special });
      process.stdout.write(
        `${JSON.stringify({ ids, tokens: ids.map((id) => tok.idToToken(id)) })}\n`,
      );
    });
}
