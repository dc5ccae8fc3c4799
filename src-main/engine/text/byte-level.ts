/**
 * GPT-2's byte-level alphabet and pre-tokenisation, for the BPE trainer.
 *
 * Byte-level BPE works on UTF-8 bytes, but vocab.json stores tokens as strings: GPT-2 maps every
 * byte to a printable character (`bytes_to_unicode` in openai/gpt-2 `src/encoder.py`): the
 * printable Latin-1 bytes map to themselves, the other 68 bytes to U+0100 onwards, in byte order.
 * So a space (0x20) is `Ġ` (U+0120) and a newline (0x0A) is `Ċ` (U+010A).
 */
import type { TokenizerJson } from './tokenizer-json.js';

/** `BYTE_TO_CHARACTER[byte]` is the vocab.json character for that byte. */
export const BYTE_TO_CHARACTER: readonly string[] = buildByteToCharacter();

/**
 * GPT-2's pre-tokenisation pattern (openai/gpt-2 `src/encoder.py`, also the `use_regex` pattern of
 * HF tokenizers' ByteLevel pre-tokenizer): contractions, an optional space then letters, digits or
 * other symbols, and whitespace runs that leave their last space to the next word.
 */
export const GPT2_SPLIT_PATTERN = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

function buildByteToCharacter(): string[] {
  const printable = (byte: number): boolean =>
    (byte >= 0x21 && byte <= 0x7e) || (byte >= 0xa1 && byte <= 0xac) || (byte >= 0xae && byte <= 0xff);
  const characters: string[] = [];
  let next = 0;
  for (let byte = 0; byte < 256; byte++) {
    characters.push(String.fromCodePoint(printable(byte) ? byte : 256 + next++));
  }
  return characters;
}

const utf8 = new TextEncoder();

/** Splits text into GPT-2 pre-tokens ("Hello", " world", "  ", ...). */
export function splitGpt2(text: string): string[] {
  return text.match(GPT2_SPLIT_PATTERN) ?? [];
}

/** The byte-level string of a piece of text: its UTF-8 bytes, each as its vocab.json character. */
export function toByteLevel(text: string): string {
  let result = '';
  for (const byte of utf8.encode(text)) result += BYTE_TO_CHARACTER[byte];
  return result;
}

/**
 * A GPT-2-style byte-level BPE tokenizer.json (the layout HF `tokenizers` writes for GPT-2 and the
 * workbench's own trained tokenizers): byte-level pre-tokenizer, post-processor and decoder, no
 * normalizer, and every added token special.
 */
export function byteLevelTokenizerJson(
  vocab: Record<string, number>,
  merges: string[],
  addedTokens: readonly { content: string; id: number }[],
): TokenizerJson {
  const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true };
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: addedTokens.map(({ content, id }) => ({
      id,
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: null,
    pre_tokenizer: byteLevel,
    post_processor: { ...byteLevel, trim_offsets: false },
    decoder: byteLevel,
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      vocab,
      merges,
    },
  };
}
