/**
 * The preference losses of TRL's DPOTrainer.dpo_loss (trl/trainer/dpo_trainer.py), per pair, from
 * the policy's and the frozen reference's completion log-probs. With the log-ratios
 * c = log π(y⁺) − log π_ref(y⁺), r = log π(y⁻) − log π_ref(y⁻) and h = c − r:
 * - sigmoid (DPO, Rafailov et al. 2023, eq. 7): −log σ(β·h) (label_smoothing 0);
 * - ipo (Azar et al. 2023, eq. 17): (h − 1/(2β))². TRL feeds IPO length-averaged log-probs
 *   (`all_logps / size_completion`); this function takes whatever it is given, and the trainer
 *   passes per-token means for IPO;
 * - kto: TRL's paired KTO (`kto_pair`, HALOs eq. 7): the batch's mean log-ratio of each side,
 *   clamped at 0 and detached, is the other side's KL baseline, and a pair's loss is
 *   (w⁺·(1 − σ(β·(c − KL⁻))) + w⁻·(1 − σ(β·(KL⁺ − r)))) / 2, so its mean over pairs equals TRL's
 *   mean over the 2B concatenated terms (the weights as KTOTrainer's desirable/undesirable_weight).
 * Rewards are β·c and β·r, detached.
 */
import type { Tensor, Tensor1D } from '@tensorflow/tfjs';
import type { GradientWeightSummary, PreferenceLossType } from '../../../api/index.js';
import { tf } from '../../compute/tf.js';

export interface PreferenceLossOptions {
  type: PreferenceLossType;
  beta: number;
  /** KTO: weight of the desirable (chosen) terms. Default 1. */
  ktoDesirableWeight?: number;
  /** KTO: weight of the undesirable (rejected) terms. Default 1. */
  ktoUndesirableWeight?: number;
}

/** Per-pair losses (B) and rewards (B, detached) of one batch; every input is (B). */
export function preferenceLoss(
  policyChosen: Tensor1D,
  policyRejected: Tensor1D,
  referenceChosen: Tensor1D,
  referenceRejected: Tensor1D,
  options: PreferenceLossOptions,
): { losses: Tensor1D; chosenRewards: Tensor1D; rejectedRewards: Tensor1D } {
  const { beta } = options;
  return tf.tidy(() => {
    const chosenRatio = policyChosen.sub(referenceChosen) as Tensor1D; // (B)
    const rejectedRatio = policyRejected.sub(referenceRejected) as Tensor1D; // (B)
    let losses: Tensor1D;
    if (options.type === 'sigmoid') {
      // −log σ(z) = softplus(−z): tf.logSigmoid's gradient closes over its input, which a tidy inside
      // the gradient tape frees before the backward pass; Softplus's kernel gradient saves it.
      losses = tf.softplus(chosenRatio.sub(rejectedRatio).mul(-beta)) as Tensor1D; // (B)
    } else if (options.type === 'ipo') {
      losses = chosenRatio
        .sub(rejectedRatio)
        .sub(1 / (2 * beta))
        .square() as Tensor1D; // (B)
    } else {
      const chosenKl = stopGradient(chosenRatio.mean().maximum(0)); // ()
      const rejectedKl = stopGradient(rejectedRatio.mean().maximum(0)); // ()
      const desirable = tf.sub(1, tf.sigmoid(chosenRatio.sub(rejectedKl).mul(beta))); // (B)
      const undesirable = tf.sub(1, tf.sigmoid(tf.sub(chosenKl, rejectedRatio).mul(beta))); // (B)
      losses = desirable
        .mul(options.ktoDesirableWeight ?? 1)
        .add(undesirable.mul(options.ktoUndesirableWeight ?? 1))
        .div(2) as Tensor1D; // (B)
    }
    return {
      losses,
      chosenRewards: stopGradient(chosenRatio.mul(beta)) as Tensor1D,
      rejectedRewards: stopGradient(rejectedRatio.mul(beta)) as Tensor1D,
    };
  });
}

/** x in the forward pass, no gradient in the backward one (torch's `.detach()`; tfjs has no stop_gradient). */
export function stopGradient<T extends Tensor>(x: T): T {
  const identity = tf.customGrad((...inputs) => {
    const [value] = inputs as [Tensor];
    return { value: value.clone(), gradFunc: (dy: Tensor) => tf.zerosLike(dy) };
  });
  return identity(x) as T;
}

/**
 * Summary of DPO's per-pair gradient weights σ(−s), s = β·h (the weight the sigmoid loss puts on
 * a pair: near 1 where the policy still prefers y⁻, near 0 where it has learnt the pair): mean,
 * percentiles (linear interpolation, numpy's default) and 10 equal bins over [0, 1].
 */
export function summarizeGradientWeights(weights: readonly number[]): GradientWeightSummary {
  const sorted = [...weights].sort((a, b) => a - b);
  const histogram = Array.from({ length: 10 }, () => 0);
  for (const weight of sorted) {
    const bin = Math.min(9, Math.max(0, Math.floor(weight * 10)));
    histogram[bin] = (histogram[bin] as number) + 1;
  }
  const percentile = (fraction: number) => {
    if (sorted.length === 0) return 0;
    const position = fraction * (sorted.length - 1);
    const lower = Math.floor(position);
    const upper = Math.min(sorted.length - 1, lower + 1);
    const low = sorted[lower] as number;
    return low + ((sorted[upper] as number) - low) * (position - lower);
  };
  return {
    mean: sorted.length === 0 ? 0 : sorted.reduce((sum, weight) => sum + weight, 0) / sorted.length,
    p10: percentile(0.1),
    p50: percentile(0.5),
    p90: percentile(0.9),
    histogram,
  };
}

/** σ(−β·h) per pair from log-probs (numbers, not tensors). */
export function gradientWeights(
  beta: number,
  policyChosen: ArrayLike<number>,
  policyRejected: ArrayLike<number>,
  referenceChosen: ArrayLike<number>,
  referenceRejected: ArrayLike<number>,
): number[] {
  return Array.from({ length: policyChosen.length }, (_, index) => {
    const margin =
      (policyChosen[index] as number) -
      (referenceChosen[index] as number) -
      ((policyRejected[index] as number) - (referenceRejected[index] as number));
    return 1 / (1 + Math.exp(beta * margin));
  });
}
