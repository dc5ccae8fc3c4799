import type { Tensor1D } from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../../../../src-main/engine/compute/tf.js';
import type { PreferenceLossOptions } from '../../../../src-main/engine/train/preference/losses.js';
import {
  gradientWeights,
  preferenceLoss,
  summarizeGradientWeights,
} from '../../../../src-main/engine/train/preference/losses.js';
import { useBackend } from '../../model/helpers.js';

beforeAll(async () => {
  await useBackend('wasm');
});

/** The per-pair losses, rewards and d(Σ losses)/d(policy log-probs) for plain numbers. */
function evaluate(
  policyChosen: number[],
  policyRejected: number[],
  referenceChosen: number[],
  referenceRejected: number[],
  options: PreferenceLossOptions,
) {
  return tf.tidy(() => {
    const referenceChosenTensor = tf.tensor1d(referenceChosen);
    const referenceRejectedTensor = tf.tensor1d(referenceRejected);
    const total = (chosen: Tensor1D, rejected: Tensor1D) =>
      preferenceLoss(chosen, rejected, referenceChosenTensor, referenceRejectedTensor, options).losses.sum();
    const [chosenGradient, rejectedGradient] = tf.grads((chosen, rejected) =>
      total(chosen as Tensor1D, rejected as Tensor1D),
    )([tf.tensor1d(policyChosen), tf.tensor1d(policyRejected)]);
    const result = preferenceLoss(
      tf.tensor1d(policyChosen),
      tf.tensor1d(policyRejected),
      referenceChosenTensor,
      referenceRejectedTensor,
      options,
    );
    return {
      losses: [...result.losses.dataSync()],
      chosenRewards: [...result.chosenRewards.dataSync()],
      rejectedRewards: [...result.rejectedRewards.dataSync()],
      chosenGradient: [...(chosenGradient?.dataSync() ?? [])],
      rejectedGradient: [...(rejectedGradient?.dataSync() ?? [])],
    };
  });
}

describe('preferenceLoss', () => {
  // β = 0.1; log π(y⁺) −10 vs reference −11, log π(y⁻) −12 vs −11: c = 1, r = −1, h = 2.
  it('DPO (sigmoid): −log σ(βh) and its gradient −β·σ(−βh) for the chosen log-prob', () => {
    const result = evaluate([-10], [-12], [-11], [-11], { type: 'sigmoid', beta: 0.1 });
    // −log σ(0.2) = log(1 + e^−0.2)
    expect(result.losses[0]).toBeCloseTo(0.598139, 5);
    // dL/dlogπ(y⁺) = −β σ(−0.2) = −0.1 × 0.450166; dL/dlogπ(y⁻) is its opposite.
    expect(result.chosenGradient[0]).toBeCloseTo(-0.0450166, 6);
    expect(result.rejectedGradient[0]).toBeCloseTo(0.0450166, 6);
    expect(result.chosenRewards[0]).toBeCloseTo(0.1, 6);
    expect(result.rejectedRewards[0]).toBeCloseTo(-0.1, 6);
  });

  it('IPO: (h − 1/(2β))² and its gradient 2(h − 1/(2β))', () => {
    const result = evaluate([-10], [-12], [-11], [-11], { type: 'ipo', beta: 0.1 });
    // (2 − 5)² = 9; d/dlogπ(y⁺) = 2 × (2 − 5) = −6.
    expect(result.losses[0]).toBeCloseTo(9, 4);
    expect(result.chosenGradient[0]).toBeCloseTo(-6, 4);
    expect(result.rejectedGradient[0]).toBeCloseTo(6, 4);
  });

  it('KTO (paired): the batch KL baselines are clamped at 0 and detached, with the term weights', () => {
    // β 0.5. Pair 0: c = 1, r = −1. Pair 1: c = −0.5, r = 0.5. KL⁺ = mean(c) = 0.25; KL⁻ = max(0, mean(r) = 0) = 0.
    // loss_i = (1·(1 − σ(β(c_i − 0))) + 1.5·(1 − σ(β(0.25 − r_i)))) / 2
    const result = evaluate([-10, -11.5], [-12, -10.5], [-11, -11], [-11, -11], {
      type: 'kto',
      beta: 0.5,
      ktoDesirableWeight: 1,
      ktoUndesirableWeight: 1.5,
    });
    expect(result.losses[0]).toBeCloseTo(0.450254, 5);
    expect(result.losses[1]).toBeCloseTo(0.679495, 5);
    // Detached baselines: dL_i/dlogπ(y⁺_i) = −(1/2)·β·σ'(β(c_i − KL⁻)); no term through KL⁺ = mean(c).
    expect(result.chosenGradient[0]).toBeCloseTo(-0.0587509, 6);
    expect(result.chosenGradient[1]).toBeCloseTo(-0.0615335, 6);
    expect(result.rejectedGradient[0]).toBeCloseTo(0.0851594, 6);
    expect(result.rejectedGradient[1]).toBeCloseTo(0.0933847, 6);
  });

  it('leaves no tensor behind', () => {
    const before = tf.memory().numTensors;
    evaluate([-3, -4], [-5, -1], [-3.5, -4], [-4, -2], { type: 'kto', beta: 0.2 });
    evaluate([-3, -4], [-5, -1], [-3.5, -4], [-4, -2], { type: 'sigmoid', beta: 0.2 });
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('gradient weights', () => {
  it('σ(−βh) per pair, summarised by mean, percentiles and 10 bins over [0, 1]', () => {
    // h = 2 at β 0.1 → σ(−0.2) = 0.450166; h = 0 → 0.5.
    const weights = gradientWeights(0.1, [-10, -5], [-12, -5], [-11, -5], [-11, -5]);
    expect(weights[0]).toBeCloseTo(0.450166, 6);
    expect(weights[1]).toBe(0.5);
    const summary = summarizeGradientWeights([0, 0.05, 0.25, 0.5, 0.95, 1]);
    expect(summary.mean).toBeCloseTo(2.75 / 6, 10);
    // numpy.percentile([0, .05, .25, .5, .95, 1], [10, 50, 90]) = [0.025, 0.375, 0.975]
    expect(summary.p10).toBeCloseTo(0.025, 10);
    expect(summary.p50).toBeCloseTo(0.375, 10);
    expect(summary.p90).toBeCloseTo(0.975, 10);
    expect(summary.histogram).toEqual([2, 0, 1, 0, 0, 1, 0, 0, 0, 2]);
  });
});
