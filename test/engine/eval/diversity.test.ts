import { describe, expect, it } from 'vitest';
import {
  cosineSimilarityMatrix,
  distinctN,
  diversityMetrics,
  meanCosineDistance,
  selfBleu,
  vendiScore,
  wordTokens,
} from '../../../src-main/engine/eval/diversity.js';
import { hashedTfidfEmbeddings } from '../../../src-main/engine/eval/embeddings.js';

describe('distinct-n', () => {
  it('is distinct n-grams over all n-grams of the set', () => {
    // unigrams: the cat sat the cat ran → 4 distinct of 6; bigrams: the·cat cat·sat the·cat cat·ran → 3 of 4.
    expect(distinctN(['The cat sat', 'the cat ran'], 1)).toBeCloseTo(4 / 6, 12);
    expect(distinctN(['The cat sat', 'the cat ran'], 2)).toBeCloseTo(3 / 4, 12);
    expect(distinctN(['a a a a'], 1)).toBeCloseTo(1 / 4, 12);
    expect(distinctN(['one'], 2)).toBeNull();
  });

  it('splits words and punctuation, lower-cased', () => {
    expect(wordTokens('Hello, World! 42x')).toEqual(['hello', ',', 'world', '!', '42x']);
  });
});

describe('self-BLEU', () => {
  it('matches a worked BLEU-2 example with equal lengths', () => {
    // "the cat sat" against "the cat ran": p1 = 2/3 (the, cat), p2 = 1/2 (the·cat), BP = 1 → √(1/3); symmetric.
    expect(selfBleu(['the cat sat', 'the cat ran'], { maxOrder: 2 })).toBeCloseTo(Math.sqrt(1 / 3), 12);
  });

  it('applies the brevity penalty and method1 smoothing (BLEU-4)', () => {
    // Hypothesis "a b c d" vs "a b": p1 = 2/4, p2 = 1/3, p3 = 0 → ε/2, p4 = 0 → ε/1, BP = 1 (longer).
    const longer = Math.pow(0.5 * (1 / 3) * (0.1 / 2) * 0.1, 1 / 4);
    // Hypothesis "a b" vs "a b c d": p1 = 1, p2 = 1, p3 and p4 have no n-grams → ε/1 each, BP = e^(1 − 4/2).
    const shorter = Math.exp(1 - 4 / 2) * Math.pow(1 * 1 * 0.1 * 0.1, 1 / 4);
    expect(selfBleu(['a b c d', 'a b'])).toBeCloseTo((longer + shorter) / 2, 12);
  });

  it('clips counts by the most any one reference holds', () => {
    // "the the the" vs "the cat": the unigram count 3 is clipped to 1 → p1 = 1/3 (BLEU-1, BP = 1).
    const hypothesis = 1 / 3;
    // "the cat" vs "the the the": p1 = 1/2; the closest reference length 3 > 2 → BP = e^(1 − 3/2).
    const reverse = Math.exp(1 - 3 / 2) * 0.5;
    expect(selfBleu(['the the the', 'the cat'], { maxOrder: 1 })).toBeCloseTo((hypothesis + reverse) / 2, 12);
  });

  it('is 1 for identical texts, 0 without shared words, null for one text', () => {
    expect(selfBleu(['one two three four five', 'one two three four five', 'one two three four five'])).toBeCloseTo(
      1,
      12,
    );
    expect(selfBleu(['alpha beta', 'gamma delta'])).toBe(0);
    expect(selfBleu(['alone'])).toBeNull();
  });
});

describe('embedding diversity', () => {
  it('mean cosine distance is the mean of 1 − cos over pairs', () => {
    // cos: (1,0)·(0,1) = 0; (1,0)·(1,1)/√2 = 1/√2; (0,1)·(1,1)/√2 = 1/√2.
    const expected = (1 + 2 * (1 - Math.SQRT1_2)) / 3;
    expect(
      meanCosineDistance([
        [1, 0],
        [0, 1],
        [1, 1],
      ]),
    ).toBeCloseTo(expected, 12);
    expect(
      meanCosineDistance([
        [3, 4],
        [6, 8],
      ]),
    ).toBeCloseTo(0, 12);
    expect(meanCosineDistance([[1, 2]])).toBeNull();
  });

  it('cosine similarity matrix is symmetric with a unit diagonal', () => {
    const matrix = cosineSimilarityMatrix([
      [1, 2, 3],
      [3, 2, 1],
    ]);
    expect(matrix[0]?.[0]).toBeCloseTo(1, 12);
    expect(matrix[0]?.[1]).toBeCloseTo(10 / 14, 12);
    expect(matrix[1]?.[0]).toBeCloseTo(10 / 14, 12);
  });

  it('Vendi score: 1 for identical vectors, k for k orthogonal ones, exp(entropy) in between', () => {
    expect(
      vendiScore([
        [1, 2, 3],
        [1, 2, 3],
        [2, 4, 6],
        [0.5, 1, 1.5],
      ]),
    ).toBeCloseTo(1, 8);
    const orthogonal = [
      [1, 0, 0, 0, 0],
      [0, 2, 0, 0, 0],
      [0, 0, 0, 3, 0],
    ];
    expect(vendiScore(orthogonal)).toBeCloseTo(3, 8);
    // Two unit vectors with cos 0.5: eigenvalues of K/2 are 0.75 and 0.25.
    const entropy = -(0.75 * Math.log(0.75) + 0.25 * Math.log(0.25));
    expect(
      vendiScore([
        [1, 0],
        [0.5, Math.sqrt(3) / 2],
      ]),
    ).toBeCloseTo(Math.exp(entropy), 8);
    expect(vendiScore([[1, 1]])).toBe(1);
  });

  it('diversityMetrics reports every metric of a set', () => {
    const texts = ['the cat sat', 'the cat ran', 'a dog barked loudly'];
    const metrics = diversityMetrics(texts, hashedTfidfEmbeddings(texts));
    expect(metrics.count).toBe(3);
    expect(metrics.distinct1).toBeCloseTo(8 / 10, 12);
    expect(metrics.selfBleu).toBeGreaterThan(0);
    expect(metrics.meanCosineDistance).toBeGreaterThan(0);
    expect(metrics.vendiScore).toBeGreaterThan(1);
    expect(metrics.vendiScore).toBeLessThanOrEqual(3 + 1e-9);
    const empty = diversityMetrics([], []);
    expect(empty).toEqual({
      count: 0,
      distinct1: null,
      distinct2: null,
      selfBleu: null,
      meanCosineDistance: null,
      vendiScore: null,
    });
  });
});

describe('hashed TF-IDF embeddings', () => {
  it('gives unit vectors of the set length, equal for equal texts, never zero', () => {
    const vectors = hashedTfidfEmbeddings(['Hello world', 'hello   WORLD', 'something else', ''], { dimensions: 64 });
    expect(vectors).toHaveLength(4);
    for (const vector of vectors) {
      expect(vector).toHaveLength(64);
      expect(Math.hypot(...vector)).toBeCloseTo(1, 12);
    }
    expect(vectors[1]).toEqual(vectors[0]);
    expect(meanCosineDistance([vectors[0] as number[], vectors[2] as number[]])).toBeGreaterThan(0.3);
  });
});
