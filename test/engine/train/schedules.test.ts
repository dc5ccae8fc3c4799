import { describe, expect, it } from 'vitest';
import { learningRateAt } from '../../../src-main/engine/train/schedules.js';

describe('learningRateAt', () => {
  const base = { learningRate: 1, warmupSteps: 10, totalSteps: 110 };

  it('warms up linearly from 0 (HF: step / warmup), then decays linearly to 0', () => {
    const schedule = { ...base, kind: 'linear' as const };
    expect([0, 5, 10, 35, 60, 110, 200].map((step) => learningRateAt(schedule, step))).toEqual([
      0, 0.5, 1, 0.75, 0.5, 0, 0,
    ]);
  });

  it('decays along half a cosine, to a floor when asked', () => {
    const schedule = { ...base, kind: 'cosine' as const };
    expect(learningRateAt(schedule, 10)).toBeCloseTo(1, 12);
    expect(learningRateAt(schedule, 35)).toBeCloseTo(0.5 * (1 + Math.cos(Math.PI / 4)), 12);
    expect(learningRateAt(schedule, 60)).toBeCloseTo(0.5, 12);
    expect(learningRateAt(schedule, 110)).toBeCloseTo(0, 12);
    expect(learningRateAt({ ...schedule, minimumRatio: 0.1 }, 110)).toBeCloseTo(0.1, 12);
    expect(learningRateAt({ ...schedule, minimumRatio: 0.1 }, 60)).toBeCloseTo(0.55, 12);
  });

  it('stays at the peak after warmup when constant, and has no warmup with 0 steps', () => {
    expect(learningRateAt({ ...base, kind: 'constant' }, 100)).toBe(1);
    expect(learningRateAt({ ...base, kind: 'linear', warmupSteps: 0 }, 0)).toBe(1);
  });
});
