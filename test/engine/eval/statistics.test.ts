import { describe, expect, it } from 'vitest';
import { Random } from '../../../src-main/engine/model/index.js';
import type { Comparison } from '../../../src-main/engine/eval/statistics.js';
import { referenceLengthControlled, referenceWinRateIntervals } from './reference-win-rate.js';
import {
  bootstrapInterval,
  histogram,
  histogramEdges,
  lengthControlledWinRate,
  pairedWinRate,
  quantile,
  summarize,
  winRateOf,
} from '../../../src-main/engine/eval/statistics.js';

const mean = (values: readonly number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;

function comparison(reward: number, opponentReward: number, length = 10, opponentLength = 10): Comparison {
  return { reward, opponentReward, length, opponentLength };
}

describe('order statistics', () => {
  it('interpolates quantiles linearly (numpy default)', () => {
    expect(quantile([4, 1, 3, 2], 0.25)).toBeCloseTo(1.75, 12);
    expect(quantile([4, 1, 3, 2], 0.5)).toBeCloseTo(2.5, 12);
    expect(quantile([5], 0.9)).toBe(5);
  });

  it('summarizes rewards', () => {
    const summary = summarize([1, 2, 3, 4]);
    expect(summary).toMatchObject({ count: 4, mean: 2.5, min: 1, max: 4, median: 2.5 });
    expect(summary.std).toBeCloseTo(Math.sqrt(1.25), 12);
  });

  it('bins values into shared edges', () => {
    const edges = histogramEdges([0, 10], 5);
    expect(edges).toEqual([0, 2, 4, 6, 8, 10]);
    expect(histogram([0, 1.9, 2, 9.9, 10, 11], edges)).toEqual([2, 1, 0, 0, 2]);
    expect(histogramEdges([3, 3], 2)).toEqual([2.5, 3, 3.5]);
  });
});

describe('bootstrap', () => {
  const sample = [0.2, 0.9, 0.4, 0.7, 0.1, 0.8, 0.5, 0.6, 0.3, 0.95, 0.05, 0.55];

  it('is deterministic for a seed and contains the point estimate', () => {
    const options = { resamples: 2000, confidence: 0.95, seed: 7 };
    const first = bootstrapInterval(sample, mean, options);
    const second = bootstrapInterval(sample, mean, options);
    expect(second).toEqual(first);
    expect(first.low).toBeLessThan(mean(sample));
    expect(first.high).toBeGreaterThan(mean(sample));
    // The standard error of the mean is about 0.088 here; a 95% interval spans about ±1.96 of it.
    expect(first.high - first.low).toBeGreaterThan(0.25);
    expect(first.high - first.low).toBeLessThan(0.45);
    expect(bootstrapInterval(sample, mean, { ...options, seed: 8 })).not.toEqual(first);
  });

  it('gives a point interval for a constant sample', () => {
    expect(bootstrapInterval([2, 2, 2], mean, { resamples: 100, confidence: 0.9, seed: 1 })).toEqual({
      low: 2,
      high: 2,
    });
  });
});

describe('win rate', () => {
  it('counts a tie as half', () => {
    const comparisons = [comparison(2, 1), comparison(1, 1), comparison(0, 1), comparison(3, 1)];
    expect(winRateOf(comparisons, 0)).toBeCloseTo((1 + 0.5 + 0 + 1) / 4, 12);
    // With a tie margin of 1.5, the differences 1, 0 and −1 tie; only 3 vs 1 stays a win.
    expect(winRateOf(comparisons, 1.5)).toBeCloseTo((0.5 + 0.5 + 0.5 + 1) / 4, 12);
  });

  it('length-controlled: equals the plain win rate when lengths are equal', () => {
    const comparisons = [comparison(2, 1), comparison(1, 1), comparison(0, 1), comparison(3, 1), comparison(4, 1)];
    const controlled = lengthControlledWinRate(comparisons, 0);
    expect(controlled.winRate).toBeCloseTo(winRateOf(comparisons, 0), 6);
    expect(controlled.lengthCoefficient).toBeCloseTo(0, 12);
  });

  it('length-controlled: discounts wins that come with longer responses', () => {
    const comparisons: Comparison[] = [];
    for (let index = 0; index < 10; index++) comparisons.push(comparison(2, 1, 200, 100)); // longer, wins
    for (let index = 0; index < 10; index++) {
      comparisons.push(index % 2 === 0 ? comparison(2, 1, 100, 100) : comparison(0, 1, 100, 100)); // equal, half
    }
    const raw = winRateOf(comparisons, 0);
    const controlled = lengthControlledWinRate(comparisons, 0);
    expect(raw).toBeCloseTo(0.75, 12);
    expect(controlled.lengthCoefficient).toBeGreaterThan(0);
    expect(controlled.winRate).toBeLessThan(raw);
    expect(controlled.winRate).toBeGreaterThan(0.5);
  });

  it('paired: the folded bootstrap equals fitting every resample from scratch', () => {
    // 60 prompts × 4 samples with 0/1 rewards and lengths that favour the longer response.
    const random = new Random(11);
    const byPrompt: Comparison[][] = Array.from({ length: 60 }, () =>
      Array.from({ length: 4 }, () => {
        const length = 5 + random.nextInt(40);
        const opponentLength = 5 + random.nextInt(40);
        const reward = random.nextFloat() < 0.3 + (length > opponentLength ? 0.2 : 0) ? 1 : 0;
        return comparison(reward, random.nextFloat() < 0.35 ? 1 : 0, length, opponentLength);
      }),
    );
    const settings = { tieMargin: 0, bootstrapSamples: 300, confidence: 0.9 };
    const rate = pairedWinRate(1, 0, byPrompt, settings, 99);
    const reference = referenceWinRateIntervals(byPrompt, 0, { resamples: 300, confidence: 0.9, seed: 99 });
    expect(rate.winRate).toBeCloseTo(winRateOf(byPrompt.flat(), 0), 12);
    expect(rate.interval).toEqual(reference.interval);
    expect(rate.lengthControlled.winRate).toBeCloseTo(referenceLengthControlled(byPrompt.flat(), 0), 12);
    expect(rate.lengthControlled.interval.low).toBeCloseTo(reference.lengthControlled.low, 12);
    expect(rate.lengthControlled.interval.high).toBeCloseTo(reference.lengthControlled.high, 12);
    expect(rate.lengthControlled.interval.low).toBeLessThan(rate.lengthControlled.interval.high);
    expect(rate.lengthControlled.lengthCoefficient).toBeGreaterThan(0);
  });
});
