/**
 * The training loss and its gradients for one batch of tokens: cross-entropy of next-token
 * prediction summed over the targets the loss mask covers. Summed, not averaged: the trainer adds
 * the sums of every shard and micro-batch of a step and divides once by the step's count of loss
 * tokens, so splitting a batch (across threads or accumulation steps) leaves the loss unchanged.
 */
import type { Scalar, Tensor, Tensor1D, Tensor2D } from '@tensorflow/tfjs';
import { tf } from '../compute/tf.js';
import type { CausalLanguageModel } from '../model/index.js';
import type { TokenBatch } from './data.js';

/**
 * Σ mask · (logsumexp(logits) − logits[target]) over the N positions: logits (N, V), targets (N)
 * int32, mask (N) of 0/1. The gradient is written out, mask · (softmax(logits) − onehot(target)),
 * and the forward picks each target's logit with a gather, so no (N, V) one-hot is made forward.
 */
export function maskedCrossEntropySum(logits: Tensor2D, targets: Tensor1D, mask: Tensor1D): Scalar {
  const [rows, vocabulary] = logits.shape;
  const loss = tf.customGrad((...inputs) => {
    const [scores, save] = inputs as [Tensor2D, (tensors: Tensor[]) => void];
    // Saved, not closed over: the tape keeps saved tensors alive until the backward pass.
    save([scores, targets, mask]);
    const flatIndex = tf.range(0, rows, 1, 'int32').mul(tf.scalar(vocabulary, 'int32')).add(targets); // (N)
    const picked = tf.gather(scores.reshape([rows * vocabulary]), flatIndex); // (N)
    const value = tf.logSumExp(scores, 1).sub(picked).mul(mask).sum() as Scalar; // ()
    return {
      value,
      gradFunc: (dy: Tensor, saved: Tensor[]) => {
        const [savedScores, savedTargets, savedMask] = saved as [Tensor2D, Tensor1D, Tensor1D];
        return tf.tidy(() =>
          tf
            .softmax(savedScores) // (N, V)
            .sub(tf.oneHot(savedTargets, vocabulary)) // (N, V)
            .mul(savedMask.expandDims(1)) // (N, V)
            .mul(dy),
        );
      },
    };
  });
  return loss(logits) as Scalar;
}

/** The summed loss of a batch (see {@link maskedCrossEntropySum}), inside the caller's tidy or gradient tape. */
export function batchLossSum(model: CausalLanguageModel, batch: TokenBatch): Scalar {
  return tf.tidy(() => {
    const shape: [number, number] = [batch.rows, batch.length];
    const inputIds = tf.tensor2d(batch.inputIds, shape, 'int32'); // (B, T)
    const attentionMask = tf.tensor2d(batch.attentionMask, shape, 'int32'); // (B, T)
    const { logits } = model.forward(inputIds, { attentionMask }); // (B, T, V)
    const vocabulary = model.config.vocabSize;
    return maskedCrossEntropySum(
      logits.reshape([batch.rows * batch.length, vocabulary]), // (B·T, V)
      tf.tensor1d(batch.targets, 'int32'), // (B·T)
      tf.tensor1d(batch.lossMask, 'float32'), // (B·T)
    );
  });
}

/** The summed loss of a batch and its gradients by weight name (new tensors the caller disposes). */
export function batchGradients(
  model: CausalLanguageModel,
  batch: TokenBatch,
): { lossSum: number; gradients: Map<string, Tensor> } {
  const parameters = model.parameters();
  const variables = [...parameters.values()];
  const { value, grads } = tf.variableGrads(() => batchLossSum(model, batch), variables);
  const lossSum = (value.dataSync() as Float32Array)[0] as number;
  value.dispose();
  const gradients = new Map<string, Tensor>();
  for (const [name, variable] of parameters) {
    const gradient = grads[variable.name];
    if (gradient !== undefined) gradients.set(name, gradient);
  }
  return { lossSum, gradients };
}
