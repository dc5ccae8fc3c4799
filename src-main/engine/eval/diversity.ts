/**
 * Diversity of a set of outputs: lexical (distinct-n, Li et al. 2016, arXiv 1510.03055 §4.3;
 * self-BLEU, Zhu et al. 2018, Texygen, arXiv 1802.01886 §3.2) and semantic, over embeddings (mean
 * pairwise cosine distance; the Vendi score, Friedman and Dieng 2023, arXiv 2210.02410 §3).
 */
import { PCA } from 'ml-pca';
import type { DiversityMetrics } from '../../api/index.js';

/**
 * Words and punctuation marks of a text, lower-cased: the tokens distinct-n and self-BLEU count
 * (a model-free split, so the metrics mean the same for every checkpoint's tokenizer).
 */
export function wordTokens(text: string): string[] {
  return text.toLowerCase().match(/[\p{L}\p{N}_]+|[^\s\p{L}\p{N}_]/gu) ?? [];
}

/** The n-grams of a token list, each joined with a separator no token holds. */
function ngrams(tokens: readonly string[], n: number): string[] {
  const grams: string[] = [];
  for (let start = 0; start + n <= tokens.length; start++) grams.push(tokens.slice(start, start + n).join('\u0001'));
  return grams;
}

/**
 * Distinct-n: distinct n-grams / all n-grams over every text together (Li et al.'s corpus-level
 * ratio). Null when the texts hold no n-gram.
 */
export function distinctN(texts: readonly string[], n: number): number | null {
  const seen = new Set<string>();
  let total = 0;
  for (const text of texts) {
    for (const gram of ngrams(wordTokens(text), n)) {
      seen.add(gram);
      total++;
    }
  }
  return total === 0 ? null : seen.size / total;
}

export interface SelfBleuOptions {
  /** Highest n-gram order, with uniform weights 1/maxOrder. Default 4 (BLEU-4). */
  maxOrder?: number;
}

/**
 * Self-BLEU: the mean over texts of BLEU(text, every other text as references). Each BLEU is
 * sentence BLEU as NLTK's `sentence_bleu` computes it, which Texygen calls: clipped n-gram precisions
 * (a count is clipped by its largest count in any one reference), their geometric mean, the brevity
 * penalty exp(1 − r/c) against the reference length closest to the hypothesis length c (the shorter on
 * a tie), and NLTK's smoothing method1 (a zero match count becomes ε = 0.1, as Texygen uses). Texts
 * are split by {@link wordTokens}. A hypothesis that is empty or shares no word with the others scores 0
 * (as in NLTK). Null for fewer than 2 texts.
 */
export function selfBleu(texts: readonly string[], options: SelfBleuOptions = {}): number | null {
  const maxOrder = options.maxOrder ?? 4;
  if (texts.length < 2) return null;
  const tokens = texts.map(wordTokens);
  // counts[order][text]: n-gram → count. best[order]: n-gram → its two largest counts and the first's owner,
  // so "the largest count in any other text" is one lookup.
  const counts: Map<string, number>[][] = [];
  const best: Map<string, { owner: number; first: number; second: number }>[] = [];
  for (let order = 1; order <= maxOrder; order++) {
    const perText = tokens.map((list) => {
      const map = new Map<string, number>();
      for (const gram of ngrams(list, order)) map.set(gram, (map.get(gram) ?? 0) + 1);
      return map;
    });
    const top = new Map<string, { owner: number; first: number; second: number }>();
    perText.forEach((map, owner) => {
      for (const [gram, count] of map) {
        const entry = top.get(gram);
        if (entry === undefined) top.set(gram, { owner, first: count, second: 0 });
        else if (count > entry.first) top.set(gram, { owner, first: count, second: entry.first });
        else if (count > entry.second) entry.second = count;
      }
    });
    counts.push(perText);
    best.push(top);
  }

  let total = 0;
  tokens.forEach((hypothesis, index) => {
    const length = hypothesis.length;
    if (length === 0) return; // BLEU of an empty hypothesis is 0.
    let logPrecision = 0;
    for (let order = 1; order <= maxOrder; order++) {
      const mine = counts[order - 1]?.[index] as Map<string, number>;
      const top = best[order - 1] as Map<string, { owner: number; first: number; second: number }>;
      let matched = 0;
      let possible = 0;
      for (const [gram, count] of mine) {
        const entry = top.get(gram);
        const others = entry === undefined ? 0 : entry.owner === index ? entry.second : entry.first;
        matched += Math.min(count, others);
        possible += count;
      }
      // NLTK returns 0 when no unigram matches; otherwise a precision is matched / max(1, possible), and
      // method1 turns a zero numerator into ε (also for an order longer than the hypothesis).
      if (order === 1 && matched === 0) return;
      logPrecision += Math.log((matched === 0 ? 0.1 : matched) / Math.max(1, possible));
    }
    let closest = Number.POSITIVE_INFINITY;
    tokens.forEach((reference, other) => {
      if (other === index) return;
      const distance = Math.abs(reference.length - length);
      const current = Math.abs(closest - length);
      if (distance < current || (distance === current && reference.length < closest)) closest = reference.length;
    });
    const brevity = length > closest ? 1 : Math.exp(1 - closest / length);
    total += brevity * Math.exp(logPrecision / maxOrder);
  });
  return total / texts.length;
}

/** Each vector divided by its L2 norm (a zero vector stays zero). */
export function normalizeRows(vectors: readonly (readonly number[])[]): number[][] {
  return vectors.map((vector) => {
    const norm = Math.sqrt(vector.reduce((sum, value) => sum + value * value, 0));
    return norm === 0 ? vector.map(() => 0) : vector.map((value) => value / norm);
  });
}

/** The cosine similarity matrix K (n × n) of the vectors: K_ij = cos(x_i, x_j). */
export function cosineSimilarityMatrix(vectors: readonly (readonly number[])[]): number[][] {
  const unit = normalizeRows(vectors);
  const size = unit.length;
  const matrix = Array.from({ length: size }, () => new Array<number>(size).fill(0));
  for (let row = 0; row < size; row++) {
    const a = unit[row] as number[];
    for (let column = row; column < size; column++) {
      const b = unit[column] as number[];
      let dot = 0;
      for (let index = 0; index < a.length; index++) dot += (a[index] as number) * (b[index] as number);
      (matrix[row] as number[])[column] = dot;
      (matrix[column] as number[])[row] = dot;
    }
  }
  return matrix;
}

/** Mean of 1 − cos(x_i, x_j) over the pairs i < j; null for fewer than 2 vectors. */
export function meanCosineDistance(vectors: readonly (readonly number[])[]): number | null {
  if (vectors.length < 2) return null;
  return meanOffDiagonalDistance(cosineSimilarityMatrix(vectors));
}

function meanOffDiagonalDistance(similarity: readonly (readonly number[])[]): number {
  const size = similarity.length;
  let total = 0;
  for (let row = 0; row < size; row++) {
    for (let column = row + 1; column < size; column++) total += 1 - ((similarity[row] as number[])[column] as number);
  }
  return total / ((size * (size - 1)) / 2);
}

/**
 * The Vendi score with the cosine kernel: exp(−Σ λ_i log λ_i), λ the eigenvalues of K/n. It is the
 * effective number of distinct items: 1 for n identical vectors, k for k orthogonal ones. Null for
 * no vectors. The eigenvalues come from ml-pca's eigendecomposition of the symmetric K (its
 * `isCovarianceMatrix` input), rescaled to sum to 1 (trace(K)/n is 1 for non-zero vectors).
 */
export function vendiScore(vectors: readonly (readonly number[])[]): number | null {
  if (vectors.length === 0) return null;
  return vendiFromSimilarity(cosineSimilarityMatrix(vectors));
}

function vendiFromSimilarity(similarity: number[][]): number {
  if (similarity.length === 1) return 1;
  const eigenvalues = new PCA(similarity, { isCovarianceMatrix: true })
    .getEigenvalues()
    .map((value) => Math.max(0, value));
  const sum = eigenvalues.reduce((total, value) => total + value, 0);
  if (sum === 0) return 1;
  let entropy = 0;
  for (const value of eigenvalues) {
    const share = value / sum;
    if (share > 0) entropy -= share * Math.log(share);
  }
  return Math.exp(entropy);
}

/** Every diversity metric of a set of outputs and their embeddings (same order). */
export function diversityMetrics(
  texts: readonly string[],
  embeddings: readonly (readonly number[])[],
): DiversityMetrics {
  const similarity = embeddings.length >= 1 ? cosineSimilarityMatrix(embeddings) : [];
  return {
    count: texts.length,
    distinct1: distinctN(texts, 1),
    distinct2: distinctN(texts, 2),
    selfBleu: selfBleu(texts),
    meanCosineDistance: similarity.length >= 2 ? meanOffDiagonalDistance(similarity) : null,
    vendiScore: similarity.length >= 1 ? vendiFromSimilarity(similarity) : null,
  };
}
