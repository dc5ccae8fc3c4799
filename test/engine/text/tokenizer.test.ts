/**
 * Real tokenizers against encodings derived from their own files. Each expected encoding is
 * written as token strings, worked out by hand from the file's definition (pre-tokenisation,
 * merges.txt ranks, added tokens), and turned into ids by reading vocab.json / tokenizer.json
 * directly in the test, never through the code under test. The derivations were cross-checked with
 * a separate 60-line Python implementation of GPT-2's `encoder.py` and of HF's BPE with byte
 * fallback.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadTokenizer } from '../../../src-main/engine/text/index.js';
import type { Tokenizer } from '../../../src-main/engine/text/index.js';
import { fixtureTokenizerFolder, makeTempDir, removeTempDirs, sharedTokenizerFolder, skipReason } from './helpers.js';

afterEach(removeTempDirs);

/** Maps token strings to ids with a vocabulary read straight from the file. */
function idsOf(vocab: Record<string, number>, tokens: string[]): number[] {
  return tokens.map((token) => {
    const id = vocab[token];
    if (id === undefined) throw new Error(`test derivation error: ${JSON.stringify(token)} is not in the vocabulary`);
    return id;
  });
}

function readJson<T>(file: string): T {
  return JSON.parse(readFileSync(file, 'utf8')) as T;
}

/** Texts every tokenizer must reproduce exactly after encode → decode. */
const ROUND_TRIP_TEXTS = [
  'Hello world',
  '東京タワーと北京',
  'emoji 😀👍🏽 family 👨‍👩‍👧 flag 🇫🇷',
  'combining: e\u0301 n\u0303 a\u0308\u0301',
  'RTL: שלום עולם and مرحبا بالعالم',
  'spaces:  two,   three,    four',
  'tabs\tand\t\ttabs, newlines\n\n\nand \r\n CRLF',
  'digits 0 12 345 6789 3.14159 1,000,000',
  '  leading and trailing  ',
  '𝔸𝔹ℂ mathematical, \u0000 NUL, \u00a0 no-break space',
];

describe('GPT-2 (vocab.json + merges.txt)', () => {
  let tokenizer: Tokenizer;
  let vocab: Record<string, number>;
  beforeAll(async () => {
    tokenizer = await loadTokenizer(fixtureTokenizerFolder('gpt2'));
    vocab = readJson(path.join(fixtureTokenizerFolder('gpt2'), 'vocab.json'));
  });

  it('encodes "Hello world" as the well-known [15496, 995]', () => {
    // Pre-tokens: "Hello", " world" (a space joins the word after it; space is the byte-level
    // character Ġ). Both are whole vocabulary entries reached by merges.txt ("H ello", "Ġwor ld").
    expect(idsOf(vocab, ['Hello', 'Ġworld'])).toEqual([15496, 995]);
    expect(tokenizer.encode('Hello world')).toEqual([15496, 995]);
    expect(tokenizer.decode([15496, 995])).toBe('Hello world');
  });

  it('splits digit runs into vocabulary pieces', () => {
    // "12345" is one pre-token (\p{N}+). Merges by rank: "1 2" (rank 809), "4 5" (1975), then
    // "12 3" (9907); no merge joins "123" and "45". " 2024" is the single token "Ġ2024".
    expect(tokenizer.encode('12345 and 2024')).toEqual(idsOf(vocab, ['123', '45', 'Ġand', 'Ġ2024']));
    // "it's 3.14": the contraction "'s" is its own pre-token; "." and "14" split (. is not \p{N}).
    expect(tokenizer.encode("it's 3.14")).toEqual(idsOf(vocab, ['it', "'s", 'Ġ3', '.', '14']));
  });

  it('keeps whitespace runs as single-space tokens (merges.txt has no "Ġ Ġ")', () => {
    // "x    y": \s+(?!\S) takes three spaces, the last space joins "y". With no "Ġ Ġ" merge, each
    // space stays "Ġ" (220). Newlines: "Ċ Ċ" is a merge, so "\n\n\n" → "ĊĊ" + "Ċ".
    expect(tokenizer.encode('x    y')).toEqual(idsOf(vocab, ['x', 'Ġ', 'Ġ', 'Ġ', 'Ġy']));
    expect(tokenizer.encode('a\n\n\nb')).toEqual(idsOf(vocab, ['a', 'ĊĊ', 'Ċ', 'b']));
    // A tab is byte 0x09, the character ĉ; "\t\t" before a letter splits into two pre-tokens.
    expect(tokenizer.encode('a  b\t\tc')).toEqual(idsOf(vocab, ['a', 'Ġ', 'Ġb', 'ĉ', 'ĉ', 'c']));
  });

  it('encodes unicode as UTF-8 byte pieces', () => {
    // 東 = E6 9D B1 (æ Ŀ ±), 京 = E4 BA AC (ä º ¬); merges join "æĿ" and "äº".
    expect(tokenizer.encode('東京')).toEqual(idsOf(vocab, ['æĿ', '±', 'äº', '¬']));
    // 😀 = F0 9F 98 80 (ð Ł ĺ Ģ); merges "ð Ł" then "ðŁ ĺ" leave "Ģ" alone.
    expect(tokenizer.encode('😀')).toEqual(idsOf(vocab, ['ðŁĺ', 'Ģ']));
    // e + U+0301 (CC 81 = Ì ģ): the combining mark is not a letter for \p{L}, so it is its own pre-token.
    expect(tokenizer.encode('e\u0301')).toEqual(idsOf(vocab, ['e', 'Ì', 'ģ']));
    // ש ל ו ם = D7 A9, D7 9C, D7 95, D7 9D.
    expect(tokenizer.encode('שלום')).toEqual(idsOf(vocab, ['×©', '×ľ', '×ķ', '×', 'Ŀ']));
  });

  it('treats <|endoftext|> as a special token, and skips it on request', () => {
    const ids = tokenizer.encode('Hi<|endoftext|>there');
    expect(ids).toEqual([...idsOf(vocab, ['Hi']), 50256, ...idsOf(vocab, ['there'])]);
    expect(tokenizer.decode(ids)).toBe('Hi<|endoftext|>there');
    expect(tokenizer.decode(ids, { skipSpecialTokens: true })).toBe('Hithere');
    expect(tokenizer.specialTokens.eos).toEqual({ id: 50256, content: '<|endoftext|>' });
    expect(tokenizer.specialTokens.bos).toEqual({ id: 50256, content: '<|endoftext|>' });
    expect(tokenizer.vocabSize).toBe(50257);
    // GPT-2 adds nothing around a text.
    expect(tokenizer.encode('Hello', { addSpecialTokens: true })).toEqual([15496]);
  });

  it('round-trips unicode, whitespace runs and digits', () => {
    for (const text of ROUND_TRIP_TEXTS) expect(tokenizer.decode(tokenizer.encode(text))).toBe(text);
  });

  it('saves as tokenizer.json that loads back with identical encodings', async () => {
    const folder = await makeTempDir();
    await tokenizer.save(folder);
    const reloaded = await loadTokenizer(folder);
    for (const text of ROUND_TRIP_TEXTS) expect(reloaded.encode(text)).toEqual(tokenizer.encode(text));
    expect(reloaded.specialTokens).toEqual(tokenizer.specialTokens);
  });
});

describe('Phi-2 (tokenizer.json with added whitespace tokens)', () => {
  let tokenizer: Tokenizer;
  let vocab: Record<string, number>;
  let added: Record<string, number>;
  beforeAll(async () => {
    tokenizer = await loadTokenizer(fixtureTokenizerFolder('phi-2'));
    const json = readJson<{
      model: { vocab: Record<string, number> };
      added_tokens: { id: number; content: string }[];
    }>(path.join(fixtureTokenizerFolder('phi-2'), 'tokenizer.json'));
    vocab = json.model.vocab;
    added = Object.fromEntries(json.added_tokens.map((token) => [token.content, token.id]));
  });

  it('matches added whitespace tokens before pre-tokenisation, longest first', () => {
    // The added tokens 50257–50286 are runs of 31 down to 2 spaces, 50287–50294 runs of 9 down to
    // 2 tabs. They are cut out of the text first (leftmost-longest), unlike GPT-2's "Ġ" tokens.
    expect(tokenizer.encode('a  b')).toEqual([vocab['a'], added['  '], vocab['b']]);
    expect(added['  ']).toBe(50286);
    expect(tokenizer.encode('x\t\t\ty')).toEqual([vocab['x'], added['\t\t\t'], vocab['y']]);
    // 33 spaces: the 31-space token (50257), then the 2-space token.
    expect(tokenizer.encode(`${' '.repeat(33)}z`)).toEqual([50257, 50286, vocab['z']]);
    // Code indentation: "\n" then the 4-space token, then "return" without a leading Ġ.
    expect(tokenizer.encode('def f():\n    return 1')).toEqual([
      ...idsOf(vocab, ['def', 'Ġf', '():', 'Ċ']),
      added['    '],
      ...idsOf(vocab, ['return', 'Ġ1']),
    ]);
  });

  it('shares GPT-2 merges for ordinary text and keeps <|endoftext|> special', () => {
    expect(tokenizer.encode('Hello world')).toEqual([15496, 995]);
    expect(tokenizer.encode('<|endoftext|>hi')).toEqual([50256, vocab['hi']]);
    expect(tokenizer.decode([50256, vocab['hi'] as number], { skipSpecialTokens: true })).toBe('hi');
    // Whitespace tokens are added but not special: skipping specials keeps them.
    expect(tokenizer.decode([vocab['a'] as number, 50286, vocab['b'] as number], { skipSpecialTokens: true })).toBe(
      'a  b',
    );
    expect(tokenizer.vocabSize).toBe(50295);
  });

  it('round-trips unicode, whitespace runs and digits', () => {
    for (const text of ROUND_TRIP_TEXTS) expect(tokenizer.decode(tokenizer.encode(text))).toBe(text);
  });
});

const llamaSkip = skipReason('llama2');

describe.skipIf(llamaSkip !== null)(`Llama-2 (SentencePiece-style BPE with byte fallback) ${llamaSkip ?? ''}`, () => {
  let tokenizer: Tokenizer;
  let vocab: Record<string, number>;
  beforeAll(async () => {
    tokenizer = await loadTokenizer(sharedTokenizerFolder('llama2'));
    vocab = readJson<{ model: { vocab: Record<string, number> } }>(
      path.join(sharedTokenizerFolder('llama2'), 'tokenizer.json'),
    ).model.vocab;
  });

  it('prepends <s> and "▁", and replaces spaces by "▁" (the normalizer of tokenizer.json)', () => {
    // Normalised: "▁Hello▁world"; merges build "▁Hello" and "▁world". The well-known Llama-2
    // encoding is [1, 15043, 3186]; TemplateProcessing adds <s> = 1.
    expect(idsOf(vocab, ['<s>', '▁Hello', '▁world'])).toEqual([1, 15043, 3186]);
    expect(tokenizer.encode('Hello world')).toEqual([1, 15043, 3186]);
    expect(tokenizer.encode('Hello world', { addSpecialTokens: false })).toEqual([15043, 3186]);
    expect(tokenizer.decode([1, 15043, 3186], { skipSpecialTokens: true })).toBe('Hello world');
  });

  it('splits digits one by one and keeps runs of spaces as "▁" tokens', () => {
    // The vocabulary has every digit but no merge between digits.
    expect(tokenizer.encode('12345', { addSpecialTokens: false })).toEqual(
      idsOf(vocab, ['▁', '1', '2', '3', '4', '5']),
    );
    // "a  b\n\tc" → "▁a▁▁b\n\tc": "▁a", "▁", "▁b"; newline and tab are not in the vocabulary and
    // fall back to their bytes <0x0A>, <0x09>.
    expect(tokenizer.encode('a  b\n\tc', { addSpecialTokens: false })).toEqual(
      idsOf(vocab, ['▁a', '▁', '▁b', '<0x0A>', '<0x09>', 'c']),
    );
  });

  it('falls back to <0xNN> byte tokens for characters outside the vocabulary', () => {
    // 😀 (F0 9F 98 80) and 𝔸 (F0 9D 94 B8) are not vocabulary entries; 東, 京 and the Hebrew
    // letters are.
    expect(tokenizer.encode('😀', { addSpecialTokens: false })).toEqual(
      idsOf(vocab, ['▁', '<0xF0>', '<0x9F>', '<0x98>', '<0x80>']),
    );
    expect(tokenizer.encode('𝔸', { addSpecialTokens: false })).toEqual(
      idsOf(vocab, ['▁', '<0xF0>', '<0x9D>', '<0x94>', '<0xB8>']),
    );
    expect(tokenizer.encode('東京', { addSpecialTokens: false })).toEqual(idsOf(vocab, ['▁', '東', '京']));
    expect(tokenizer.encode('שלום', { addSpecialTokens: false })).toEqual(idsOf(vocab, ['▁', 'ש', 'ל', 'ו', 'ם']));
    // The combining acute accent U+0301 is its own vocabulary entry.
    expect(tokenizer.encode('e\u0301', { addSpecialTokens: false })).toEqual(idsOf(vocab, ['▁e', '\u0301']));
  });

  it('splits out <s> and </s> as HF tokenizers does with this file, and names the special tokens', () => {
    // The added tokens here are `normalized: true`, so they are matched in the normalised text
    // against their own normalised form: the Prepend normalizer turns "</s>" into "▁</s>"
    // (added_vocabulary.rs, refresh_added_tokens). "Hi </s>" → "▁Hi▁</s>" → "▁Hi", </s>.
    expect(tokenizer.encode('Hi </s>')).toEqual([1, ...idsOf(vocab, ['▁Hi']), 2]);
    expect(tokenizer.encode('</s>')).toEqual([1, 2]);
    // Without the space, "▁Hi</s>" does not contain "▁</s>": the text is ordinary characters.
    expect(tokenizer.encode('Hi</s>')).toEqual([1, ...idsOf(vocab, ['▁Hi', '</', 's', '>'])]);
    // "<s>Hi" → "▁<s>Hi": the special token takes the "▁", so "Hi" follows without one.
    expect(tokenizer.encode('<s>Hi', { addSpecialTokens: false })).toEqual([1, ...idsOf(vocab, ['Hi'])]);
    expect(tokenizer.specialTokens).toEqual({
      bos: { id: 1, content: '<s>' },
      eos: { id: 2, content: '</s>' },
      pad: null,
      unk: { id: 0, content: '<unk>' },
    });
    expect(tokenizer.vocabSize).toBe(32000);
  });

  it('round-trips unicode, whitespace runs and digits', () => {
    for (const text of ROUND_TRIP_TEXTS) {
      expect(tokenizer.decode(tokenizer.encode(text), { skipSpecialTokens: true })).toBe(text);
    }
  });

  it('streams byte-fallback tokens without emitting a broken character', () => {
    const ids = tokenizer.encode('Hi 😀 there', { addSpecialTokens: false });
    const stream = tokenizer.createStreamDecoder();
    const pieces = ids.map((id) => stream.push(id));
    expect(pieces.join('') + stream.flush()).toBe('Hi 😀 there');
    for (const piece of pieces) expect(piece).not.toContain('\ufffd');
    // The four byte tokens of 😀 release nothing until the last one.
    const start = ids.indexOf(vocab['<0xF0>'] as number);
    expect(pieces.slice(start, start + 3)).toEqual(['', '', '']);
    expect(pieces[start + 3]).toBe('😀');
  });
});

describe('streaming decoder (GPT-2)', () => {
  let tokenizer: Tokenizer;
  beforeAll(async () => {
    tokenizer = await loadTokenizer(fixtureTokenizerFolder('gpt2'));
  });

  it('holds back a multi-byte emoji split across tokens until it is complete', () => {
    // " 😀" is "ĠðŁĺ" + "Ģ": the first token ends inside the emoji's four bytes.
    const ids = tokenizer.encode('ok 😀 done');
    const stream = tokenizer.createStreamDecoder();
    const pieces = ids.map((id) => stream.push(id));
    expect(pieces).toEqual(['ok', '', ' 😀', ' done']);
    expect(stream.flush()).toBe('');
  });

  it('flushes an incomplete sequence as U+FFFD and starts afresh', () => {
    const [first] = tokenizer.encode('😀');
    const stream = tokenizer.createStreamDecoder();
    expect(stream.push(first as number)).toBe('');
    expect(stream.flush()).toBe('\ufffd');
    expect(stream.push(15496)).toBe('Hello');
  });

  it('skips special tokens when asked', () => {
    const stream = tokenizer.createStreamDecoder({ skipSpecialTokens: true });
    const text = [15496, 50256, 995].map((id) => stream.push(id)).join('') + stream.flush();
    expect(text).toBe('Hello world');
  });
});
