/** Agreement metrics against values computed by hand. */
import { describe, expect, it } from 'vitest';
import type { Signal } from '../../../src-main/api/index.js';
import { AgreementCounter, binaryAgreement, cohenKappa } from '../../../src-main/engine/signals/agreement.js';

describe('cohenKappa', () => {
  it('matches the textbook 2×2 example (p_o = 0.7, p_e = 0.5, κ = 0.4)', () => {
    expect(
      cohenKappa([
        [20, 5],
        [10, 15],
      ]),
    ).toBeCloseTo(0.4, 10);
  });

  it('is 1 for perfect agreement, 0 at chance, negative below chance, null when undefined', () => {
    expect(
      cohenKappa([
        [3, 0, 0],
        [0, 4, 0],
        [0, 0, 5],
      ]),
    ).toBeCloseTo(1, 10);
    expect(
      cohenKappa([
        [25, 25],
        [25, 25],
      ]),
    ).toBeCloseTo(0, 10);
    expect(
      cohenKappa([
        [0, 10],
        [10, 0],
      ]),
    ).toBeCloseTo(-1, 10);
    expect(cohenKappa([[7]])).toBeNull();
    expect(
      cohenKappa([
        [0, 0],
        [0, 0],
      ]),
    ).toBeNull();
  });
});

describe('binaryAgreement', () => {
  it('computes precision, recall, F1 and kappa from the four counts', () => {
    // tp 20, fp 10, fn 5, tn 65: P = 2/3, R = 0.8, F1 = 8/11; p_o = 0.85, p_e = 0.25·0.3 + 0.75·0.7 = 0.6, κ = 0.625.
    const result = binaryAgreement(20, 10, 5, 65);
    expect(result.support).toBe(100);
    expect(result.precision).toBeCloseTo(2 / 3, 10);
    expect(result.recall).toBeCloseTo(0.8, 10);
    expect(result.f1).toBeCloseTo(8 / 11, 10);
    expect(result.kappa).toBeCloseTo(0.625, 10);
  });

  it('answers null where a ratio has no denominator', () => {
    const result = binaryAgreement(0, 0, 0, 10);
    expect(result.precision).toBeNull();
    expect(result.recall).toBeNull();
    expect(result.f1).toBeNull();
    expect(result.kappa).toBeNull();
    expect(binaryAgreement(0, 3, 2, 5).f1).toBe(0);
  });
});

describe('AgreementCounter', () => {
  const signal = (
    turn: number,
    polarity: Signal['polarity'],
    categories: Signal['categories'] = [],
    detector: Signal['detector'] = 'labels',
  ): Signal => ({
    conversationId: 'c',
    turn,
    judgedTurn: turn - 1,
    polarity,
    categories,
    confidence: 1,
    detector,
    evidence: [],
  });

  it('fills the polarity confusion matrix and the per-polarity and per-category rows', () => {
    const counter = new AgreementCounter('rules');
    // label → prediction
    counter.add(signal(1, 'dsat', ['revision']), signal(1, 'dsat', ['revision'], 'rules'));
    counter.add(signal(3, 'dsat', ['style']), signal(3, 'dsat', ['revision'], 'rules'));
    counter.add(signal(5, 'sat', ['gratitude']), signal(5, 'sat', ['gratitude'], 'rules'));
    counter.add(signal(7, 'neither'), undefined);
    counter.add(signal(9, 'both'), signal(9, 'dsat', [], 'rules'));
    counter.add(signal(11, 'neither'), signal(11, 'sat', [], 'rules'));
    const result = counter.result();
    expect(result.turns).toBe(6);
    expect(result.categorisedTurns).toBe(3);
    expect(result.confusion.labels).toEqual(['sat', 'dsat', 'both', 'neither']);
    expect(result.confusion.matrix).toEqual([
      [1, 0, 0, 0],
      [0, 2, 0, 0],
      [0, 1, 0, 0],
      [1, 0, 0, 1],
    ]);
    expect(result.accuracy).toBeCloseTo(4 / 6, 10);
    // DSAT: truth {1,3,9}, predicted {1,3,9} → perfect.
    expect(result.polarity.dsat).toMatchObject({
      truePositives: 3,
      falsePositives: 0,
      falseNegatives: 0,
      trueNegatives: 3,
      f1: 1,
    });
    // SAT: truth {5,9}, predicted {5,11} → tp 1, fp 1, fn 1, tn 3.
    expect(result.polarity.sat).toMatchObject({
      truePositives: 1,
      falsePositives: 1,
      falseNegatives: 1,
      trueNegatives: 3,
    });
    expect(result.polarity.sat.precision).toBeCloseTo(0.5, 10);
    // Categories on the 3 categorised turns: revision tp 1 fp 1; style fn 1; gratitude tp 1.
    expect(result.categories['revision']).toMatchObject({
      truePositives: 1,
      falsePositives: 1,
      falseNegatives: 0,
      trueNegatives: 1,
    });
    expect(result.categories['style']).toMatchObject({ truePositives: 0, falseNegatives: 1 });
    expect(result.categories['gratitude']?.f1).toBe(1);
    // κ over four polarities: p_o = 4/6; rows (1,2,1,2), columns (2,3,0,1) → p_e = (2 + 6 + 0 + 2)/36.
    expect(result.kappa).toBeCloseTo((4 / 6 - 10 / 36) / (1 - 10 / 36), 10);
  });

  it('leaves per-category rows empty when the labels name no categories', () => {
    const counter = new AgreementCounter('classifier');
    counter.add(signal(1, 'dsat'), signal(1, 'dsat', [], 'classifier'));
    expect(counter.result().categories).toEqual({});
    expect(counter.result().categorisedTurns).toBe(0);
  });
});
