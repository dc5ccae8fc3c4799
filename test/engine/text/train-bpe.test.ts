import { readFile } from 'node:fs/promises';
import path from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { AppFailure } from '../../../src-main/api/index.js';
import {
  DEFAULT_CHAT_TEMPLATE,
  loadTokenizer,
  trainByteLevelBpe,
  trainByteLevelBpeWithStats,
} from '../../../src-main/engine/text/index.js';
import { makeTempDir, removeTempDirs } from './helpers.js';

afterEach(removeTempDirs);

const corpus = [
  'The cat sat on the mat. The cat ate the rat.',
  'A bat and a cat: the bat sat, the cat sat.',
  'Numbers 12 and 123 and 1234; tabs\tand  double  spaces\n\nnew lines.',
  'Unicode: café, naïve, 東京, 😀 and עברית.',
  '<|im_start|>user\nthe cat<|im_end|>',
];

describe('trainByteLevelBpe', () => {
  it('learns the most frequent pairs first, with special tokens first and then the 256 bytes', () => {
    const { tokenizer, stats } = trainByteLevelBpeWithStats(corpus, { vocabSize: 300, minFrequency: 1 });
    expect(tokenizer.vocabSize).toBe(300);
    expect(stats.merges).toBe(300 - 3 - 256);
    expect([0, 1, 2].map((id) => tokenizer.idToToken(id))).toEqual(['<|endoftext|>', '<|im_start|>', '<|im_end|>']);
    // Byte b has id 3 + b; "!" is 0x21, and a space is the byte-level character Ġ (U+0120).
    expect(tokenizer.idToToken(3 + 0x21)).toBe('!');
    expect(tokenizer.idToToken(3 + 0x20)).toBe('Ġ');
    // " cat" (×5 outside special tokens) and " the"/"the" dominate: "Ġ c a t" must end up one token.
    expect(tokenizer.tokenToId('Ġcat')).toBeDefined();
    expect(tokenizer.encode(' cat')).toEqual([tokenizer.tokenToId('Ġcat')]);
    expect(tokenizer.specialTokens.eos).toEqual({ id: 2, content: '<|im_end|>' });
    expect(tokenizer.specialTokens.pad).toEqual({ id: 0, content: '<|endoftext|>' });
    expect(tokenizer.specialTokens.bos).toBeNull();
    expect(tokenizer.chatTemplate).toBe(DEFAULT_CHAT_TEMPLATE);
  });

  it('merges by frequency and breaks ties by the smaller ids', () => {
    // Pre-tokens: "ab", " ab", " ab", " cd". Pair counts: (a,b) 3, (Ġ,a) 2, (Ġ,c) 1, (c,d) 1.
    // After "a b": (Ġ,ab) 2. Then (Ġ,c) and (c,d) tie at 1; Ġ (byte 0x20, id 35) is smaller than
    // c (byte 0x63, id 102), so "Ġ c" comes first, and then "Ġc d".
    const tokenizer = trainByteLevelBpe(['ab ab ab cd'], { vocabSize: 263, minFrequency: 1 });
    expect(tokenizer.toJSON().tokenizer.model['merges']).toEqual(['a b', 'Ġ ab', 'Ġ c', 'Ġc d']);
    expect(tokenizer.encode('ab ab cd')).toEqual([259, 260, 262]);
  });

  it('numbers the vocabulary densely, with every merge result and part in it', () => {
    // HF tokenizers refuses a tokenizer.json whose merges name a missing token; duplicate
    // spellings (two merges giving one string) must share an id, as in HF's trainer.
    const tokenizer = trainByteLevelBpe(corpus, { vocabSize: 340, minFrequency: 1 });
    const model = tokenizer.toJSON().tokenizer.model as { vocab: Record<string, number>; merges: string[] };
    const ids = Object.values(model.vocab).sort((a, b) => a - b);
    expect(ids).toEqual(Array.from({ length: ids.length }, (_, id) => id));
    for (const merge of model.merges) {
      const [left, right] = merge.split(' ') as [string, string];
      expect([model.vocab[left], model.vocab[right], model.vocab[left + right]]).not.toContain(undefined);
    }
  });

  it('keeps special tokens whole and does not learn merges from them', () => {
    const tokenizer = trainByteLevelBpe(['<|im_end|><|im_end|><|im_end|> hi hi hi'], {
      vocabSize: 270,
      minFrequency: 2,
    });
    expect(tokenizer.encode('<|im_end|>')).toEqual([2]);
    for (let id = 3 + 256; id < tokenizer.vocabSize; id++) {
      expect(tokenizer.idToToken(id)).not.toMatch(/[<|>]/);
    }
  });

  it('stops early when no pair reaches minFrequency', () => {
    const tokenizer = trainByteLevelBpe(['abcdef'], { vocabSize: 1000, minFrequency: 2 });
    expect(tokenizer.vocabSize).toBe(3 + 256);
  });

  it('is deterministic across runs', () => {
    const first = trainByteLevelBpe(corpus, { vocabSize: 320 });
    const second = trainByteLevelBpe(corpus, { vocabSize: 320 });
    expect(JSON.stringify(second.toJSON())).toBe(JSON.stringify(first.toJSON()));
  });

  it('round-trips arbitrary unicode strings', () => {
    const tokenizer = trainByteLevelBpe(corpus, { vocabSize: 320 });
    fc.assert(
      fc.property(
        fc.string({ unit: 'grapheme', maxLength: 40 }),
        fc.string({ unit: 'binary', maxLength: 40 }),
        (a, b) => {
          for (const text of [a, b, a + b]) {
            expect(tokenizer.decode(tokenizer.encode(text))).toBe(text);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('saves a tokenizer.json and tokenizer_config.json that load back with identical encodings', async () => {
    const tokenizer = trainByteLevelBpe(corpus, { vocabSize: 330 });
    const folder = await makeTempDir();
    await tokenizer.save(folder);
    const config = JSON.parse(await readFile(path.join(folder, 'tokenizer_config.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    expect(config).toMatchObject({
      eos_token: '<|im_end|>',
      pad_token: '<|endoftext|>',
      chat_template: DEFAULT_CHAT_TEMPLATE,
    });
    const loaded = await loadTokenizer(folder);
    for (const text of [...corpus, 'an unseen sentence, 42!', '<|im_start|>assistant\nok<|im_end|>\n']) {
      expect(loaded.encode(text)).toEqual(tokenizer.encode(text));
    }
    expect(loaded.vocabSize).toBe(tokenizer.vocabSize);
    expect(loaded.specialTokens).toEqual(tokenizer.specialTokens);
  });

  it('rejects a vocabulary smaller than the special tokens plus 256 bytes', () => {
    expect(() => trainByteLevelBpe(corpus, { vocabSize: 100 })).toThrow(AppFailure);
    expect(() => trainByteLevelBpe(corpus, { vocabSize: 400, eosToken: '<eos>' })).toThrow(
      /not one of the special tokens/,
    );
  });

  it('trains on 2 MB of varied text in a few seconds (incremental pair counts)', () => {
    // Words of 1–3 syllables from 40 syllables: up to 65,640 distinct words, like real text.
    const syllables = 'ka ri to ne su mo la pe vi do an el or us in ba ce fi gu ho ja ke li ma nu po qu ra se ti'
      .concat(' wa xe yo zu 12 7 305 th sh ch')
      .split(' ');
    let seed = 7;
    const random = (): number => (seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0) / 2 ** 32;
    const pick = (): string => syllables[Math.floor(random() * syllables.length)] as string;
    const word = (): string => Array.from({ length: 1 + Math.floor(random() * 3) }, pick).join('');
    const lines: string[] = [];
    for (let size = 0; size < 2_000_000; size += (lines[lines.length - 1] as string).length) {
      lines.push(`${Array.from({ length: 12 }, word).join(' ')}.\n`);
    }
    const started = performance.now();
    const { stats } = trainByteLevelBpeWithStats(lines, { vocabSize: 4000 });
    const seconds = (performance.now() - started) / 1000;
    expect(stats.uniqueWords).toBeGreaterThan(30_000);
    expect(stats.merges).toBe(4000 - 3 - 256);
    expect(seconds).toBeLessThan(20);
  });
});
