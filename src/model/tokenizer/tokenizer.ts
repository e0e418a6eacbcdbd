// A local Hugging Face tokenizer (tokenizer.json + tokenizer_config.json) through
// @huggingface/tokenizers, with the bos/eos/pad ids the model code needs.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { Tokenizer } from "@huggingface/tokenizers";
import { UserError } from "../../io/errors.js";

/** A missing or unreadable tokenizer file, naming the file. */
export class TokenizerError extends UserError {
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(`${file}: ${message}`);
    this.name = "TokenizerError";
  }
}

/** Options for encoding text. */
export interface EncodeOptions {
  /** Apply the tokenizer's post-processor (e.g. prepend BOS). Default false. */
  addSpecialTokens?: boolean;
}

/** Options for decoding ids. */
export interface DecodeOptions {
  /** Drop special tokens (bos/eos/pad…) from the text. Default false. */
  skipSpecialTokens?: boolean;
}

async function readJson(file: string, required: boolean): Promise<Record<string, unknown> | null> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (!required && code === "ENOENT") return null;
    throw new TokenizerError(
      file,
      code === "ENOENT"
        ? "does not exist (a tokenizer directory needs tokenizer.json)"
        : `cannot read (${code ?? error})`,
    );
  }
  try {
    const json = JSON.parse(text);
    if (json === null || typeof json !== "object" || Array.isArray(json))
      throw new Error("not a JSON object");
    return json as Record<string, unknown>;
  } catch (error) {
    throw new TokenizerError(file, `is not valid JSON (${(error as Error).message})`);
  }
}

/** A special token in tokenizer_config.json: a string or an AddedToken object with `content`. */
function tokenContent(value: unknown): string | null {
  if (typeof value === "string") return value;
  if (
    value !== null &&
    typeof value === "object" &&
    typeof (value as { content?: unknown }).content === "string"
  ) {
    return (value as { content: string }).content;
  }
  return null;
}

/** A loaded tokenizer: encode/decode plus the special-token ids. */
export class LmTokenizer {
  /** Number of ids the model's embedding needs: the largest id (vocab or added token) + 1. */
  readonly vocabSize: number;
  readonly bosToken: string | null;
  readonly eosToken: string | null;
  readonly padToken: string | null;
  readonly bosId: number | null;
  readonly eosId: number | null;
  readonly padId: number | null;

  private constructor(
    readonly dir: string,
    private readonly tokenizer: Tokenizer,
    config: Record<string, unknown>,
    private readonly cleanUpSpaces: boolean,
  ) {
    let max = -1;
    for (const id of tokenizer.get_vocab(true).values()) if (id > max) max = id;
    this.vocabSize = max + 1;
    this.bosToken = tokenContent(config.bos_token);
    this.eosToken = tokenContent(config.eos_token);
    this.padToken = tokenContent(config.pad_token);
    const id = (token: string | null) =>
      token === null ? null : (tokenizer.token_to_id(token) ?? null);
    this.bosId = id(this.bosToken);
    this.eosId = id(this.eosToken);
    this.padId = id(this.padToken);
  }

  /** Loads `DIR/tokenizer.json` (required), `tokenizer_config.json` and `special_tokens_map.json` (optional). */
  static async load(dir: string): Promise<LmTokenizer> {
    const jsonFile = join(dir, "tokenizer.json");
    const tokenizerJson = (await readJson(jsonFile, true))!;
    if (tokenizerJson.model == null) throw new TokenizerError(jsonFile, 'has no "model" section');
    // The library insists on these keys; files written by older tools may omit the null ones.
    for (const key of ["normalizer", "pre_tokenizer", "post_processor", "decoder"]) {
      if (!(key in tokenizerJson)) tokenizerJson[key] = null;
    }
    if (!Array.isArray(tokenizerJson.added_tokens)) tokenizerJson.added_tokens = [];
    const config = (await readJson(join(dir, "tokenizer_config.json"), false)) ?? {};
    const specialMap = (await readJson(join(dir, "special_tokens_map.json"), false)) ?? {};
    // special_tokens_map.json fills bos/eos/pad when tokenizer_config.json leaves them out.
    const merged: Record<string, unknown> = { ...config };
    for (const key of ["bos_token", "eos_token", "pad_token", "unk_token"]) {
      if (merged[key] == null && specialMap[key] != null) merged[key] = specialMap[key];
    }
    for (const key of ["bos_token", "eos_token", "pad_token", "unk_token"]) {
      const content = tokenContent(merged[key]);
      if (content === null) delete merged[key];
      else merged[key] = content;
    }
    let tokenizer: Tokenizer;
    try {
      tokenizer = new Tokenizer(tokenizerJson, merged);
    } catch (error) {
      throw new TokenizerError(jsonFile, `cannot be loaded (${(error as Error).message})`);
    }
    const cleanUp =
      typeof config.clean_up_tokenization_spaces === "boolean"
        ? config.clean_up_tokenization_spaces
        : false;
    return new LmTokenizer(dir, tokenizer, merged, cleanUp);
  }

  /** Token ids of `text`; special tokens only when `addSpecialTokens` is set. */
  encode(text: string, options: EncodeOptions = {}): number[] {
    return this.tokenizer.encode(text, { add_special_tokens: options.addSpecialTokens ?? false })
      .ids;
  }

  /** The token strings of `text` (no special tokens added). */
  tokenize(text: string): string[] {
    return this.tokenizer.tokenize(text, { add_special_tokens: false });
  }

  /** Text of `ids` (an empty list gives ""). */
  decode(ids: readonly number[], options: DecodeOptions = {}): string {
    if (ids.length === 0) return "";
    return this.tokenizer.decode([...ids], {
      skip_special_tokens: options.skipSpecialTokens ?? false,
      clean_up_tokenization_spaces: this.cleanUpSpaces,
    });
  }

  /** The id of a token string, or null. */
  tokenToId(token: string): number | null {
    return this.tokenizer.token_to_id(token) ?? null;
  }

  /** The token string of an id, or null. */
  idToToken(id: number): string | null {
    return this.tokenizer.id_to_token(id) ?? null;
  }
}

/** Loads the tokenizer of a directory (shorthand for LmTokenizer.load). */
export function loadTokenizer(dir: string): Promise<LmTokenizer> {
  return LmTokenizer.load(dir);
}
