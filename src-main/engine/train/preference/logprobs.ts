/**
 * Sequence log-probabilities: log π(completion | prompt) = Σ over the completion's tokens of
 * log softmax(logits)[token], the quantity DPO compares between policy and reference
 * (TRL DPOTrainer.concatenated_forward's `all_logps`). One forward pass covers a whole batch of rows.
 */
import type { Tensor, Tensor1D, Tensor2D } from '@tensorflow/tfjs';
import { AppFailure } from '../../../api/index.js';
import { tf } from '../../compute/tf.js';
import type { CausalLanguageModel } from '../../model/index.js';
import type { PreferenceExample, SequenceTokenBatch } from './data.js';
import { preferenceBatch, sequenceBatch } from './data.js';

/**
 * Per-row Σ mask · log softmax(logits)[target]: logits (R·T, V), targets (R·T) int32, mask (R·T)
 * of 0/1 → (R). The gradient is written out, dy[row] · mask · (onehot(target) − softmax(logits)),
 * and the forward picks each target's logit with a gather, so no (R·T, V) one-hot is made forward
 * (as maskedCrossEntropySum in ../loss.ts).
 */
export function maskedLogProbSums(logits: Tensor2D, targets: Tensor1D, mask: Tensor1D, rows: number): Tensor1D {
  const [positions, vocabulary] = logits.shape;
  const length = positions / rows;
  const sums = tf.customGrad((...inputs) => {
    const [scores, save] = inputs as [Tensor2D, (tensors: Tensor[]) => void];
    // Saved, not closed over: the tape keeps saved tensors alive until the backward pass.
    save([scores, targets, mask]);
    const flatIndex = tf.range(0, positions, 1, 'int32').mul(tf.scalar(vocabulary, 'int32')).add(targets); // (R·T)
    const picked = tf.gather(scores.reshape([positions * vocabulary]), flatIndex); // (R·T)
    const value = picked
      .sub(tf.logSumExp(scores, 1)) // (R·T)
      .mul(mask)
      .reshape([rows, length])
      .sum(1) as Tensor1D; // (R)
    return {
      value,
      gradFunc: (dy: Tensor, saved: Tensor[]) => {
        const [savedScores, savedTargets, savedMask] = saved as [Tensor2D, Tensor1D, Tensor1D];
        return tf.tidy(() => {
          const weight = dy
            .reshape([rows, 1])
            .tile([1, length]) // (R, T)
            .reshape([positions])
            .mul(savedMask); // (R·T)
          return tf
            .oneHot(savedTargets, vocabulary) // (R·T, V)
            .sub(tf.softmax(savedScores)) // (R·T, V)
            .mul(weight.expandDims(1)); // (R·T, V)
        });
      },
    };
  });
  return sums(logits) as Tensor1D;
}

/** The completion log-prob sum of every row of a batch (R), inside the caller's tidy or gradient tape. */
export function batchLogProbSums(model: CausalLanguageModel, batch: SequenceTokenBatch): Tensor1D {
  return tf.tidy(() => {
    const shape: [number, number] = [batch.rows, batch.length];
    const inputIds = tf.tensor2d(batch.inputIds, shape, 'int32'); // (R, T)
    const attentionMask = tf.tensor2d(batch.attentionMask, shape, 'int32'); // (R, T)
    const { logits } = model.forward(inputIds, { attentionMask }); // (R, T, V)
    return maskedLogProbSums(
      logits.reshape([batch.rows * batch.length, model.config.vocabSize]), // (R·T, V)
      tf.tensor1d(batch.targets, 'int32'), // (R·T)
      tf.tensor1d(batch.completionMask, 'float32'), // (R·T)
      batch.rows,
    );
  });
}

/** log π of each pair's chosen and rejected completion, and their token counts. */
export interface CompletionLogProbs {
  chosen: Float64Array;
  rejected: Float64Array;
  chosenTokens: Int32Array;
  rejectedTokens: Int32Array;
}

/**
 * Σ log π(token) over each pair's chosen and rejected completion, with no gradient: the frozen
 * reference's log-probs (computed once per iteration) and the policy's in evaluation. Pairs are
 * batched `batchSize` at a time (2·batchSize rows), in order of length so that little is padding;
 * the result is in the examples' order and the same for the same inputs.
 * @throws AppFailure `job_cancelled` when `signal` aborts (checked between batches)
 */
export function completionLogProbs(
  model: CausalLanguageModel,
  examples: readonly PreferenceExample[],
  batchSize: number,
  signal?: AbortSignal,
  padId = 0,
): CompletionLogProbs {
  const count = examples.length;
  const result: CompletionLogProbs = {
    chosen: new Float64Array(count),
    rejected: new Float64Array(count),
    chosenTokens: new Int32Array(count),
    rejectedTokens: new Int32Array(count),
  };
  const order = byLength(examples.map((example) => example.prompt.length + pairLength(example)));
  for (let start = 0; start < count; start += Math.max(1, batchSize)) {
    throwIfCancelled(signal);
    const indices = order.slice(start, start + Math.max(1, batchSize));
    const batch = preferenceBatch(
      indices.map((index) => examples[index] as PreferenceExample),
      padId,
    );
    const sums = readAndDispose(batchLogProbSums(model, batch));
    indices.forEach((index, row) => {
      result.chosen[index] = sums[row] as number;
      result.rejected[index] = sums[indices.length + row] as number;
      result.chosenTokens[index] = batch.completionTokens[row] as number;
      result.rejectedTokens[index] = batch.completionTokens[indices.length + row] as number;
    });
  }
  return result;
}

/**
 * Σ log π(completion token | prompt, earlier tokens) of each row, and its completion token count,
 * with no gradient (IterDPO's likelihood judge divides the two). Batched `batchSize` rows at a
 * time in order of length; the result is in the rows' order. Every prompt needs a token.
 * @throws AppFailure `job_cancelled` when `signal` aborts (checked between batches)
 */
export function sequenceLogProbs(
  model: CausalLanguageModel,
  prompts: readonly (readonly number[])[],
  completions: readonly (readonly number[])[],
  batchSize: number,
  signal?: AbortSignal,
): { sums: Float64Array; tokens: Int32Array } {
  if (prompts.length !== completions.length) {
    throw new Error(`${prompts.length} prompts but ${completions.length} completions.`);
  }
  const count = prompts.length;
  const sums = new Float64Array(count);
  const tokens = new Int32Array(count);
  const order = byLength(prompts.map((prompt, row) => prompt.length + (completions[row] as readonly number[]).length));
  for (let start = 0; start < count; start += Math.max(1, batchSize)) {
    throwIfCancelled(signal);
    const indices = order.slice(start, start + Math.max(1, batchSize));
    const batch = sequenceBatch(
      indices.map((index) => prompts[index] as readonly number[]),
      indices.map((index) => completions[index] as readonly number[]),
    );
    const values = readAndDispose(batchLogProbSums(model, batch));
    indices.forEach((index, row) => {
      sums[index] = values[row] as number;
      tokens[index] = batch.completionTokens[row] as number;
    });
  }
  return { sums, tokens };
}

/** Throws the cancellation of a job when `signal` has aborted. */
export function throwIfCancelled(signal: AbortSignal | undefined): void {
  if (signal?.aborted === true) throw new AppFailure('job_cancelled', 'Preference training was cancelled.');
}

function readAndDispose(tensor: Tensor1D): Float32Array {
  const values = tensor.dataSync() as Float32Array;
  tensor.dispose();
  return values;
}

function pairLength(example: PreferenceExample): number {
  return Math.max(example.chosen.length, example.rejected.length);
}

/** Indices sorted by length (stable), so batches hold rows of similar length. */
function byLength(lengths: readonly number[]): number[] {
  return lengths.map((_, index) => index).sort((a, b) => (lengths[a] as number) - (lengths[b] as number) || a - b);
}
