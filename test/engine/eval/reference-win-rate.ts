/**
 * A plain reference for the paired win rate's bootstrap (engine/eval/statistics.ts): each
 * resample's comparisons flattened and the length-controlled logistic fit run on every one of them,
 * from zero — what the folded implementation must equal. Used by statistics.test.ts and, as the
 * baseline the speed-up is measured against, by bench/evaluation-analysis.ts.
 */
import type { ConfidenceInterval } from '../../../src-main/api/index.js';
import type { Comparison } from '../../../src-main/engine/eval/statistics.js';
import { bootstrapInterval, outcome, winRateOf } from '../../../src-main/engine/eval/statistics.js';

/** logit P(win) = a + b · tanh(Δlength / sd(Δlength)), Newton's method, ridge 1e-6 on a and 1 on b. */
export function referenceLengthControlled(comparisons: readonly Comparison[], tieMargin: number): number {
  if (comparisons.length === 0) return Number.NaN;
  const differences = comparisons.map((comparison) => comparison.length - comparison.opponentLength);
  const mean = differences.reduce((sum, value) => sum + value, 0) / differences.length;
  const spread = Math.sqrt(differences.reduce((sum, value) => sum + (value - mean) ** 2, 0) / differences.length);
  const features = differences.map((difference) => (spread > 0 ? Math.tanh(difference / spread) : 0));
  const labels = comparisons.map((comparison) => outcome(comparison, tieMargin));
  let a = 0;
  let b = 0;
  for (let iteration = 0; iteration < 100; iteration++) {
    let [gradientA, gradientB, hessianAA, hessianAB, hessianBB] = [1e-6 * a, b, 1e-6, 0, 1];
    features.forEach((x, index) => {
      const probability = 1 / (1 + Math.exp(-(a + b * x)));
      const residual = probability - (labels[index] as number);
      const weight = probability * (1 - probability);
      gradientA += residual;
      gradientB += residual * x;
      hessianAA += weight;
      hessianAB += weight * x;
      hessianBB += weight * x * x;
    });
    const determinant = hessianAA * hessianBB - hessianAB * hessianAB;
    if (!(determinant > 0)) break;
    const stepA = (hessianBB * gradientA - hessianAB * gradientB) / determinant;
    const stepB = (hessianAA * gradientB - hessianAB * gradientA) / determinant;
    a -= stepA;
    b -= stepB;
    if (Math.abs(stepA) + Math.abs(stepB) < 1e-12) break;
  }
  return 1 / (1 + Math.exp(-a));
}

/** The two bootstrap intervals of a paired win rate, resampling prompts with the same seed. */
export function referenceWinRateIntervals(
  byPrompt: readonly Comparison[][],
  tieMargin: number,
  options: { resamples: number; confidence: number; seed: number },
): { interval: ConfidenceInterval; lengthControlled: ConfidenceInterval } {
  return {
    interval: bootstrapInterval(byPrompt, (sample) => winRateOf(sample.flat(), tieMargin), options),
    lengthControlled: bootstrapInterval(
      byPrompt,
      (sample) => referenceLengthControlled(sample.flat(), tieMargin),
      options,
    ),
  };
}
