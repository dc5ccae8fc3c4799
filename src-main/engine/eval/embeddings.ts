/**
 * Text embeddings for the diversity metrics and the reward map. Two sources:
 * - a model's last hidden state (after the final norm), mean-pooled over the real tokens: the
 *   policy's or the reward model's own view of a response (the paper does not say which embedding
 *   model it used, drift-paper.md §5.3 [U]);
 * - a model-free fallback: character n-gram TF-IDF (sklearn's TfidfVectorizer with smooth idf and
 *   L2 norm) hashed into a fixed number of buckets (the hashing trick, Weinberger et al. 2009), so
 *   the metrics work without any model and mean the same for every checkpoint.
 */
import type { Tensor1D, Tensor2D, Tensor3D } from '@tensorflow/tfjs';
import { tf } from '../compute/tf.js';
import type { CausalLanguageModel } from '../model/index.js';
import type { Tokenizer } from '../text/index.js';

/** Embeds texts into vectors of one length (same order). */
export type TextEmbedder = (texts: readonly string[], signal?: AbortSignal) => Promise<number[][]>;

export interface HashedEmbeddingOptions {
  /** Buckets (vector length). Default 2048. */
  dimensions?: number;
  /** Character n-gram length. Default 3. */
  ngram?: number;
}

/** FNV-1a 32-bit hash of a string's UTF-16 code units. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < text.length; index++) {
    hash ^= text.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/**
 * Hashed character n-gram TF-IDF vectors of the texts, L2-normalised. The texts are lower-cased,
 * runs of whitespace become one space, and each is framed by start and end marks, so even an empty
 * text has an n-gram and no vector is zero. idf = ln((1 + N) / (1 + df)) + 1 over these texts (the
 * idf depends on the set embedded together: embed every response of an evaluation at once).
 */
export function hashedTfidfEmbeddings(texts: readonly string[], options: HashedEmbeddingOptions = {}): number[][] {
  const dimensions = options.dimensions ?? 2048;
  const order = options.ngram ?? 3;
  const counts = texts.map((text) => {
    const framed = `\u0002${text.toLowerCase().replace(/\s+/g, ' ')}\u0003`;
    const characters = [...framed];
    const bucketCounts = new Map<number, number>();
    const last = Math.max(1, characters.length - order + 1);
    for (let start = 0; start < last; start++) {
      const bucket = fnv1a(characters.slice(start, start + order).join('')) % dimensions;
      bucketCounts.set(bucket, (bucketCounts.get(bucket) ?? 0) + 1);
    }
    return bucketCounts;
  });
  const documentFrequency = new Map<number, number>();
  for (const bucketCounts of counts) {
    for (const bucket of bucketCounts.keys()) documentFrequency.set(bucket, (documentFrequency.get(bucket) ?? 0) + 1);
  }
  const total = texts.length;
  return counts.map((bucketCounts) => {
    const vector = new Array<number>(dimensions).fill(0);
    let squared = 0;
    for (const [bucket, count] of bucketCounts) {
      const weight = count * (Math.log((1 + total) / (1 + (documentFrequency.get(bucket) ?? 0))) + 1);
      vector[bucket] = weight;
      squared += weight * weight;
    }
    const norm = Math.sqrt(squared);
    return norm === 0 ? vector : vector.map((value) => value / norm);
  });
}

export interface ModelEmbeddingOptions {
  /** Texts per forward pass. Default 16. */
  batchSize?: number;
  /** Tokens read per text (longer texts keep their start). Default 256, and never past the context. */
  maxLength?: number;
}

/**
 * Mean-pooled last hidden states of the texts (HF hidden_states[-1], after the final norm), each
 * text encoded alone without special tokens, right-padded in batches; padding is excluded from the
 * mean. An empty text is read as the tokenizer's EOS token (or id 0), so every text has a token.
 */
export async function modelEmbeddings(
  model: CausalLanguageModel,
  tokenizer: Tokenizer,
  texts: readonly string[],
  options: ModelEmbeddingOptions & { signal?: AbortSignal } = {},
): Promise<number[][]> {
  const batchSize = options.batchSize ?? 16;
  const maxLength = Math.min(options.maxLength ?? 256, model.config.maxPositionEmbeddings);
  const fallback = tokenizer.specialTokens.eos?.id ?? 0;
  const vectors: number[][] = [];
  for (let start = 0; start < texts.length; start += batchSize) {
    if (options.signal?.aborted) throw options.signal.reason;
    const sequences = texts.slice(start, start + batchSize).map((text) => {
      const ids = tokenizer.encode(text, { addSpecialTokens: false }).slice(0, maxLength);
      return ids.length > 0 ? ids : [fallback];
    });
    const pooled = tf.tidy(() => {
      const { inputIds, attentionMask } = rightPadded(sequences);
      const { hiddenStates, logits } = model.forward(inputIds, {
        attentionMask,
        outputHiddenStates: true,
        logitsToKeep: 1,
      });
      logits.dispose();
      const states = hiddenStates as Tensor3D[];
      const last = states[states.length - 1] as Tensor3D; // (B, T, d)
      const mask = attentionMask.toFloat().expandDims(2); // (B, T, 1)
      const summed = last.mul(mask).sum(1); // (B, d)
      return summed.div(mask.sum(1)) as Tensor2D; // (B, d)
    });
    const rows = (await pooled.array()) as number[][];
    pooled.dispose();
    vectors.push(...rows);
  }
  return vectors;
}

/** Right-padded (B, T) int32 ids (pad id 0, never attended to) and their mask. */
export function rightPadded(sequences: readonly (readonly number[])[]): {
  inputIds: Tensor2D;
  attentionMask: Tensor2D;
  lengths: Tensor1D;
} {
  const rows = sequences.length;
  const length = Math.max(...sequences.map((ids) => ids.length));
  const ids = new Int32Array(rows * length);
  const mask = new Int32Array(rows * length);
  sequences.forEach((sequence, row) => {
    ids.set(sequence, row * length);
    mask.fill(1, row * length, row * length + sequence.length);
  });
  return {
    inputIds: tf.tensor2d(ids, [rows, length], 'int32'), // (B, T)
    attentionMask: tf.tensor2d(mask, [rows, length], 'int32'), // (B, T)
    lengths: tf.tensor1d(
      sequences.map((sequence) => sequence.length),
      'int32',
    ), // (B)
  };
}
