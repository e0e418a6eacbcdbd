// Writes a trained byte-level BPE as a standard Hugging Face tokenizer directory:
// tokenizer.json (BPE model, ByteLevel pre-tokenizer and decoder, BOS template),
// tokenizer_config.json and special_tokens_map.json.
import { join } from "node:path";
import { withAtomicDir, writeFileAtomic } from "../../io/atomic.js";
import type { TrainedBpe } from "./bpe-trainer.js";

/** Which special tokens play which role (each must be one of the trained special tokens). */
export interface SpecialRoles {
  bos: string;
  eos: string;
  pad: string;
}

/** Default roles for DEFAULT_SPECIAL_TOKENS. */
export const DEFAULT_ROLES: SpecialRoles = { bos: "<s>", eos: "</s>", pad: "<pad>" };

/** The `added_tokens` entry Hugging Face writes (special: a control token such as BOS). */
export function addedToken(id: number, content: string, special = true) {
  return {
    id,
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special,
  };
}

/** The tokenizer.json object; encoding with special tokens prepends BOS (LLaMA convention). */
export function bpeTokenizerJson(
  bpe: TrainedBpe,
  roles: SpecialRoles = DEFAULT_ROLES,
): Record<string, unknown> {
  const idOf = (token: string): number => {
    const id = bpe.specialTokens.indexOf(token);
    if (id < 0)
      throw new Error(
        `special token ${JSON.stringify(token)} is not among ${JSON.stringify(bpe.specialTokens)}`,
      );
    return id;
  };
  const bosId = idOf(roles.bos);
  idOf(roles.eos);
  idOf(roles.pad);
  const vocab: Record<string, number> = {};
  bpe.vocab.forEach((token, id) => {
    vocab[token] = id;
  });
  const byteLevel = {
    type: "ByteLevel",
    add_prefix_space: false,
    trim_offsets: true,
    use_regex: true,
  };
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: bpe.specialTokens.map((t, id) => addedToken(id, t)),
    normalizer: null,
    pre_tokenizer: byteLevel,
    post_processor: {
      type: "TemplateProcessing",
      single: [
        { SpecialToken: { id: roles.bos, type_id: 0 } },
        { Sequence: { id: "A", type_id: 0 } },
      ],
      pair: [
        { SpecialToken: { id: roles.bos, type_id: 0 } },
        { Sequence: { id: "A", type_id: 0 } },
        { SpecialToken: { id: roles.bos, type_id: 1 } },
        { Sequence: { id: "B", type_id: 1 } },
      ],
      special_tokens: { [roles.bos]: { id: roles.bos, ids: [bosId], tokens: [roles.bos] } },
    },
    decoder: byteLevel,
    model: {
      type: "BPE",
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      vocab,
      // "left right" strings: byte-level symbols never contain a space, and every reader accepts them.
      merges: bpe.merges.map(([a, b]) => `${a} ${b}`),
    },
  };
}

/** tokenizer_config.json for transformers' PreTrainedTokenizerFast and @huggingface/tokenizers. */
export function bpeTokenizerConfig(
  bpe: TrainedBpe,
  roles: SpecialRoles = DEFAULT_ROLES,
  modelMaxLength = 2048,
): Record<string, unknown> {
  const decoder: Record<string, unknown> = {};
  bpe.specialTokens.forEach((t, id) => {
    const { id: _id, ...rest } = addedToken(id, t);
    decoder[String(id)] = rest;
  });
  return {
    added_tokens_decoder: decoder,
    bos_token: roles.bos,
    eos_token: roles.eos,
    pad_token: roles.pad,
    clean_up_tokenization_spaces: false,
    model_max_length: modelMaxLength,
    tokenizer_class: "PreTrainedTokenizerFast",
  };
}

/** Writes the three tokenizer files into `dir` atomically. */
export async function saveBpeTokenizer(
  dir: string,
  bpe: TrainedBpe,
  options: { roles?: SpecialRoles; overwrite?: boolean } = {},
): Promise<void> {
  const roles = options.roles ?? DEFAULT_ROLES;
  const json = bpeTokenizerJson(bpe, roles);
  const config = bpeTokenizerConfig(bpe, roles);
  await withAtomicDir(
    dir,
    async (tmp) => {
      await writeFileAtomic(join(tmp, "tokenizer.json"), `${JSON.stringify(json, null, 2)}\n`);
      await writeFileAtomic(
        join(tmp, "tokenizer_config.json"),
        `${JSON.stringify(config, null, 2)}\n`,
      );
      await writeFileAtomic(
        join(tmp, "special_tokens_map.json"),
        `${JSON.stringify({ bos_token: roles.bos, eos_token: roles.eos, pad_token: roles.pad }, null, 2)}\n`,
      );
    },
    { replace: options.overwrite ?? false },
  );
}
