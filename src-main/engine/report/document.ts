/**
 * The report as a format-neutral document: sections of paragraphs, tables, charts and example
 * pairs, built once from {@link ReportData}. html.ts and markdown.ts only lay it out, so every
 * format says the same thing. Texts here are plain (unescaped); the renderers escape them.
 */
import type { CheckpointEvaluation, EvaluationResult, RunMetricRow } from '../../api/index.js';
import {
  PALETTE,
  barChart,
  colorOf,
  formatNumber,
  histogram,
  lineChart,
  scatterChart,
  type LineSeries,
  type Rectangle,
  type XMarker,
} from './charts.js';
import type { ReportData, ReportRun, ReportSource } from './data.js';

export interface ReportChart {
  /** File-name-safe and unique in the report: charts/<id>.svg. */
  id: string;
  title: string;
  svg: string;
  caption?: string;
}

export interface ExampleText {
  label: string;
  text: string;
}

export type Block =
  | { kind: 'subheading'; text: string }
  | { kind: 'paragraph'; text: string }
  | { kind: 'list'; items: string[] }
  | { kind: 'facts'; items: [string, string][] }
  | { kind: 'table'; caption?: string; columns: string[]; rows: string[][]; numeric?: boolean[] }
  | { kind: 'chart'; chart: ReportChart }
  | { kind: 'example'; title: string; context: ExampleText[]; left: ExampleText; right: ExampleText; note?: string }
  | { kind: 'warning'; text: string };

export interface Section {
  id: string;
  title: string;
  blocks: Block[];
}

export interface ReportDocument {
  title: string;
  subtitle: string;
  sections: Section[];
  /** Every chart of every section, in order. */
  charts: ReportChart[];
}

/** Builds the document (and its charts) from the gathered data. Pure. */
export function buildDocument(data: ReportData): ReportDocument {
  const sections: Section[] = [
    summarySection(data),
    dataSection(data),
    configurationSection(data),
    trainingSection(data),
    ...(data.evaluation ? [evaluationSection(data.evaluation)] : []),
    examplesSection(data),
    environmentSection(data),
    { id: 'limitations', title: 'Limitations', blocks: [{ kind: 'list', items: data.limitations }] },
  ];
  if (data.warnings.length > 0) {
    sections.push({ id: 'warnings', title: 'Warnings', blocks: [{ kind: 'list', items: data.warnings }] });
  }
  const charts = sections.flatMap((section) =>
    section.blocks.flatMap((block) => (block.kind === 'chart' ? [block.chart] : [])),
  );
  const runs = data.runs.map((run) => run.name).join(', ');
  return {
    title: data.title,
    subtitle: `${data.kind === 'compare' ? 'Comparison of' : 'Run'} ${runs} · built ${data.createdAt} · ${data.generator.name} ${data.generator.version}`,
    sections,
    charts,
  };
}

/* ------------------------------------------------------------------ formatting */

const number = (value: number | null | undefined): string =>
  value === null || value === undefined ? '–' : formatNumber(value);
const percent = (value: number | null | undefined): string =>
  value === null || value === undefined || !Number.isFinite(value) ? '–' : `${(value * 100).toFixed(1)} %`;
const interval = (low: number, high: number, format: (value: number) => string = number): string =>
  `[${format(low)}, ${format(high)}]`;
const count = (value: number | null | undefined): string =>
  value === null || value === undefined ? '–' : value.toLocaleString('en-US');

function topEntries(record: Record<string, number>, limit: number): [string, number][] {
  return Object.entries(record)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .slice(0, limit);
}

function describeCounts(record: Record<string, number>, limit = 6): string {
  const entries = topEntries(record, limit);
  if (entries.length === 0) return '–';
  const rest = Object.keys(record).length - entries.length;
  return `${entries.map(([key, value]) => `${key} ${count(value)}`).join(', ')}${rest > 0 ? `, +${rest} more` : ''}`;
}

/** 95 % normal-approximation interval of a mean from its standard deviation and count. */
function meanInterval(mean: number, std: number, size: number): [number, number] {
  const half = size > 1 ? (1.96 * std) / Math.sqrt(size) : 0;
  return [mean - half, mean + half];
}

/** Wilson score interval (95 %) of a proportion. */
export function wilsonInterval(rate: number, size: number): [number, number] {
  if (size <= 0) return [0, 1];
  const z = 1.96;
  const denominator = 1 + (z * z) / size;
  const center = (rate + (z * z) / (2 * size)) / denominator;
  const half = (z * Math.sqrt((rate * (1 - rate)) / size + (z * z) / (4 * size * size))) / denominator;
  return [Math.max(0, center - half), Math.min(1, center + half)];
}

function lastEvalRow(run: ReportRun): RunMetricRow | undefined {
  return run.metrics.filter((row) => row.type === 'eval').at(-1);
}

/* ------------------------------------------------------------------ summary */

function summarySection(data: ReportData): Section {
  const blocks: Block[] = [];
  blocks.push({
    kind: 'paragraph',
    text:
      data.kind === 'compare'
        ? `This report compares ${data.runs.length} preference-training runs on their data, settings, training curves${data.evaluation ? ', evaluation' : ''} and examples.`
        : `This report describes the preference-training run ${data.runs[0]?.name ?? ''}: its data, settings, training curves${data.evaluation ? ', evaluation' : ''} and examples.`,
  });
  blocks.push({
    kind: 'table',
    caption: 'Runs',
    columns: [
      'run',
      'method',
      'status',
      'phases finished',
      'steps',
      'held-out loss',
      'reward accuracy',
      'reward margin',
    ],
    numeric: [false, false, false, true, true, true, true, true],
    rows: data.runs.map((run) => {
      const last = lastEvalRow(run);
      const planned = run.config ? run.config.iterations + (run.config.seedWarmStart ? 1 : 0) : null;
      const finished = run.iterations.filter((iteration) => iteration.finishedAt !== null).length;
      return [
        `${run.name} (${run.id})`,
        run.method ?? '–',
        run.status ?? 'unknown',
        planned === null ? String(finished) : `${finished} / ${planned}`,
        count(run.metrics.at(-1)?.step ?? null),
        number(last?.loss),
        percent(last?.['rewards/accuracies']),
        number(last?.['rewards/margins']),
      ];
    }),
  });
  const evaluation = data.evaluation;
  if (evaluation) {
    const base = evaluation.checkpoints[0];
    const rows = evaluation.checkpoints.map((checkpoint, index) => {
      const [low, high] = meanInterval(checkpoint.rewards.mean, checkpoint.rewards.std, checkpoint.rewards.count);
      const win = evaluation.winRates.find((rate) => rate.checkpoint === index && rate.opponent === 0);
      return [
        checkpoint.label,
        `${number(checkpoint.rewards.mean)} ${interval(low, high)}`,
        checkpoint.gold ? percent(checkpoint.gold.successRate) : '–',
        win ? `${percent(win.winRate)} ${interval(win.interval.low, win.interval.high, percent)}` : '–',
        number(checkpoint.diversity.vendiScore),
      ];
    });
    blocks.push({
      kind: 'table',
      caption: `Evaluation headline${base ? ` (win rates against ${base.label})` : ''}`,
      columns: ['checkpoint', 'mean reward [95 % CI]', 'gold success', 'win rate [CI]', 'Vendi score (high-reward)'],
      numeric: [false, true, true, true, true],
      rows,
    });
  }
  return { id: 'summary', title: 'Summary', blocks };
}

/**
 * Gold success by prompt group (a simulated task's kind), one column per checkpoint: where a
 * method gains and where it loses, which the overall rate hides. Null when no checkpoint has groups.
 */
export function goldByGroupTable(checkpoints: readonly CheckpointEvaluation[]): Block | null {
  const groups = [
    ...new Set(checkpoints.flatMap((checkpoint) => (checkpoint.gold?.byGroup ?? []).map((entry) => entry.group))),
  ].sort((a, b) => a.localeCompare(b));
  if (groups.length === 0) return null;
  return {
    kind: 'table',
    caption: 'Gold success by task group (n: samples per checkpoint in the group)',
    columns: ['group', 'n', ...checkpoints.map((checkpoint) => checkpoint.label)],
    numeric: [false, true, ...checkpoints.map(() => true)],
    rows: groups.map((group) => {
      const entries = checkpoints.map((checkpoint) => checkpoint.gold?.byGroup?.find((entry) => entry.group === group));
      const sizes = new Set(entries.map((entry) => entry?.samples ?? 0));
      const size = sizes.size === 1 ? count([...sizes][0]!) : '–';
      return [
        group,
        size,
        ...entries.map((entry) => (entry && entry.samples > 0 ? percent(entry.successes / entry.samples) : '–')),
      ];
    }),
  };
}

/* ------------------------------------------------------------------ data */

function dataSection(data: ReportData): Section {
  const blocks: Block[] = [];
  if (data.sources.length === 0) {
    blocks.push({
      kind: 'paragraph',
      text: 'The runs name no pair set that could be read, so the data they trained on is not summarised here.',
    });
  }
  data.sources.forEach((source, index) => blocks.push(...sourceBlocks(source, index, data.sources.length > 1)));
  const pairRows = data.runs.flatMap((run) =>
    run.pairCounts.map((counts) => [
      run.name,
      counts.iteration === 0 ? '0 (seed)' : String(counts.iteration),
      count(counts.pairs),
      count(counts.train),
      count(counts.test),
    ]),
  );
  if (pairRows.length > 0) {
    blocks.push({ kind: 'subheading', text: 'Training pairs per iteration' });
    blocks.push({
      kind: 'table',
      columns: ['run', 'iteration', 'pairs', 'train', 'held out'],
      numeric: [false, false, true, true, true],
      rows: pairRows,
    });
  }
  const sampleRows = data.runs.flatMap((run) =>
    run.sampleCounts.map((samples) => [
      run.name,
      String(samples.iteration),
      samples.role,
      count(samples.count),
      describeCounts(samples.finishReasons),
      number(samples.meanCharacters),
      number(samples.meanScore),
    ]),
  );
  if (sampleRows.length > 0) {
    blocks.push({ kind: 'subheading', text: 'On-policy samples' });
    blocks.push({
      kind: 'table',
      columns: ['run', 'iteration', 'role', 'samples', 'finish reasons', 'mean characters', 'mean judge score'],
      numeric: [false, false, false, true, false, true, true],
      rows: sampleRows,
    });
  }
  return { id: 'data', title: 'Data', blocks };
}

function sourceBlocks(source: ReportSource, index: number, several: boolean): Block[] {
  const blocks: Block[] = [];
  const suffix = several ? `-${index + 1}` : '';
  blocks.push({
    kind: 'subheading',
    text: `Pair set ${source.manifest?.id ?? source.pairSet}${source.datasetId ? ` from dataset ${source.datasetId}` : ''}`,
  });
  const importReport = source.importReport;
  if (importReport) {
    blocks.push({
      kind: 'facts',
      items: [
        ['dataset', `${importReport.name} (${importReport.datasetId})`],
        [
          'format',
          `${importReport.format}${Object.keys(importReport.formats).length > 1 ? ` (${describeCounts(importReport.formats)})` : ''}`,
        ],
        ['files', `${count(importReport.counts.files)} (${count(importReport.counts.bytes)} bytes)`],
        ['records read', count(importReport.counts.rows)],
        ['conversations', count(importReport.counts.conversations)],
        ['messages', count(importReport.counts.messages)],
        [
          'rejected rows',
          `${count(importReport.counts.rejected)}${Object.keys(importReport.errorCounts).length > 0 ? ` (${describeCounts(importReport.errorCounts as Record<string, number>)})` : ''}`,
        ],
        ['duplicates', count(importReport.counts.duplicates)],
        ['languages', describeCounts(importReport.languages)],
        [
          'personal data',
          `${count(importReport.pii.conversations)} conversations with matches${importReport.redacted ? ', redacted on import' : ', not redacted'}`,
        ],
      ],
    });
  } else if (source.datasetId) {
    blocks.push({ kind: 'paragraph', text: `The import report of dataset ${source.datasetId} could not be read.` });
  }
  const mining = source.mining;
  if (mining) {
    blocks.push({
      kind: 'table',
      caption: 'Signals (mining)',
      columns: ['conversations', 'judged turns', 'DSAT', 'SAT', 'both', 'pairs', 'seed pairs', 'SAT records'],
      numeric: [true, true, true, true, true, true, true, true],
      rows: [
        [
          count(mining.counts.conversations),
          count(mining.counts.judgedTurns),
          count(mining.counts.dsat),
          count(mining.counts.sat),
          count(mining.counts.both),
          count(mining.counts.pairs),
          count(mining.counts.seedPairs),
          count(mining.counts.satRecords),
        ],
      ],
    });
    blocks.push({ kind: 'paragraph', text: `Detectors: ${mining.detectors.join(', ')}.` });
    const categories = topEntries(mining.byCategory, 18);
    if (categories.length > 0) {
      blocks.push({
        kind: 'chart',
        chart: {
          id: `signal-categories${suffix}`,
          title: 'Signals per category',
          svg: barChart({
            id: `signal-categories${suffix}`,
            title: 'Signals per category',
            yLabel: 'turns',
            categories: categories.map(([name]) => name),
            series: [{ name: 'turns', values: categories.map(([, value]) => value) }],
          }),
        },
      });
    }
  }
  const manifest = source.manifest;
  if (manifest) {
    blocks.push({
      kind: 'facts',
      items: [
        ['pair set', `${manifest.id}, frozen ${manifest.createdAt}`],
        ['pairs', `${count(manifest.counts.pairs)} (${count(manifest.counts.seedPairs)} seed pairs with a SAT answer)`],
        ['curation', describeCounts(manifest.counts.byStatus)],
        ['filter', JSON.stringify(manifest.filter)],
        ['checksum', `sha256 ${manifest.checksum}`],
      ],
    });
    const categories = topEntries(manifest.counts.byCategory, 18);
    if (categories.length > 0) {
      blocks.push({
        kind: 'chart',
        chart: {
          id: `curated-categories${suffix}`,
          title: 'Curated pairs per DSAT category',
          svg: barChart({
            id: `curated-categories${suffix}`,
            title: 'Curated pairs per DSAT category',
            yLabel: 'pairs',
            categories: categories.map(([name]) => name),
            series: [{ name: 'pairs', values: categories.map(([, value]) => value) }],
          }),
        },
      });
    }
  }
  return blocks;
}

/* ------------------------------------------------------------------ configuration */

function flatten(value: unknown, prefix: string, into: Map<string, string>): void {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [key, inner] of Object.entries(value)) flatten(inner, prefix ? `${prefix}.${key}` : key, into);
    return;
  }
  into.set(prefix, typeof value === 'string' ? value : JSON.stringify(value));
}

function configurationSection(data: ReportData): Section {
  const flattened = data.runs.map((run) => {
    const values = new Map<string, string>();
    if (run.config) flatten(run.config, '', values);
    return values;
  });
  const keys = [...new Set(flattened.flatMap((values) => [...values.keys()]))];
  if (keys.length === 0) {
    return {
      id: 'configuration',
      title: 'Configuration',
      blocks: [{ kind: 'paragraph', text: 'No run configuration could be read (run.json is missing or damaged).' }],
    };
  }
  const compare = data.runs.length > 1;
  const rows = keys.map((key) => {
    const cells = flattened.map((values) => values.get(key) ?? '–');
    const differs = compare && new Set(cells).size > 1;
    return [differs ? `${key} *` : key, ...cells];
  });
  const blocks: Block[] = [
    {
      kind: 'table',
      columns: ['setting', ...data.runs.map((run) => run.name)],
      rows,
    },
  ];
  if (compare) blocks.push({ kind: 'paragraph', text: 'Settings marked * differ between the runs.' });
  return { id: 'configuration', title: 'Configuration', blocks };
}

/* ------------------------------------------------------------------ training */

const CURVES: { key: keyof RunMetricRow; title: string; label: string }[] = [
  { key: 'loss', title: 'Loss', label: 'loss' },
  { key: 'rewards/margins', title: 'Reward margin (chosen − rejected)', label: 'rewards/margins' },
  { key: 'rewards/accuracies', title: 'Reward accuracy', label: 'rewards/accuracies' },
  { key: 'kl', title: 'KL to the reference (mean log-ratio per token)', label: 'kl' },
];

/** Where each iteration's first step is, as chart markers. */
function iterationMarkers(run: ReportRun): XMarker[] {
  const markers: XMarker[] = [];
  let current = -1;
  for (const row of run.metrics) {
    if (row.type !== 'train' || row.iteration === current) continue;
    current = row.iteration;
    markers.push({ x: row.step, label: current === 0 ? 'seed' : `iter ${current}` });
  }
  return markers;
}

/**
 * How run `index` is drawn in the training curves: one palette colour per run (its training and
 * held-out lines share it); once the palette repeats, other dash patterns tell the runs apart.
 */
export function runLineStyle(index: number): { color: string; train: string | null; heldOut: string } {
  const first = index < PALETTE.length;
  return { color: colorOf(index), train: first ? null : '1 3', heldOut: first ? '5 3' : '8 3 2 3' };
}

function trainingSection(data: ReportData): Section {
  const blocks: Block[] = [];
  const compare = data.runs.length > 1;
  if (data.runs.every((run) => run.metrics.length === 0)) {
    blocks.push({ kind: 'paragraph', text: 'No metrics were recorded yet (metrics.jsonl is empty or missing).' });
    return { id: 'training', title: 'Training curves', blocks };
  }
  blocks.push({
    kind: 'paragraph',
    text: `Metric names follow TRL’s DPOTrainer. ${compare ? 'Each run has its colour; s' : 'S'}olid lines: training steps; dashed lines: the held-out split${data.runs.length > PALETTE.length ? `; runs after the ${PALETTE.length}th reuse the colours with dotted (training) and dash-dot (held-out) lines` : ''}. Dotted verticals mark where each phase (seed warm start, iteration k) starts${compare ? ` in ${data.runs[0]?.name ?? 'the first run'}` : ''}.`,
  });
  for (const curve of CURVES) {
    const series: LineSeries[] = [];
    data.runs.forEach((run, index) => {
      const train = run.metrics.filter((row) => row.type === 'train');
      const evaluation = run.metrics.filter((row) => row.type === 'eval');
      const prefix = compare ? `${run.name} ` : '';
      const style = runLineStyle(index);
      series.push({
        name: `${prefix}train`,
        points: train.map((row) => ({ x: row.step, y: Number(row[curve.key]) })),
        color: style.color,
        ...(style.train ? { dash: style.train } : {}),
      });
      if (evaluation.length > 0) {
        series.push({
          name: `${prefix}held out`,
          points: evaluation.map((row) => ({ x: row.step, y: Number(row[curve.key]) })),
          color: style.color,
          dash: style.heldOut,
        });
      }
    });
    const id = `curve-${String(curve.key).replace(/[^a-z]+/g, '-')}`;
    blocks.push({
      kind: 'chart',
      chart: {
        id,
        title: curve.title,
        svg: lineChart({
          id,
          title: curve.title,
          xLabel: 'optimizer step',
          yLabel: curve.label,
          series,
          markers: data.runs[0] ? iterationMarkers(data.runs[0]) : [],
        }),
      },
    });
  }
  const weights = data.runs
    .map((run) => ({ run, row: run.metrics.filter((row) => row.type === 'train').at(-1) }))
    .filter((item): item is { run: ReportRun; row: RunMetricRow } => item.row !== undefined);
  if (weights.length > 0) {
    blocks.push({
      kind: 'chart',
      chart: {
        id: 'gradient-weights',
        title: 'DPO gradient weights σ(−s) at the last training step',
        caption:
          'Each pair’s weight in the DPO gradient; mass near 0 means the batch is already separated, near 1 that it is not.',
        svg: histogram({
          id: 'gradient-weights',
          title: 'DPO gradient weights σ(−s) at the last training step',
          xLabel: 'σ(−s)',
          yLabel: 'pairs',
          series: weights.map(({ run, row }) => ({
            name: run.name,
            bins: row.gradientWeight.histogram.map((value, bin) => ({
              lower: bin / 10,
              upper: (bin + 1) / 10,
              count: value,
            })),
          })),
        }),
      },
    });
  }
  const rows = data.runs.flatMap((run) => {
    const byIteration = new Map<number, RunMetricRow>();
    for (const row of run.metrics) if (row.type === 'eval') byIteration.set(row.iteration, row);
    return [...byIteration.values()].map((row) => [
      run.name,
      row.iteration === 0 ? '0 (seed)' : String(row.iteration),
      count(row.step),
      number(row.loss),
      percent(row['rewards/accuracies']),
      number(row['rewards/margins']),
      number(row['rewards/chosen']),
      number(row['rewards/rejected']),
      number(row.kl),
    ]);
  });
  if (rows.length > 0) {
    blocks.push({
      kind: 'table',
      caption: 'Held-out metrics at the end of each phase',
      columns: ['run', 'iteration', 'step', 'loss', 'accuracy', 'margin', 'chosen', 'rejected', 'KL'],
      numeric: [false, false, true, true, true, true, true, true, true],
      rows,
    });
  }
  return { id: 'training', title: 'Training curves', blocks };
}

/* ------------------------------------------------------------------ evaluation */

/** The rectangles of `cells` (indices into the density grid) in map coordinates. */
function gridCells(
  map: NonNullable<EvaluationResult['map']>,
  cells: number[],
  value?: (index: number) => number,
): (Rectangle & { value: number })[] {
  const { xMin, xMax, yMin, yMax } = map.bounds;
  const width = (xMax - xMin) / map.gridSize;
  const height = (yMax - yMin) / map.gridSize;
  return cells.map((index) => {
    const column = index % map.gridSize;
    const row = Math.floor(index / map.gridSize);
    return {
      x0: xMin + column * width,
      x1: xMin + (column + 1) * width,
      y0: yMin + row * height,
      y1: yMin + (row + 1) * height,
      value: value ? value(index) : 1,
    };
  });
}

function evaluationSection(evaluation: EvaluationResult): Section {
  const blocks: Block[] = [];
  const settings = evaluation.settings;
  const labels = evaluation.checkpoints.map((checkpoint) => checkpoint.label);
  const confidence = `${Math.round(settings.winRate.confidence * 100)} %`;
  blocks.push({
    kind: 'facts',
    items: [
      ['prompts', `${count(evaluation.prompts.length)} × ${settings.samples} samples per checkpoint`],
      [
        'sampling',
        `temperature ${settings.sampling.temperature}, top-p ${settings.sampling.topP}, top-k ${settings.sampling.topK}, up to ${settings.sampling.maxNewTokens} new tokens`,
      ],
      [
        'high reward',
        `reward ≥ ${number(evaluation.highRewardThreshold)} (${settings.highReward.kind === 'quantile' ? `the ${settings.highReward.quantile} quantile of all rewards pooled` : 'a fixed threshold'})`,
      ],
      [
        'win rates',
        `${settings.winRate.bootstrapSamples} bootstrap resamples of prompts, ${confidence} intervals, ties within ${settings.winRate.tieMargin}`,
      ],
      [
        'embedding',
        settings.embedding.kind === 'hashed'
          ? `hashed character ${settings.embedding.ngram}-grams (${settings.embedding.dimensions} dimensions)`
          : 'model hidden states',
      ],
      ['seed', String(settings.seed)],
    ],
  });

  blocks.push({ kind: 'subheading', text: 'Rewards' });
  blocks.push({
    kind: 'table',
    columns: ['checkpoint', 'samples', 'mean', '95 % CI of the mean', 'std', 'p10', 'median', 'p90', 'high-reward'],
    numeric: [false, true, true, true, true, true, true, true, true],
    rows: evaluation.checkpoints.map((checkpoint) => {
      const rewards = checkpoint.rewards;
      const [low, high] = meanInterval(rewards.mean, rewards.std, rewards.count);
      return [
        checkpoint.label,
        count(rewards.count),
        number(rewards.mean),
        interval(low, high),
        number(rewards.std),
        number(rewards.p10),
        number(rewards.median),
        number(rewards.p90),
        count(checkpoint.highRewardCount),
      ];
    }),
  });
  blocks.push({
    kind: 'chart',
    chart: {
      id: 'reward-means',
      title: 'Mean reward per checkpoint',
      caption:
        'Error bars: 95 % normal-approximation interval of the mean (samples of one prompt are treated as independent).',
      svg: barChart({
        id: 'reward-means',
        title: 'Mean reward per checkpoint',
        yLabel: 'reward',
        categories: labels,
        series: [
          {
            name: 'mean reward',
            values: evaluation.checkpoints.map((checkpoint) => checkpoint.rewards.mean),
            intervals: evaluation.checkpoints.map((checkpoint) =>
              meanInterval(checkpoint.rewards.mean, checkpoint.rewards.std, checkpoint.rewards.count),
            ),
          },
        ],
      }),
    },
  });
  const edges = evaluation.histogramEdges;
  if (edges.length > 1) {
    blocks.push({
      kind: 'chart',
      chart: {
        id: 'reward-histogram',
        title: 'Reward distribution per checkpoint',
        svg: histogram({
          id: 'reward-histogram',
          title: 'Reward distribution per checkpoint',
          xLabel: 'reward',
          yLabel: 'samples',
          series: evaluation.checkpoints.map((checkpoint) => ({
            name: checkpoint.label,
            bins: checkpoint.histogram.slice(0, edges.length - 1).map((value, bin) => ({
              lower: edges[bin]!,
              upper: edges[bin + 1]!,
              count: value,
            })),
          })),
        }),
      },
    });
  }

  const gold = evaluation.checkpoints.filter((checkpoint) => checkpoint.gold !== null);
  if (gold.length > 0) {
    blocks.push({ kind: 'subheading', text: 'Gold success' });
    blocks.push({
      kind: 'chart',
      chart: {
        id: 'gold-success',
        title: 'Gold success rate per checkpoint',
        caption: 'Error bars: 95 % Wilson interval over samples (samples of one prompt are treated as independent).',
        svg: barChart({
          id: 'gold-success',
          title: 'Gold success rate per checkpoint',
          yLabel: 'success rate',
          categories: gold.map((checkpoint) => checkpoint.label),
          series: [
            {
              name: 'success rate',
              values: gold.map((checkpoint) => checkpoint.gold!.successRate),
              intervals: gold.map((checkpoint) =>
                wilsonInterval(checkpoint.gold!.successRate, checkpoint.rewards.count),
              ),
            },
          ],
        }),
      },
    });
    blocks.push({
      kind: 'table',
      columns: ['checkpoint', 'success rate', '95 % Wilson interval', 'mean gold score'],
      numeric: [false, true, true, true],
      rows: gold.map((checkpoint) => {
        const [low, high] = wilsonInterval(checkpoint.gold!.successRate, checkpoint.rewards.count);
        return [
          checkpoint.label,
          percent(checkpoint.gold!.successRate),
          interval(low, high, percent),
          number(checkpoint.gold!.mean),
        ];
      }),
    });
    const byGroup = goldByGroupTable(gold);
    if (byGroup) blocks.push(byGroup);
  }

  if (evaluation.winRates.length > 0) {
    blocks.push({ kind: 'subheading', text: 'Win rates' });
    blocks.push({
      kind: 'table',
      caption: `Sample k of a prompt against the opponent’s sample k; ties count half; ${confidence} bootstrap intervals over prompts.`,
      columns: [
        'checkpoint',
        'against',
        'wins',
        'ties',
        'losses',
        'win rate',
        'interval',
        'length-controlled',
        'LC interval',
      ],
      numeric: [false, false, true, true, true, true, true, true, true],
      rows: evaluation.winRates.map((rate) => [
        labels[rate.checkpoint] ?? String(rate.checkpoint),
        labels[rate.opponent] ?? String(rate.opponent),
        count(rate.wins),
        count(rate.ties),
        count(rate.losses),
        percent(rate.winRate),
        interval(rate.interval.low, rate.interval.high, percent),
        percent(rate.lengthControlled.winRate),
        interval(rate.lengthControlled.interval.low, rate.lengthControlled.interval.high, percent),
      ]),
    });
    const rates = evaluation.winRates.filter((rate) => rate.checkpoint !== rate.opponent);
    blocks.push({
      kind: 'chart',
      chart: {
        id: 'win-rates',
        title: 'Win rates with bootstrap intervals',
        svg: barChart({
          id: 'win-rates',
          title: 'Win rates with bootstrap intervals',
          yLabel: 'win rate',
          categories: rates.map(
            (rate) => `${labels[rate.checkpoint] ?? rate.checkpoint} vs ${labels[rate.opponent] ?? rate.opponent}`,
          ),
          series: [
            {
              name: 'win rate',
              values: rates.map((rate) => rate.winRate),
              intervals: rates.map((rate) => [rate.interval.low, rate.interval.high]),
            },
            {
              name: 'length-controlled',
              values: rates.map((rate) => rate.lengthControlled.winRate),
              intervals: rates.map((rate) => [rate.lengthControlled.interval.low, rate.lengthControlled.interval.high]),
            },
          ],
          reference: { y: 0.5, label: '50 %' },
        }),
      },
    });
  }

  blocks.push({ kind: 'subheading', text: 'Diversity of high-reward outputs' });
  blocks.push({
    kind: 'table',
    columns: [
      'checkpoint',
      'outputs read',
      'distinct-1',
      'distinct-2',
      'self-BLEU (lower: more diverse)',
      'mean cosine distance',
      'Vendi score',
    ],
    numeric: [false, true, true, true, true, true, true],
    rows: evaluation.checkpoints.map((checkpoint) => [
      checkpoint.label,
      count(checkpoint.diversity.count),
      number(checkpoint.diversity.distinct1),
      number(checkpoint.diversity.distinct2),
      number(checkpoint.diversity.selfBleu),
      number(checkpoint.diversity.meanCosineDistance),
      number(checkpoint.diversity.vendiScore),
    ]),
  });
  const metrics = [
    ['distinct-1', 'distinct1'],
    ['distinct-2', 'distinct2'],
    ['self-BLEU', 'selfBleu'],
    ['cosine distance', 'meanCosineDistance'],
  ] as const;
  blocks.push({
    kind: 'chart',
    chart: {
      id: 'diversity',
      title: 'Diversity of high-reward outputs',
      svg: barChart({
        id: 'diversity',
        title: 'Diversity of high-reward outputs',
        yLabel: 'value',
        categories: metrics.map(([label]) => label),
        series: evaluation.checkpoints.map((checkpoint) => ({
          name: checkpoint.label,
          values: metrics.map(([, key]) => checkpoint.diversity[key]),
        })),
      }),
    },
  });
  blocks.push({
    kind: 'chart',
    chart: {
      id: 'vendi',
      title: 'Vendi score of high-reward outputs',
      caption: 'The effective number of distinct outputs (Friedman and Dieng 2023).',
      svg: barChart({
        id: 'vendi',
        title: 'Vendi score of high-reward outputs',
        yLabel: 'Vendi score',
        categories: labels,
        series: [
          { name: 'Vendi score', values: evaluation.checkpoints.map((checkpoint) => checkpoint.diversity.vendiScore) },
        ],
      }),
    },
  });

  const map = evaluation.map;
  if (map) {
    blocks.push({ kind: 'subheading', text: '2-D map of outputs' });
    const peak = Math.max(0, ...map.density);
    const densityCells = map.density
      .map((value, index) => ({ value, index }))
      .filter((cell) => cell.value > 0 && peak > 0)
      .map((cell) => cell.index);
    blocks.push({
      kind: 'chart',
      chart: {
        id: 'map',
        title: 'Outputs projected to 2-D, with the high-reward region',
        caption: `Each point is one sampled output (${map.projection.toUpperCase()} of ${map.embedding} embeddings). Grey: reward-weighted density; yellow: the high-reward region (the densest cells holding ${percent(map.regionMass)} of it).`,
        svg: scatterChart({
          id: 'map',
          title: 'Outputs projected to 2-D, with the high-reward region',
          xLabel: `${map.projection} 1`,
          yLabel: `${map.projection} 2`,
          points: map.points.map((point) => ({
            x: point.x,
            y: point.y,
            group: labels[point.checkpoint] ?? String(point.checkpoint),
          })),
          density: gridCells(map, densityCells, (index) => (map.density[index] ?? 0) / peak),
          regions: gridCells(map, map.region),
          regionLabel: 'high-reward region',
        }),
      },
    });
    blocks.push({
      kind: 'table',
      caption: 'Each checkpoint’s part in the high-reward region',
      columns: ['checkpoint', 'high-reward outputs', 'share in the region', 'coverage of the region'],
      numeric: [false, true, true, true],
      rows: map.shares.map((share) => [
        labels[share.checkpoint] ?? String(share.checkpoint),
        count(share.highRewardPoints),
        percent(share.pointShare),
        percent(share.coverage),
      ]),
    });
  }
  return { id: 'evaluation', title: 'Evaluation', blocks };
}

/* ------------------------------------------------------------------ examples */

function examplesSection(data: ReportData): Section {
  const blocks: Block[] = [];
  for (const run of data.runs) {
    if (run.examplePairs.length === 0) continue;
    blocks.push({ kind: 'subheading', text: `Training pairs of ${run.name}` });
    blocks.push({
      kind: 'paragraph',
      text: 'The first pairs of each iteration, in file order (not selected). Iteration 0 holds the seed pairs (DSAT answer vs the answer that later drew SAT).',
    });
    for (const { iteration, pair } of run.examplePairs) {
      const chosenLabel =
        iteration === 0
          ? 'chosen (answer that drew SAT)'
          : run.method === 'drift'
            ? `chosen (policy sample, iteration ${iteration})`
            : 'chosen';
      const rejectedLabel =
        run.method === 'spin' && iteration > 0
          ? `rejected (policy sample, iteration ${iteration})`
          : run.method === 'iterdpo' && iteration > 0
            ? 'rejected (judge’s worst)'
            : 'rejected (logged DSAT answer)';
      blocks.push({
        kind: 'example',
        title: `Iteration ${iteration} · ${pair.split} · pair ${pair.id}`,
        context: pair.prompt.slice(-3).map((turn) => ({ label: turn.role, text: turn.content })),
        left: { label: rejectedLabel, text: pair.rejected[0]?.content ?? '' },
        right: { label: chosenLabel, text: pair.chosen[0]?.content ?? '' },
      });
    }
  }
  for (const run of data.runs) {
    if (run.beforeAfter.length === 0) continue;
    blocks.push({ kind: 'subheading', text: `Generations of ${run.name}: first vs last iteration` });
    for (const { sourceId, before, after } of run.beforeAfter) {
      blocks.push({
        kind: 'example',
        title: `Source ${sourceId}`,
        context: [{ label: 'prompt', text: after.prompt }],
        left: {
          label: `iteration ${before.iteration} (${before.role}, ${before.finishReason})`,
          text: before.completion,
        },
        right: { label: `iteration ${after.iteration} (${after.role}, ${after.finishReason})`, text: after.completion },
      });
    }
  }
  const evaluation = data.evaluation;
  const first = evaluation?.checkpoints[0];
  const last = evaluation?.checkpoints.at(-1);
  if (evaluation && first && last && first !== last) {
    blocks.push({ kind: 'subheading', text: `Evaluation outputs: ${first.label} vs ${last.label}` });
    blocks.push({ kind: 'paragraph', text: 'Sample 0 of the first three prompts (not selected by reward).' });
    for (let prompt = 0; prompt < Math.min(3, evaluation.prompts.length); prompt++) {
      const before = first.samples.find((sample) => sample.prompt === prompt && sample.sample === 0);
      const after = last.samples.find((sample) => sample.prompt === prompt && sample.sample === 0);
      if (!before || !after) continue;
      const describe = (sample: typeof before) =>
        `reward ${number(sample.reward)}${sample.gold === null ? '' : `, gold ${number(sample.gold)}`}${sample.highReward ? ', high-reward' : ''}`;
      blocks.push({
        kind: 'example',
        title: `Prompt ${prompt + 1}`,
        context: (evaluation.prompts[prompt] ?? [])
          .slice(-3)
          .map((message) => ({ label: message.role, text: message.content })),
        left: { label: `${first.label} (${describe(before)})`, text: before.text },
        right: { label: `${last.label} (${describe(after)})`, text: after.text },
      });
    }
  }
  if (blocks.length === 0) blocks.push({ kind: 'paragraph', text: 'The runs have no pairs or samples to show yet.' });
  return { id: 'examples', title: 'Examples', blocks };
}

/* ------------------------------------------------------------------ environment */

function environmentSection(data: ReportData): Section {
  const blocks: Block[] = [];
  for (const run of data.runs) {
    const items: [string, string][] = Object.entries(run.environment).sort((a, b) => a[0].localeCompare(b[0]));
    if (run.config) items.push(['seed', String(run.config.seed)]);
    if (run.createdAt) items.push(['created', run.createdAt]);
    if (run.updatedAt) items.push(['updated', run.updatedAt]);
    items.push(['folder', run.folder]);
    if (run.error) items.push(['error', run.error]);
    blocks.push({ kind: 'subheading', text: `Run ${run.name}` }, { kind: 'facts', items });
  }
  const report: [string, string][] = [
    ['report id', data.id],
    ['built by', `${data.generator.name} ${data.generator.version}`],
    ['Node.js', data.generator.node],
    ['platform', data.generator.platform],
  ];
  if (data.evaluationFile) report.push(['evaluation file', data.evaluationFile]);
  if (data.evaluation) report.push(['evaluation seed', String(data.evaluation.settings.seed)]);
  blocks.push({ kind: 'subheading', text: 'This report' }, { kind: 'facts', items: report });
  return { id: 'environment', title: 'Environment', blocks };
}
