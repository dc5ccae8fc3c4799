/**
 * Byte-level BPE training for the workbench's own small models (GPT-2's scheme: pre-tokenise with
 * GPT-2's pattern, start from the 256 byte symbols, repeatedly merge the most frequent adjacent
 * pair). The result is an ordinary tokenizer.json, so it loads back here and in HF tokenizers.
 *
 * The loop follows HF tokenizers' `BpeTrainer` (tokenizers/src/models/bpe/trainer.rs): pair counts
 * are kept up to date incrementally (only the words that contain the merged pair are touched) and
 * a max-heap with lazy re-insertion picks the next pair, instead of recounting every pair after
 * every merge.
 */
import { AppFailure } from '../../api/index.js';
import { BYTE_TO_CHARACTER, byteLevelTokenizerJson, splitGpt2, toByteLevel } from './byte-level.js';
import { DEFAULT_CHAT_TEMPLATE } from './chat.js';
import type { Tokenizer } from './tokenizer.js';
import { createTokenizer } from './tokenizer.js';
import type { TokenizerConfig, TokenizerJson } from './tokenizer-json.js';

/** The special tokens a trained tokenizer gets unless told otherwise: ChatML's, as Qwen uses. */
export const DEFAULT_SPECIAL_TOKENS = ['<|endoftext|>', '<|im_start|>', '<|im_end|>'] as const;

export interface TrainByteLevelBpeOptions {
  /** Final vocabulary size, special tokens and the 256 byte symbols included. */
  vocabSize: number;
  /** A pair seen fewer times than this is never merged (training stops early). Default 2. */
  minFrequency?: number;
  /** Added as special tokens with ids 0, 1, ... in this order. Default {@link DEFAULT_SPECIAL_TOKENS}. */
  specialTokens?: readonly string[];
  /** End-of-sequence (and end-of-turn) token; must be one of `specialTokens`. Default `<|im_end|>` when present. */
  eosToken?: string | null;
  /** Padding token; must be one of `specialTokens`. Default `<|endoftext|>` when present. */
  padToken?: string | null;
  /** Beginning-of-sequence token, prepended by nothing (GPT-2 style) but recorded. Default none. */
  bosToken?: string | null;
  /** Chat template stored in tokenizer_config.json. Default {@link DEFAULT_CHAT_TEMPLATE}. */
  chatTemplate?: string | null;
}

/** What training did, for progress reports and benchmarks. */
export interface BpeTrainingStats {
  words: number;
  uniqueWords: number;
  merges: number;
}

/**
 * Trains a byte-level BPE tokenizer on `texts`. Deterministic: the same texts in the same order
 * give the same vocabulary and merges (ties in pair frequency go to the pair with the smaller ids).
 */
export function trainByteLevelBpe(texts: Iterable<string>, options: TrainByteLevelBpeOptions): Tokenizer {
  return trainByteLevelBpeWithStats(texts, options).tokenizer;
}

/** {@link trainByteLevelBpe}, also returning counts of what was trained on. */
export function trainByteLevelBpeWithStats(
  texts: Iterable<string>,
  options: TrainByteLevelBpeOptions,
): { tokenizer: Tokenizer; stats: BpeTrainingStats } {
  const specialTokens = [...(options.specialTokens ?? DEFAULT_SPECIAL_TOKENS)];
  const minFrequency = options.minFrequency ?? 2;
  checkOptions(options.vocabSize, minFrequency, specialTokens);
  const config = buildConfig(options, specialTokens);

  const { wordCounts, words } = countWords(texts, specialTokens);
  const alphabetStart = specialTokens.length;
  const vocabulary: string[] = [...specialTokens, ...BYTE_TO_CHARACTER];
  const symbolIdOf = new Map<string, number>(
    BYTE_TO_CHARACTER.map((character, byte) => [character, alphabetStart + byte]),
  );

  const corpus = [...wordCounts].map(([word, count]) => ({
    symbols: Array.from(toByteLevel(word), (character) => symbolIdOf.get(character) as number),
    count,
  }));
  const merges = learnMerges(corpus, vocabulary, options.vocabSize, minFrequency);

  const tokenizerJson = buildTokenizerJson(vocabulary, merges, specialTokens);
  const tokenizer = createTokenizer(tokenizerJson, config);
  return { tokenizer, stats: { words, uniqueWords: wordCounts.size, merges: merges.length } };
}

function checkOptions(vocabSize: number, minFrequency: number, specialTokens: string[]): void {
  const smallest = specialTokens.length + 256;
  if (!Number.isInteger(vocabSize) || vocabSize < smallest || vocabSize > MAX_VOCAB_SIZE) {
    throw new AppFailure(
      'tokenizer_invalid',
      `vocabSize must be an integer from ${smallest} (the special tokens plus 256 bytes) to ${MAX_VOCAB_SIZE}; got ${vocabSize}.`,
    );
  }
  if (!Number.isInteger(minFrequency) || minFrequency < 1) {
    throw new AppFailure('tokenizer_invalid', `minFrequency must be a positive integer; got ${minFrequency}.`);
  }
  const bytes = new Set(BYTE_TO_CHARACTER);
  if (
    new Set(specialTokens).size !== specialTokens.length ||
    specialTokens.some((token) => token.length === 0 || bytes.has(token))
  ) {
    throw new AppFailure(
      'tokenizer_invalid',
      'specialTokens must be distinct, non-empty strings, and not a single byte symbol such as "!".',
    );
  }
}

/** Pair keys pack two ids into one number: a * 2^21 + b stays exact below 2^53. */
const MAX_VOCAB_SIZE = 1 << 21;
const pairKey = (first: number, second: number): number => first * MAX_VOCAB_SIZE + second;

/** Counts GPT-2 pre-tokens; special tokens in the text are cut out so they never feed merges. */
function countWords(
  texts: Iterable<string>,
  specialTokens: string[],
): { wordCounts: Map<string, number>; words: number } {
  const specialPattern =
    specialTokens.length > 0
      ? new RegExp(specialTokens.map((token) => token.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'g')
      : null;
  const wordCounts = new Map<string, number>();
  let words = 0;
  for (const text of texts) {
    const pieces = specialPattern ? text.split(specialPattern) : [text];
    for (const piece of pieces) {
      for (const word of splitGpt2(piece)) {
        wordCounts.set(word, (wordCounts.get(word) ?? 0) + 1);
        words++;
      }
    }
  }
  return { wordCounts, words };
}

interface Word {
  symbols: number[];
  count: number;
}

/**
 * The merge loop. `vocabulary` grows in place; returns the merges in order as [left, right]
 * token strings.
 */
function learnMerges(
  corpus: Word[],
  vocabulary: string[],
  vocabSize: number,
  minFrequency: number,
): [string, string][] {
  const pairCounts = new Map<number, number>();
  const wordsWithPair = new Map<number, Set<number>>();
  corpus.forEach((word, index) => {
    const { symbols, count } = word;
    for (let i = 0; i + 1 < symbols.length; i++) {
      const key = pairKey(symbols[i] as number, symbols[i + 1] as number);
      pairCounts.set(key, (pairCounts.get(key) ?? 0) + count);
      let holders = wordsWithPair.get(key);
      if (!holders) wordsWithPair.set(key, (holders = new Set()));
      holders.add(index);
    }
  });

  const queue = new PairQueue();
  for (const [key, count] of pairCounts) queue.push(key, count);
  const idOf = new Map(vocabulary.map((token, id) => [token, id]));

  const merges: [string, string][] = [];
  while (vocabulary.length < vocabSize) {
    const top = queue.pop();
    if (!top) break;
    const current = pairCounts.get(top.key) ?? 0;
    if (current !== top.count) {
      // Stale entry: the count changed since it was queued; the fresh one is (or was) queued too.
      continue;
    }
    if (current < minFrequency) break;

    const first = Math.floor(top.key / MAX_VOCAB_SIZE);
    const second = top.key % MAX_VOCAB_SIZE;
    const left = vocabulary[first] as string;
    const right = vocabulary[second] as string;
    // Two different pairs can spell the same token ("a"+"bc", "ab"+"c"): like HF's trainer, the
    // second merge reuses the existing id and the vocabulary does not grow.
    let merged = idOf.get(left + right);
    if (merged === undefined) {
      merged = vocabulary.length;
      vocabulary.push(left + right);
      idOf.set(left + right, merged);
    }
    merges.push([left, right]);

    const changed = new Set<number>();
    for (const index of wordsWithPair.get(top.key) ?? []) {
      const word = corpus[index] as Word;
      const replaced = mergePair(word.symbols, first, second, merged);
      if (replaced === word.symbols) continue;
      adjustPairs(word.symbols, -word.count, index, pairCounts, wordsWithPair, changed);
      adjustPairs(replaced, word.count, index, pairCounts, wordsWithPair, changed);
      word.symbols = replaced;
    }
    wordsWithPair.delete(top.key);
    pairCounts.delete(top.key);
    for (const key of changed) {
      const count = pairCounts.get(key) ?? 0;
      if (count > 0) queue.push(key, count);
      else pairCounts.delete(key);
    }
  }
  return merges;
}

/** Replaces every non-overlapping (first, second), left to right; returns the same array if none. */
function mergePair(symbols: number[], first: number, second: number, merged: number): number[] {
  let result: number[] | null = null;
  for (let i = 0; i < symbols.length; i++) {
    if (symbols[i] === first && symbols[i + 1] === second) {
      result ??= symbols.slice(0, i);
      result.push(merged);
      i++;
    } else if (result) {
      result.push(symbols[i] as number);
    }
  }
  return result ?? symbols;
}

function adjustPairs(
  symbols: number[],
  delta: number,
  wordIndex: number,
  pairCounts: Map<number, number>,
  wordsWithPair: Map<number, Set<number>>,
  changed: Set<number>,
): void {
  for (let i = 0; i + 1 < symbols.length; i++) {
    const key = pairKey(symbols[i] as number, symbols[i + 1] as number);
    pairCounts.set(key, (pairCounts.get(key) ?? 0) + delta);
    changed.add(key);
    if (delta > 0) {
      let holders = wordsWithPair.get(key);
      if (!holders) wordsWithPair.set(key, (holders = new Set()));
      holders.add(wordIndex);
    }
  }
}

/**
 * A binary max-heap of (count, pair) ordered by count, then by the smaller pair key (HF's
 * tie-break: the pair with smaller ids wins), so training is deterministic.
 */
class PairQueue {
  private readonly counts: number[] = [];
  private readonly keys: number[] = [];

  push(key: number, count: number): void {
    this.counts.push(count);
    this.keys.push(key);
    let child = this.counts.length - 1;
    while (child > 0) {
      const parent = (child - 1) >> 1;
      if (!this.before(child, parent)) break;
      this.swap(child, parent);
      child = parent;
    }
  }

  pop(): { key: number; count: number } | undefined {
    const size = this.counts.length;
    if (size === 0) return undefined;
    const top = { key: this.keys[0] as number, count: this.counts[0] as number };
    const lastCount = this.counts.pop() as number;
    const lastKey = this.keys.pop() as number;
    if (size > 1) {
      this.counts[0] = lastCount;
      this.keys[0] = lastKey;
      let parent = 0;
      for (;;) {
        const left = 2 * parent + 1;
        const right = left + 1;
        let best = parent;
        if (left < this.counts.length && this.before(left, best)) best = left;
        if (right < this.counts.length && this.before(right, best)) best = right;
        if (best === parent) break;
        this.swap(parent, best);
        parent = best;
      }
    }
    return top;
  }

  private before(a: number, b: number): boolean {
    const countA = this.counts[a] as number;
    const countB = this.counts[b] as number;
    return countA !== countB ? countA > countB : (this.keys[a] as number) < (this.keys[b] as number);
  }

  private swap(a: number, b: number): void {
    [this.counts[a], this.counts[b]] = [this.counts[b] as number, this.counts[a] as number];
    [this.keys[a], this.keys[b]] = [this.keys[b] as number, this.keys[a] as number];
  }
}

function buildTokenizerJson(vocabulary: string[], merges: [string, string][], specialTokens: string[]): TokenizerJson {
  return byteLevelTokenizerJson(
    Object.fromEntries(vocabulary.map((token, id) => [token, id])),
    // "left right" strings (the format every tokenizers version reads): byte-level tokens never
    // contain a space, because the space byte is the character Ġ.
    merges.map(([left, right]) => `${left} ${right}`),
    specialTokens.map((content, id) => ({ content, id })),
  );
}

function buildConfig(options: TrainByteLevelBpeOptions, specialTokens: string[]): TokenizerConfig {
  const pick = (given: string | null | undefined, fallback: string): string | null => {
    const token = given === undefined ? (specialTokens.includes(fallback) ? fallback : null) : given;
    if (token !== null && !specialTokens.includes(token)) {
      throw new AppFailure(
        'tokenizer_invalid',
        `"${token}" is not one of the special tokens ${JSON.stringify(specialTokens)}.`,
      );
    }
    return token;
  };
  return {
    tokenizer_class: 'PreTrainedTokenizerFast',
    bos_token: pick(options.bosToken ?? null, ''),
    eos_token: pick(options.eosToken, '<|im_end|>'),
    pad_token: pick(options.padToken, '<|endoftext|>'),
    unk_token: null,
    add_bos_token: false,
    add_eos_token: false,
    clean_up_tokenization_spaces: false,
    chat_template: options.chatTemplate === undefined ? DEFAULT_CHAT_TEMPLATE : options.chatTemplate,
  };
}
