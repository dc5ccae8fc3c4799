import { describe, expect, it } from 'vitest';
import type { RunMetricRow } from '../../src-main/api/runs.js';
import {
  HISTOGRAM_LABELS,
  RUN_CHARTS,
  chartSeries,
  formatMetric,
  iterationMarkers,
  lastUserTurn,
  latestTrainRow,
  positionText,
  runIterations,
} from '../../src-renderer/src/lib/runs-metrics.js';

function row(type: 'train' | 'eval', iteration: number, step: number, extra: Partial<RunMetricRow> = {}): RunMetricRow {
  return {
    type,
    iteration,
    step,
    epoch: 0,
    loss: 0.7 - step / 100,
    'rewards/chosen': step / 10,
    'rewards/rejected': -step / 10,
    'rewards/margins': step / 5,
    'rewards/accuracies': 0.5,
    'logps/chosen': -10,
    'logps/rejected': -12,
    kl: 0.01 * step,
    grad_norm: 1,
    learning_rate: 5e-5,
    gradientWeight: { mean: 0.5, p10: 0.3, p50: 0.5, p90: 0.7, histogram: [0, 0, 0, 1, 2, 3, 2, 0, 0, 0] },
    seconds: step,
    time: '2025-01-01T00:00:00Z',
    ...extra,
  };
}

const ROWS: RunMetricRow[] = [
  row('train', 0, 1),
  row('train', 0, 2),
  row('eval', 0, 2),
  row('train', 1, 3),
  row('train', 1, 4, {
    grad_norm: undefined,
    gradientWeight: { mean: 0.1, p10: 0, p50: 0.1, p90: 0.2, histogram: [5, 1, 0, 0, 0, 0, 0, 0, 0, 0] },
  }),
  row('eval', 1, 4),
];

const chart = (id: string) => RUN_CHARTS.find((one) => one.id === id)!;

describe('run charts', () => {
  it('split training and held-out rows into a line and dots against the step', () => {
    const [train, held] = chartSeries(ROWS, chart('loss'));
    expect(train!.points.map((point) => point.x)).toEqual([1, 2, 3, 4]);
    expect(train!.line).toBe(true);
    expect(held!.points.map((point) => point.x)).toEqual([2, 4]);
    expect(held!.points[1]!.y).toBeCloseTo(0.66);
    expect(held!.line).toBe(false);
  });

  it('skip steps without a value and put the learning rate on the right axis', () => {
    const [gradNorm, learningRate] = chartSeries(ROWS, chart('optimizer'));
    expect(gradNorm!.points.map((point) => point.x)).toEqual([1, 2, 3]);
    expect(learningRate!.axis).toBe('y1');
    expect(learningRate!.points).toHaveLength(4);
  });

  it('draw the σ(−s) percentiles and the latest step’s histogram', () => {
    const [p10, p50, p90] = chartSeries(ROWS, chart('weights'));
    expect(p10!.points.at(-1)).toEqual({ x: 4, y: 0 });
    expect(p50!.points.at(-1)).toEqual({ x: 4, y: 0.1 });
    expect(p90!.points.at(-1)).toEqual({ x: 4, y: 0.2 });
    expect(latestTrainRow(ROWS)?.gradientWeight.histogram).toEqual([5, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(latestTrainRow([])).toBeNull();
    expect(HISTOGRAM_LABELS).toHaveLength(10);
    expect(HISTOGRAM_LABELS[0]).toBe('0.0–0.1');
    expect(HISTOGRAM_LABELS[9]).toBe('0.9–1.0');
  });

  it('have stable series ids, so a chart appends rather than rebuilds', () => {
    const first = chartSeries(ROWS.slice(0, 3), chart('rewards')).map((one) => one.id);
    const later = chartSeries(ROWS, chart('rewards')).map((one) => one.id);
    expect(later).toEqual(first);
    expect(new Set(later).size).toBe(later.length);
  });

  it('mark where the seed warm start and each iteration begin', () => {
    expect(iterationMarkers(ROWS)).toEqual([
      { x: 1, label: 'seed' },
      { x: 3, label: 'iter 1' },
    ]);
  });
});

describe('run text helpers', () => {
  it('take the last user turn of a prompt', () => {
    expect(
      lastUserTurn([
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'first' },
        { role: 'assistant', content: 'answer' },
        { role: 'user', content: 'second' },
      ]),
    ).toBe('second');
    expect(lastUserTurn([{ role: 'assistant', content: 'only' }])).toBe('only');
    expect(lastUserTurn([])).toBe('');
  });

  it('say where a run is', () => {
    const config = { iterations: 2, seedWarmStart: true } as Parameters<typeof positionText>[0]['config'];
    expect(positionText({ config, position: { iteration: 0, phase: 'seed', step: 3 } })).toBe(
      'seed warm start · seed · step 3',
    );
    expect(positionText({ config, position: { iteration: 1, phase: 'train', step: 12 } })).toBe(
      'iteration 1 of 2 · train · step 12',
    );
  });

  it('list the phases with pair files', () => {
    expect(runIterations({ iterations: 2, seedWarmStart: true })).toEqual([0, 1, 2]);
    expect(runIterations({ iterations: 2, seedWarmStart: false })).toEqual([1, 2]);
    expect(runIterations({ iterations: 0, seedWarmStart: true })).toEqual([0]);
  });

  it('format metric values', () => {
    expect(formatMetric(0.123456)).toBe('0.1235');
    expect(formatMetric(5e-5)).toBe('5.00e-5');
    expect(formatMetric(0)).toBe('0');
    expect(formatMetric(undefined)).toBe('–');
    expect(formatMetric(Number.NaN)).toBe('–');
  });
});
