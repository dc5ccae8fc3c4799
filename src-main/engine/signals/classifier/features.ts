/**
 * Hashed features of one judged turn, for the classifier (the "hashing trick": a feature name is
 * hashed into one of `buckets` weights, so the vocabulary need not be stored).
 *
 * Feature names, so that evidence can name them:
 * - `u:<word>` and `u:<word>_<word>`: words and adjacent word pairs of the user turn;
 * - `u^:<word>`: the user turn's first word ("no", "thanks");
 * - `len:<bucket>`, `p:?`, `p:!`: the turn's length in words and its punctuation;
 * - `sim:<fifth>`: similarity with the previous user request (rephrasing), in fifths;
 * - `a:<word>`: words of the judged answer (its first 300), the only features of a KTO example.
 */
import { hashString, tokenize, turnSimilarity } from '../text.js';

/** Bump when the features change: a saved classifier records the version it was trained with. */
export const FEATURE_VERSION = 1;

const USER_TOKENS = 256;
const ANSWER_TOKENS = 300;

export interface FeatureSpan {
  /** Which text the feature came from. */
  source: 'user' | 'answer';
  start: number;
  end: number;
}

export interface FeatureVector {
  /** Bucket indices, distinct. */
  indices: Int32Array;
  /** Value per index (1 per feature; two features in one bucket add up). */
  values: Float32Array;
  /** Feature names and spans per index (the first feature that landed in the bucket). */
  names: string[];
  spans: Array<FeatureSpan | undefined>;
}

export interface TurnTexts {
  /** The user turn; null for a final answer judged without a user reaction (KTO). */
  user: string | null;
  /** The assistant answer being judged. */
  answer: string | null;
  /** The previous user request, for the similarity feature. */
  previousRequest?: string;
}

function lengthBucket(count: number): string {
  if (count <= 1) return '1';
  if (count <= 3) return '2-3';
  if (count <= 7) return '4-7';
  if (count <= 15) return '8-15';
  if (count <= 31) return '16-31';
  return '32+';
}

/** The features of one judged turn, hashed into `buckets` (a power of two). */
export function featurize(texts: TurnTexts, buckets: number): FeatureVector {
  const mask = buckets - 1;
  const values = new Map<number, number>();
  const names = new Map<number, string>();
  const spans = new Map<number, FeatureSpan | undefined>();
  const add = (name: string, span?: FeatureSpan, value = 1) => {
    const index = hashString(name) & mask;
    values.set(index, (values.get(index) ?? 0) + value);
    if (!names.has(index)) {
      names.set(index, name);
      spans.set(index, span);
    }
  };

  if (texts.user !== null) {
    const tokens = tokenize(texts.user, USER_TOKENS);
    tokens.forEach((token, position) => {
      const span: FeatureSpan = { source: 'user', start: token.start, end: token.end };
      add(`u:${token.text}`, span);
      if (position === 0) add(`u^:${token.text}`, span);
      const next = tokens[position + 1];
      if (next && !token.unspaced && !next.unspaced) {
        add(`u:${token.text}_${next.text}`, { source: 'user', start: token.start, end: next.end });
      }
    });
    add(`len:${lengthBucket(tokens.length)}`);
    if (/[?？]/u.test(texts.user)) add('p:?');
    if (/[!！]/u.test(texts.user)) add('p:!');
    if (texts.previousRequest !== undefined && tokens.length > 0) {
      add(`sim:${Math.min(4, Math.floor(turnSimilarity(texts.previousRequest, texts.user) * 5))}`);
    }
  } else {
    add('final-answer');
  }
  if (texts.answer !== null) {
    const seen = new Set<string>();
    for (const token of tokenize(texts.answer, ANSWER_TOKENS)) {
      if (seen.has(token.text)) continue;
      seen.add(token.text);
      add(`a:${token.text}`, { source: 'answer', start: token.start, end: token.end }, 0.5);
    }
  }

  const indices = Int32Array.from([...values.keys()].sort((a, b) => a - b));
  return {
    indices,
    values: Float32Array.from(indices, (index) => values.get(index) ?? 0),
    names: Array.from(indices, (index) => names.get(index) ?? ''),
    spans: Array.from(indices, (index) => spans.get(index)),
  };
}
