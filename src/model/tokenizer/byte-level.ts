// GPT-2's byte-level alphabet and pre-tokenizer, shared by the BPE trainer and its tests.

/** GPT-2's reversible byte → printable character map (bytes that print stay themselves). */
export const BYTE_TO_CHAR: readonly string[] = (() => {
  const printable: number[] = [];
  for (let b = 33; b <= 126; b++) printable.push(b);
  for (let b = 161; b <= 172; b++) printable.push(b);
  for (let b = 174; b <= 255; b++) printable.push(b);
  const map: string[] = new Array(256);
  let next = 256;
  for (let b = 0; b < 256; b++) {
    map[b] = printable.includes(b) ? String.fromCharCode(b) : String.fromCharCode(next++);
  }
  return map;
})();

/**
 * GPT-2's pre-tokenizer pattern, exactly as @huggingface/tokenizers' ByteLevel pre-tokenizer
 * uses it, so that trained merges fit the words the library will see.
 */
export const GPT2_PATTERN =
  /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

const encoder = new TextEncoder();

/** The byte-level characters of a word: its UTF-8 bytes through BYTE_TO_CHAR. */
export function toByteLevel(word: string): string {
  let out = "";
  for (const byte of encoder.encode(word)) out += BYTE_TO_CHAR[byte];
  return out;
}

/** Splits text into pre-tokens (words with their leading space), GPT-2 style. */
export function preTokenize(text: string): string[] {
  return text.match(GPT2_PATTERN) ?? [];
}
