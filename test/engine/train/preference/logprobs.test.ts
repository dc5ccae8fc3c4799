import type { Tensor, Tensor2D } from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../../../../src-main/engine/compute/tf.js';
import type { CausalLanguageModel } from '../../../../src-main/engine/model/modeling_utils.js';
import { Random } from '../../../../src-main/engine/model/random.js';
import {
  completionLogProbs,
  maskedLogProbSums,
  sequenceLogProbs,
} from '../../../../src-main/engine/train/preference/logprobs.js';
import { maxAbsDifference, useBackend } from '../../model/helpers.js';
import type { PreferenceSetup } from './helpers.js';
import { preferenceSetup } from './helpers.js';

let setup: PreferenceSetup;
let model: CausalLanguageModel;
beforeAll(async () => {
  await useBackend('wasm');
  setup = preferenceSetup(5);
  model = setup.model(3);
});
afterAll(() => model.dispose());

/** Σ log_softmax over the completion's positions, from one unpadded forward pass of prompt + completion. */
function direct(prompt: number[], completion: number[]): number {
  const ids = [...prompt, ...completion];
  const logProbs = tf.tidy(() =>
    model
      .forward(tf.tensor2d([ids.slice(0, -1)], [1, ids.length - 1], 'int32'))
      .logits.logSoftmax()
      .arraySync(),
  ) as number[][][];
  let sum = 0;
  for (let position = prompt.length - 1; position < ids.length - 1; position++) {
    sum += logProbs[0]?.[position]?.[ids[position + 1] as number] ?? Number.NaN;
  }
  return sum;
}

describe('completionLogProbs', () => {
  it('equals log_softmax of a full forward pass summed over the completion, for padded rows of different lengths', () => {
    const examples = setup.examples;
    const lengths = new Set(
      examples.flatMap((e) => [e.prompt.length + e.chosen.length, e.prompt.length + e.rejected.length]),
    );
    expect(lengths.size).toBeGreaterThan(2);
    completionLogProbs(model, examples.slice(0, 1), 1); // the model caches its tied head's transpose once
    const before = tf.memory().numTensors;
    // Batches of 2 pairs (4 rows): three batches, each padded to its longest row.
    const result = completionLogProbs(model, examples, 2, undefined, setup.padId);
    expect(tf.memory().numTensors).toBe(before);
    const expectedChosen = examples.map((example) => direct(example.prompt, example.chosen));
    const expectedRejected = examples.map((example) => direct(example.prompt, example.rejected));
    expect(maxAbsDifference(result.chosen, expectedChosen)).toBeLessThan(1e-3);
    expect(maxAbsDifference(result.rejected, expectedRejected)).toBeLessThan(1e-3);
    expect([...result.chosenTokens]).toEqual(examples.map((example) => example.chosen.length));
    expect([...result.rejectedTokens]).toEqual(examples.map((example) => example.rejected.length));
    // A log-prob of a sequence of ~10 tokens under an untrained model over ~300 ids: about −10 × log 300.
    expect(result.chosen.every((value) => value < -5)).toBe(true);
  });

  it('gives sequenceLogProbs the same numbers for the same rows, and stops on an aborted signal', () => {
    const examples = setup.examples;
    const pairs = completionLogProbs(model, examples, 8);
    const rows = sequenceLogProbs(
      model,
      examples.map((example) => example.prompt),
      examples.map((example) => example.chosen),
      3,
    );
    expect(maxAbsDifference(rows.sums, pairs.chosen)).toBeLessThan(1e-3);
    expect([...rows.tokens]).toEqual([...pairs.chosenTokens]);
    const controller = new AbortController();
    controller.abort();
    expect(() => completionLogProbs(model, examples, 2, controller.signal)).toThrow(
      expect.objectContaining({ code: 'job_cancelled' }),
    );
  });
});

describe('maskedLogProbSums', () => {
  it('has the gradient tf derives for the straightforward formula', () => {
    const rows = 3;
    const length = 4;
    const vocabulary = 7;
    const random = new Random(5);
    const values = Array.from({ length: rows * length * vocabulary }, () => random.nextFloat() * 4 - 2);
    const targets = Array.from({ length: rows * length }, () => random.nextInt(vocabulary));
    const mask = Array.from({ length: rows * length }, (_, index) => (index % length === 0 ? 0 : 1));
    const rowWeights = [0.5, -1.5, 2];
    const [custom, reference, customValue, referenceValue] = tf.tidy(() => {
      const logits = tf.tensor2d(values, [rows * length, vocabulary]);
      const targetTensor = tf.tensor1d(targets, 'int32');
      const maskTensor = tf.tensor1d(mask, 'float32');
      const weights = tf.tensor1d(rowWeights);
      const viaCustom = (x: Tensor) =>
        maskedLogProbSums(x as Tensor2D, targetTensor, maskTensor, rows)
          .mul(weights)
          .sum();
      const straightforward = (x: Tensor) =>
        tf
          .logSoftmax(x)
          .mul(tf.oneHot(targetTensor, vocabulary))
          .sum(1)
          .mul(maskTensor)
          .reshape([rows, length])
          .sum(1)
          .mul(weights)
          .sum();
      return [
        tf.grad(viaCustom)(logits).arraySync() as number[][],
        tf.grad(straightforward)(logits).arraySync() as number[][],
        viaCustom(logits).dataSync()[0] as number,
        straightforward(logits).dataSync()[0] as number,
      ] as const;
    });
    expect(customValue).toBeCloseTo(referenceValue, 4);
    expect(maxAbsDifference(custom.flat(), reference.flat())).toBeLessThan(1e-5);
    // Masked positions get no gradient.
    expect(custom[0]?.every((value) => value === 0)).toBe(true);
  });
});
