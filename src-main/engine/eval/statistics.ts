/**
 * The statistics of an evaluation: order statistics of rewards, percentile-bootstrap intervals
 * (Efron and Tibshirani 1993, ch. 13) with a seeded generator, and win rates with ties and a
 * length-controlled variant after AlpacaEval's (Dubois et al. 2024, arXiv 2404.04475 §3).
 */
import type { ConfidenceInterval, GoldSummary, RewardSummary, WinRate, WinRateSettings } from '../../api/index.js';
import { Random } from '../model/index.js';

/** The q-quantile of sorted values by linear interpolation (numpy's default, Hyndman and Fan type 7). */
export function quantileOfSorted(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const position = (sorted.length - 1) * Math.min(1, Math.max(0, q));
  const below = Math.floor(position);
  const above = Math.min(sorted.length - 1, below + 1);
  const lower = sorted[below] as number;
  return lower + (position - below) * ((sorted[above] as number) - lower);
}

/** The q-quantile of values (type 7). */
export function quantile(values: readonly number[], q: number): number {
  return quantileOfSorted(
    [...values].sort((a, b) => a - b),
    q,
  );
}

/** Count, mean, population standard deviation and quantiles; zeros for no values (count 0 says so). */
export function summarize(values: readonly number[]): RewardSummary {
  if (values.length === 0) {
    return { count: 0, mean: 0, std: 0, min: 0, p10: 0, p25: 0, median: 0, p75: 0, p90: 0, max: 0 };
  }
  const sorted = [...values].sort((a, b) => a - b);
  const mean = values.reduce((sum, value) => sum + value, 0) / values.length;
  const variance = values.reduce((sum, value) => sum + (value - mean) ** 2, 0) / values.length;
  return {
    count: values.length,
    mean,
    std: Math.sqrt(variance),
    min: sorted[0] as number,
    p10: quantileOfSorted(sorted, 0.1),
    p25: quantileOfSorted(sorted, 0.25),
    median: quantileOfSorted(sorted, 0.5),
    p75: quantileOfSorted(sorted, 0.75),
    p90: quantileOfSorted(sorted, 0.9),
    max: sorted[sorted.length - 1] as number,
  };
}

/** Whether a gold verdict (the checker's 1 or 0, or a score in [0, 1]) counts as a success. */
export function isGoldSuccess(verdict: number): boolean {
  return verdict > 0.5;
}

/** The mean of gold verdicts and the share of successes among them (0 and 0 for none). */
export function summarizeGold(verdicts: readonly number[]): GoldSummary {
  const count = Math.max(1, verdicts.length);
  return {
    mean: verdicts.reduce((sum, value) => sum + value, 0) / count,
    successRate: verdicts.filter(isGoldSuccess).length / count,
  };
}

/** `bins` equal-width bins over [min, max] of the values (one bin of width 1 around them when all are equal). */
export function histogramEdges(values: readonly number[], bins: number): number[] {
  let low = Math.min(...values);
  let high = Math.max(...values);
  if (values.length === 0) [low, high] = [0, 1];
  if (low === high) [low, high] = [low - 0.5, high + 0.5];
  return Array.from({ length: bins + 1 }, (_, index) => low + ((high - low) * index) / bins);
}

/** Counts of values per bin of `edges` (the last bin includes its upper edge; values outside are dropped). */
export function histogram(values: readonly number[], edges: readonly number[]): number[] {
  const bins = edges.length - 1;
  const counts = new Array<number>(bins).fill(0);
  const low = edges[0] as number;
  const high = edges[bins] as number;
  for (const value of values) {
    if (value < low || value > high) continue;
    const bin = Math.min(bins - 1, Math.floor(((value - low) / (high - low)) * bins));
    counts[bin] = (counts[bin] as number) + 1;
  }
  return counts;
}

export interface BootstrapOptions {
  resamples: number;
  /** Coverage of the interval, e.g. 0.95. */
  confidence: number;
  seed: number;
}

/**
 * A percentile-bootstrap interval of `statistic` over `units`: `resamples` draws of as many units
 * with replacement, the statistic of each, and the (1 ± confidence)/2 quantiles of those. The same
 * seed gives the same interval.
 */
export function bootstrapInterval<T>(
  units: readonly T[],
  statistic: (sample: readonly T[]) => number,
  options: BootstrapOptions,
): ConfidenceInterval {
  if (units.length === 0) return { low: Number.NaN, high: Number.NaN };
  const random = new Random(options.seed);
  const values: number[] = [];
  const sample = new Array<T>(units.length);
  for (let draw = 0; draw < options.resamples; draw++) {
    for (let index = 0; index < units.length; index++) sample[index] = units[random.nextInt(units.length)] as T;
    values.push(statistic(sample));
  }
  values.sort((a, b) => a - b);
  const tail = (1 - options.confidence) / 2;
  return { low: quantileOfSorted(values, tail), high: quantileOfSorted(values, 1 - tail) };
}

/** One comparison: a response and the opponent's response to the same prompt (same sample index). */
export interface Comparison {
  reward: number;
  opponentReward: number;
  /** Response lengths, for the length-controlled win rate (characters). */
  length: number;
  opponentLength: number;
}

/** The outcome of a comparison: 1 win, 0.5 tie (|Δreward| ≤ tieMargin), 0 loss. */
export function outcome(comparison: Comparison, tieMargin: number): number {
  const difference = comparison.reward - comparison.opponentReward;
  if (Math.abs(difference) <= tieMargin) return 0.5;
  return difference > 0 ? 1 : 0;
}

/** Mean outcome of the comparisons (ties half). */
export function winRateOf(comparisons: readonly Comparison[], tieMargin: number): number {
  if (comparisons.length === 0) return Number.NaN;
  return comparisons.reduce((sum, comparison) => sum + outcome(comparison, tieMargin), 0) / comparisons.length;
}

/**
 * `checkpoint` against `opponent` from their comparisons grouped by prompt: the counts, the win
 * rate and its length-controlled variant, each with a bootstrap interval over prompts (a prompt's
 * samples stay together); `seed` seeds the bootstrap.
 *
 * The bootstrap resamples prompt indices, and each resample's statistic is computed from per-prompt
 * aggregates instead of the flattened comparisons: outcome sums for the win rate, and for the
 * length-controlled fit the comparisons folded into distinct (Δlength, outcome) pairs weighted by
 * how often the resample holds them. A 0/1 checker gives few distinct pairs, so each of the
 * thousand fits reads hundreds of rows rather than thousands (bench/evaluation-analysis.ts measures it).
 */
export function pairedWinRate(
  checkpoint: number,
  opponent: number,
  byPrompt: readonly Comparison[][],
  settings: WinRateSettings,
  seed: number,
): WinRate {
  const { tieMargin, bootstrapSamples, confidence } = settings;
  const comparisons = byPrompt.flat();
  let wins = 0;
  let ties = 0;
  for (const comparison of comparisons) {
    const difference = comparison.reward - comparison.opponentReward;
    if (Math.abs(difference) <= tieMargin) ties++;
    else if (difference > 0) wins++;
  }
  const bootstrap = { resamples: bootstrapSamples, confidence, seed };
  const prompts = byPrompt.map((_, index) => index);
  const outcomeSums = byPrompt.map((list) => list.reduce((sum, comparison) => sum + outcome(comparison, tieMargin), 0));
  const counts = byPrompt.map((list) => list.length);
  const folded = foldComparisons(byPrompt, tieMargin);
  const weights = new Float64Array(folded.differences.length);
  const full = fitLengthControlled(folded.differences, folded.labels, folded.weights);
  return {
    checkpoint,
    opponent,
    wins,
    ties,
    losses: comparisons.length - wins - ties,
    winRate: winRateOf(comparisons, tieMargin),
    interval: bootstrapInterval(
      prompts,
      (sample) => {
        let sum = 0;
        let count = 0;
        for (const prompt of sample) {
          sum += outcomeSums[prompt] as number;
          count += counts[prompt] as number;
        }
        return count === 0 ? Number.NaN : sum / count;
      },
      bootstrap,
    ),
    lengthControlled: {
      winRate: full.winRate,
      interval: bootstrapInterval(
        prompts,
        (sample) => {
          weights.fill(0);
          for (const prompt of sample) {
            for (const key of folded.keysByPrompt[prompt] as Int32Array) weights[key] = (weights[key] as number) + 1;
          }
          return fitLengthControlled(folded.differences, folded.labels, weights, full).winRate;
        },
        bootstrap,
      ),
      lengthCoefficient: full.lengthCoefficient,
    },
  };
}

/** Comparisons as distinct (Δlength, outcome) rows: their counts, and each prompt's rows (repeated as often as it has them). */
interface FoldedComparisons {
  differences: Float64Array;
  labels: Float64Array;
  weights: Float64Array;
  keysByPrompt: Int32Array[];
}

function foldComparisons(byPrompt: readonly (readonly Comparison[])[], tieMargin: number): FoldedComparisons {
  const index = new Map<string, number>();
  const differences: number[] = [];
  const labels: number[] = [];
  const weights: number[] = [];
  const keysByPrompt = byPrompt.map((list) =>
    Int32Array.from(list, (comparison) => {
      const difference = comparison.length - comparison.opponentLength;
      const label = outcome(comparison, tieMargin);
      const name = `${difference}:${label}`;
      let key = index.get(name);
      if (key === undefined) {
        key = differences.length;
        index.set(name, key);
        differences.push(difference);
        labels.push(label);
        weights.push(0);
      }
      weights[key] = (weights[key] as number) + 1;
      return key;
    }),
  );
  return {
    differences: Float64Array.from(differences),
    labels: Float64Array.from(labels),
    weights: Float64Array.from(weights),
    keysByPrompt,
  };
}

/**
 * The length-controlled win rate, after AlpacaEval-LC: a logistic regression of the outcome on the
 * length difference, logit P(win) = a + b · tanh(Δlength / sd(Δlength)), fitted by Newton's method
 * (ties are soft labels 0.5), with sklearn's default ridge (C = 1) on b and none on a beyond 1e-6
 * for numerical safety. The length-controlled win rate is σ(a): the predicted win rate at equal
 * length. AlpacaEval's model also has an instruction-difficulty term fitted across many models on
 * one fixed set; with one pair of checkpoints it is not identifiable, so it is left out. With equal
 * lengths throughout, b = 0 and σ(a) is the plain win rate.
 */
export function lengthControlledWinRate(
  comparisons: readonly Comparison[],
  tieMargin: number,
): { winRate: number; lengthCoefficient: number } {
  const folded = foldComparisons([comparisons], tieMargin);
  const { winRate, lengthCoefficient } = fitLengthControlled(folded.differences, folded.labels, folded.weights);
  return { winRate, lengthCoefficient };
}

/**
 * The fit of {@link lengthControlledWinRate} over rows (Δlength, outcome) counted `weights` times;
 * Newton starts from `start` (a nearby fit, e.g. the full sample's for a bootstrap resample; the
 * optimum is unique, the ridge makes the loss strictly convex). NaN with no weight.
 */
function fitLengthControlled(
  differences: Float64Array,
  labels: Float64Array,
  weights: Float64Array,
  start: { a: number; b: number } = { a: 0, b: 0 },
): { winRate: number; lengthCoefficient: number; a: number; b: number } {
  let total = 0;
  let meanDifference = 0;
  for (let row = 0; row < differences.length; row++) {
    total += weights[row] as number;
    meanDifference += (weights[row] as number) * (differences[row] as number);
  }
  if (total === 0) return { winRate: Number.NaN, lengthCoefficient: 0, a: start.a, b: start.b };
  meanDifference /= total;
  let variance = 0;
  for (let row = 0; row < differences.length; row++) {
    variance += (weights[row] as number) * ((differences[row] as number) - meanDifference) ** 2;
  }
  const spread = Math.sqrt(variance / total);
  const features = differences.map((difference) => (spread > 0 ? Math.tanh(difference / spread) : 0));
  const ridgeIntercept = 1e-6;
  const ridgeSlope = 1;
  let { a, b } = start;
  for (let iteration = 0; iteration < 100; iteration++) {
    let gradientA = ridgeIntercept * a;
    let gradientB = ridgeSlope * b;
    let hessianAA = ridgeIntercept;
    let hessianAB = 0;
    let hessianBB = ridgeSlope;
    for (let row = 0; row < features.length; row++) {
      const count = weights[row] as number;
      if (count === 0) continue;
      const x = features[row] as number;
      const probability = 1 / (1 + Math.exp(-(a + b * x)));
      const residual = count * (probability - (labels[row] as number));
      const weight = count * probability * (1 - probability);
      gradientA += residual;
      gradientB += residual * x;
      hessianAA += weight;
      hessianAB += weight * x;
      hessianBB += weight * x * x;
    }
    const determinant = hessianAA * hessianBB - hessianAB * hessianAB;
    if (!(determinant > 0)) break;
    const stepA = (hessianBB * gradientA - hessianAB * gradientB) / determinant;
    const stepB = (hessianAA * gradientB - hessianAB * gradientA) / determinant;
    a -= stepA;
    b -= stepB;
    if (Math.abs(stepA) + Math.abs(stepB) < 1e-12) break;
  }
  return { winRate: 1 / (1 + Math.exp(-a)), lengthCoefficient: b, a, b };
}
