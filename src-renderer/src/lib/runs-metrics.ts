/**
 * What the Runs view draws from metrics.jsonl rows: the series of each chart (TRL's metric
 * names against the run's optimizer step), where iterations begin, the latest step's σ(−s)
 * histogram, and small text helpers for the pairs and the run's position.
 */
import type { PairTurn, RunDetail, RunMetricRow } from '../../../src-main/api/runs.js';
import type { ChartMarker, ChartPoint, LineSeries } from '../components/charts/series.js';

type RowValue = (row: RunMetricRow) => number | undefined;

interface SeriesSpec {
  id: string;
  label: string;
  type: RunMetricRow['type'];
  value: RowValue;
  /** A CSS variable of the chart palette (charts/LineChart.svelte). */
  color: string;
  axis?: 'y' | 'y1';
}

export interface RunChartSpec {
  id: string;
  title: string;
  /** What the chart shows, for screen readers and the caption. */
  description: string;
  series: readonly SeriesSpec[];
  /** Title of the right-hand axis when a series uses it. */
  rightAxis?: string;
}

const metric =
  (key: keyof RunMetricRow): RowValue =>
  (row) => {
    const value = row[key];
    return typeof value === 'number' ? value : undefined;
  };

function trainAndEval(key: keyof RunMetricRow, label: string): SeriesSpec[] {
  return [
    { id: `train:${key}`, label, type: 'train', value: metric(key), color: '--series-1' },
    { id: `eval:${key}`, label: `${label} (held out)`, type: 'eval', value: metric(key), color: '--series-4' },
  ];
}

export const RUN_CHARTS: readonly RunChartSpec[] = [
  {
    id: 'loss',
    title: 'Loss',
    description: 'Training loss per step; held-out loss after each phase.',
    series: trainAndEval('loss', 'loss'),
  },
  {
    id: 'rewards',
    title: 'Rewards',
    description: 'Implicit rewards β·log π/π_ref of the chosen and rejected completions, and their margin.',
    series: [
      {
        id: 'train:chosen',
        label: 'rewards/chosen',
        type: 'train',
        value: metric('rewards/chosen'),
        color: '--series-1',
      },
      {
        id: 'train:rejected',
        label: 'rewards/rejected',
        type: 'train',
        value: metric('rewards/rejected'),
        color: '--series-2',
      },
      {
        id: 'train:margins',
        label: 'rewards/margins',
        type: 'train',
        value: metric('rewards/margins'),
        color: '--series-3',
      },
      {
        id: 'eval:margins',
        label: 'margins (held out)',
        type: 'eval',
        value: metric('rewards/margins'),
        color: '--series-4',
      },
    ],
  },
  {
    id: 'accuracies',
    title: 'Reward accuracy',
    description: 'Share of pairs whose chosen reward exceeds the rejected one.',
    series: trainAndEval('rewards/accuracies', 'rewards/accuracies'),
  },
  {
    id: 'kl',
    title: 'KL to the reference',
    description: 'Mean per-token log-ratio log π/π_ref of the completions.',
    series: trainAndEval('kl', 'kl'),
  },
  {
    id: 'optimizer',
    title: 'Gradient norm and learning rate',
    description: 'Gradient norm before clipping (left axis) and the scheduled learning rate (right axis).',
    rightAxis: 'learning rate',
    series: [
      { id: 'train:grad_norm', label: 'grad_norm', type: 'train', value: metric('grad_norm'), color: '--series-1' },
      {
        id: 'train:learning_rate',
        label: 'learning_rate',
        type: 'train',
        value: metric('learning_rate'),
        color: '--series-3',
        axis: 'y1',
      },
    ],
  },
  {
    id: 'weights',
    title: 'Gradient weight σ(−s) percentiles',
    description: 'p10, p50 and p90 of each pair’s DPO gradient weight per step: near 0 the pair no longer teaches.',
    series: [
      { id: 'train:p10', label: 'p10', type: 'train', value: (row) => row.gradientWeight.p10, color: '--series-2' },
      { id: 'train:p50', label: 'p50', type: 'train', value: (row) => row.gradientWeight.p50, color: '--series-1' },
      { id: 'train:p90', label: 'p90', type: 'train', value: (row) => row.gradientWeight.p90, color: '--series-3' },
    ],
  },
];

/** The chart's series from all rows so far; each series' points are in row order. */
export function chartSeries(rows: readonly RunMetricRow[], chart: RunChartSpec): LineSeries[] {
  return chart.series.map((spec) => {
    const points: ChartPoint[] = [];
    for (const row of rows) {
      if (row.type !== spec.type) continue;
      const y = spec.value(row);
      if (y !== undefined && Number.isFinite(y)) points.push({ x: row.step, y });
    }
    return {
      id: spec.id,
      label: spec.label,
      color: spec.color,
      points,
      axis: spec.axis ?? 'y',
      // Held-out evaluations are a few points, one per phase: dots, not a line.
      line: spec.type === 'train',
    };
  });
}

/** Where each phase begins: the step of its first row, labelled "seed" or "iter k". */
export function iterationMarkers(rows: readonly RunMetricRow[]): ChartMarker[] {
  const markers: ChartMarker[] = [];
  let current: number | null = null;
  for (const row of rows) {
    if (row.type !== 'train' || row.iteration === current) continue;
    current = row.iteration;
    markers.push({ x: row.step, label: iterationLabel(row.iteration) });
  }
  return markers;
}

export function iterationLabel(iteration: number): string {
  return iteration === 0 ? 'seed' : `iter ${iteration}`;
}

/** The newest training row, whose σ(−s) histogram the view shows. */
export function latestTrainRow(rows: readonly RunMetricRow[]): RunMetricRow | null {
  for (let index = rows.length - 1; index >= 0; index--) {
    if (rows[index]!.type === 'train') return rows[index]!;
  }
  return null;
}

/** Labels of the 10 equal bins over [0, 1] of GradientWeightSummary.histogram. */
export const HISTOGRAM_LABELS: readonly string[] = Array.from(
  { length: 10 },
  (_, bin) => `${(bin / 10).toFixed(1)}–${((bin + 1) / 10).toFixed(1)}`,
);

/** The last user turn of a conversational prompt (what the pair answers). */
export function lastUserTurn(prompt: readonly PairTurn[]): string {
  for (let index = prompt.length - 1; index >= 0; index--) {
    if (prompt[index]!.role === 'user') return prompt[index]!.content;
  }
  return prompt.at(-1)?.content ?? '';
}

/** "iteration 1 of 2 · train · step 12" */
export function positionText(detail: Pick<RunDetail, 'position' | 'config'>): string {
  const { iteration, phase, step } = detail.position;
  const where =
    iteration === 0 ? 'seed warm start' : `iteration ${iteration} of ${detail.config.iterations ?? iteration}`;
  return `${where} · ${phase} · step ${step}`;
}

/** The phases a run has pair files for: 0 (seed) when it warm-starts, then 1..iterations. */
export function runIterations(config: Pick<RunDetail['config'], 'iterations' | 'seedWarmStart'>): number[] {
  const first = config.seedWarmStart ? 0 : 1;
  const list: number[] = [];
  for (let iteration = first; iteration <= config.iterations; iteration++) list.push(iteration);
  return list;
}

/** A metric value for tables: 4 significant digits, small rates in exponent form. */
export function formatMetric(value: number | undefined): string {
  if (value === undefined || !Number.isFinite(value)) return '–';
  if (value !== 0 && Math.abs(value) < 1e-3) return value.toExponential(2);
  return Number(value.toPrecision(4)).toString();
}
