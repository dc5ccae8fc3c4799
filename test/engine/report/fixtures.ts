/**
 * A tiny workspace on disk for the report tests: a DRIFT run folder (run.json, metrics.jsonl,
 * samples.jsonl, iter-<k>/pairs.jsonl), its pair set manifest, its dataset's import and mining
 * reports, and an EvaluationResult file. Texts carry a hostile string so the tests can check
 * that nothing in a report turns user text into markup.
 */
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  EvaluationResult,
  EvaluationSettings,
  ImportReport,
  MiningReport,
  PairSetManifest,
  RunConfig,
  RunDetail,
  RunMetricRow,
  RunPairRow,
  RunSampleRow,
} from '../../../src-main/api/index.js';

/** Closes an SVG, a pre and opens a script; quotes, ampersands, a control character, Markdown syntax. */
export const HOSTILE = `</svg></pre></div><script>window.__pwned = 1</script><img src=x onerror="window.__pwned=2"> ' " & \u0001 \`\`\` | # *bold* [link](https://example.com)`;

export interface FixtureWorkspace {
  dir: string;
  evaluationFile: string;
}

async function writeJson(file: string, value: unknown): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, `${JSON.stringify(value, null, 2)}\n`);
}

async function writeJsonl(file: string, rows: unknown[]): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, rows.map((row) => `${JSON.stringify(row)}\n`).join(''));
}

function metricRow(type: 'train' | 'eval', iteration: number, step: number): RunMetricRow {
  const progress = step / 15;
  return RunMetricRow.parse({
    type,
    iteration,
    step,
    epoch: progress,
    loss: 0.69 - 0.3 * progress + (type === 'eval' ? 0.02 : 0),
    'rewards/chosen': 0.1 * progress,
    'rewards/rejected': -0.2 * progress,
    'rewards/margins': 0.3 * progress,
    'rewards/accuracies': 0.5 + 0.4 * progress,
    'logps/chosen': -40 + 5 * progress,
    'logps/rejected': -42 - 5 * progress,
    kl: 0.01 * step,
    grad_norm: 1.5 - progress,
    learning_rate: 5e-5,
    gradientWeight: { mean: 0.5, p10: 0.3, p50: 0.5, p90: 0.7, histogram: [0, 1, 2, 3, 4, 4, 3, 2, 1, 0] },
    seconds: step * 0.4,
    time: new Date(Date.UTC(2025, 0, 1, 0, 0, step)).toISOString(),
  });
}

/** Writes run `id` (method drift, 2 iterations after a seed warm start) into `workspaceDir`. */
export async function writeRun(workspaceDir: string, id: string, options: { name?: string; beta?: number } = {}) {
  const folder = path.join(workspaceDir, 'runs', id);
  const config = RunConfig.parse({
    name: options.name ?? `${id} ${HOSTILE}`,
    method: 'drift',
    baseModelId: 'base-model',
    pairSet: 'demo@v1',
    iterations: 2,
    hyperparameters: { beta: options.beta ?? 0.1 },
  });
  const metrics: RunMetricRow[] = [];
  let step = 0;
  for (const iteration of [0, 1, 2]) {
    for (let index = 0; index < 5; index++) metrics.push(metricRow('train', iteration, ++step));
    metrics.push(metricRow('eval', iteration, step));
  }
  const detail = RunDetail.parse({
    id,
    config,
    status: 'succeeded',
    jobId: null,
    createdAt: '2025-01-01T00:00:00.000Z',
    updatedAt: '2025-01-01T00:10:00.000Z',
    position: { iteration: 2, phase: 'done', step },
    iterations: [0, 1, 2].map((iteration) => ({
      iteration,
      pairs: 4,
      trainPairs: 3,
      testPairs: 1,
      steps: 5,
      modelId: `${id}-iter-${iteration}`,
      eval: { loss: 0.5, 'rewards/accuracies': 0.75 },
      finishedAt: '2025-01-01T00:05:00.000Z',
    })),
    notes: ['learning rate 5e-5 instead of the paper’s 5e-7 (small model)'],
    environment: { backend: 'wasm', tfjs: '4.22.0', engine: '0.1.0', node: process.versions.node },
    error: null,
  });
  await writeJson(path.join(folder, 'run.json'), detail);
  await writeJsonl(path.join(folder, 'metrics.jsonl'), metrics);
  for (const iteration of [0, 1, 2]) {
    const pairs = [0, 1, 2, 3].map((index) =>
      RunPairRow.parse({
        id: `pair-${iteration}-${index}`,
        sourceId: `source-${index}`,
        split: index === 0 ? 'test' : 'train',
        prompt: [
          { role: 'system', content: 'You are a helpful assistant.' },
          { role: 'user', content: `Question ${index}: ${HOSTILE}` },
        ],
        chosen: [{ role: 'assistant', content: `Chosen answer ${iteration}.${index} ${HOSTILE}` }],
        rejected: [{ role: 'assistant', content: `Rejected answer ${index} ${HOSTILE}` }],
      }),
    );
    await writeJsonl(path.join(folder, `iter-${iteration}`, 'pairs.jsonl'), pairs);
  }
  const samples: RunSampleRow[] = [];
  for (const iteration of [1, 2]) {
    for (const index of [0, 1, 2]) {
      samples.push(
        RunSampleRow.parse({
          iteration,
          sourceId: `source-${index}`,
          role: 'chosen',
          prompt: `Guided prompt ${index} ${HOSTILE}`,
          completion: `Sample of iteration ${iteration} for ${index} ${HOSTILE}`,
          finishReason: index === 2 ? 'length' : 'eos',
          score: null,
        }),
      );
    }
  }
  await writeJsonl(path.join(folder, 'samples.jsonl'), samples);
  return detail;
}

export async function writeDataSources(workspaceDir: string): Promise<void> {
  const time = '2025-01-01T00:00:00.000Z';
  await writeJson(
    path.join(workspaceDir, 'pairsets', 'demo', 'v1', 'manifest.json'),
    PairSetManifest.parse({
      id: 'demo@v1',
      name: 'demo',
      version: 1,
      datasetId: 'logs',
      filter: { statuses: ['accepted'] },
      createdAt: time,
      checksum: 'a'.repeat(64),
      counts: {
        pairs: 12,
        seedPairs: 4,
        byCategory: { revision: 5, factual_error: 4, [`style ${HOSTILE}`]: 3 },
        byStatus: { accepted: 12 },
      },
      pairIds: [],
    }),
  );
  await writeJson(
    path.join(workspaceDir, 'datasets', 'logs', 'import-report.json'),
    ImportReport.parse({
      datasetId: 'logs',
      name: `Support logs ${HOSTILE}`,
      format: 'wildfeedback',
      formats: { wildfeedback: 40 },
      mapping: null,
      redacted: true,
      files: [
        {
          path: '/data/logs.jsonl',
          relative: 'logs.jsonl',
          container: 'jsonl',
          gzip: false,
          bytes: 12345,
          format: 'wildfeedback',
          rows: 42,
          conversations: 40,
          rejected: 2,
        },
      ],
      counts: {
        files: 1,
        rows: 42,
        conversations: 40,
        messages: 160,
        rejected: 2,
        duplicates: 1,
        blankLines: 0,
        bytes: 12345,
      },
      pii: { conversations: 3, counts: { email: 3 } },
      languages: { en: 38, de: 2 },
      duplicates: { count: 1, examples: [] },
      errors: [],
      errorCounts: { json_invalid: 2 },
      errorsTruncated: false,
      startedAt: time,
      finishedAt: time,
      durationMs: 120,
    }),
  );
  await writeJson(
    path.join(workspaceDir, 'datasets', 'logs', 'mining-report.json'),
    MiningReport.parse({
      datasetId: 'logs',
      params: {},
      detectors: ['labels', 'rules'],
      classifierId: null,
      counts: {
        conversations: 40,
        judgedTurns: 80,
        dsat: 17,
        sat: 21,
        both: 1,
        signals: 39,
        pairs: 16,
        seedPairs: 5,
        satRecords: 20,
        conversationsWithDsat: 15,
        unreadable: 0,
      },
      byCategory: { revision: 7, factual_error: 6, gratitude: 12, style: 4 },
      byDetector: {},
      pairsBySource: { mined: 16 },
      pairsByLanguage: { en: 16 },
      labelledTurns: 0,
      agreement: [],
      startedAt: time,
      finishedAt: time,
      durationMs: 80,
    }),
  );
}

/** An evaluation of three checkpoints over four prompts × two samples, with a 4 × 4 map. */
export function evaluationResult(): EvaluationResult {
  const labels = ['base', 'iter-1', `iter-2 ${HOSTILE}`];
  const prompts = [0, 1, 2, 3].map((index) => [{ role: 'user', content: `Eval prompt ${index} ${HOSTILE}` }]);
  const checkpoints = labels.map((label, checkpoint) => ({
    label,
    folder: `/models/${checkpoint}`,
    rewards: {
      count: 8,
      mean: 0.3 + 0.2 * checkpoint,
      std: 0.1,
      min: 0.1,
      p10: 0.15,
      p25: 0.2,
      median: 0.3 + 0.2 * checkpoint,
      p75: 0.6,
      p90: 0.7,
      max: 0.9,
    },
    histogram: [3 - checkpoint, 2, 2, 1 + checkpoint],
    gold: {
      mean: 0.25 + 0.25 * checkpoint,
      successRate: 0.25 + 0.25 * checkpoint,
      byGroup: [
        { group: 'arithmetic', samples: 4, successes: checkpoint + 1 },
        { group: `capital ${HOSTILE}`, samples: 4, successes: checkpoint + 1 },
      ],
    },
    highRewardCount: 2 + checkpoint,
    diversity: {
      count: 2 + checkpoint,
      distinct1: 0.5 + 0.1 * checkpoint,
      distinct2: 0.7,
      selfBleu: 0.3,
      meanCosineDistance: 0.4,
      vendiScore: 1.5 + checkpoint,
    },
    samples: [0, 1, 2, 3].flatMap((prompt) =>
      [0, 1].map((sample) => ({
        prompt,
        sample,
        text: `Checkpoint ${checkpoint} answer ${prompt}.${sample} ${HOSTILE}`,
        reward: 0.3 + 0.2 * checkpoint,
        gold: checkpoint > 0 ? 1 : 0,
        highReward: checkpoint === 2,
        finishReason: 'eos' as const,
        tokens: 12,
      })),
    ),
  }));
  const density = Array.from({ length: 16 }, (_, index) => (index === 5 || index === 6 ? 0.25 : 0.5 / 14));
  return EvaluationResult.parse({
    version: 1,
    settings: EvaluationSettings.parse({ samples: 2, seed: 7 }),
    prompts,
    highRewardThreshold: 0.6,
    histogramEdges: [0, 0.25, 0.5, 0.75, 1],
    checkpoints,
    winRates: [1, 2].map((checkpoint) => ({
      checkpoint,
      opponent: 0,
      wins: 5 + checkpoint,
      ties: 1,
      losses: 2 - (checkpoint - 1),
      winRate: 0.6 + 0.1 * checkpoint,
      interval: { low: 0.41 + 0.1 * checkpoint, high: 0.83 + 0.05 * checkpoint },
      lengthControlled: {
        winRate: 0.55 + 0.1 * checkpoint,
        interval: { low: 0.35, high: 0.8 },
        lengthCoefficient: 0.2,
      },
    })),
    map: {
      projection: 'umap',
      embedding: 'hashed',
      bounds: { xMin: -2, xMax: 2, yMin: -1, yMax: 3 },
      gridSize: 4,
      bandwidth: 0.5,
      density,
      region: [5, 6],
      regionMass: 0.5,
      points: [0, 1, 2].flatMap((checkpoint) =>
        [0, 1, 2, 3].map((prompt) => ({
          checkpoint,
          prompt,
          sample: 0,
          x: -1.5 + prompt + 0.2 * checkpoint,
          y: -0.5 + checkpoint + 0.3 * prompt,
          reward: 0.3 + 0.2 * checkpoint,
          highReward: checkpoint === 2,
        })),
      ),
      shares: [0, 1, 2].map((checkpoint) => ({
        checkpoint,
        highRewardPoints: checkpoint,
        pointShare: checkpoint / 3,
        coverage: 0.2 * checkpoint,
      })),
    },
    seconds: 3.5,
  });
}

/** A fresh workspace folder with run `run-a` (and optionally `run-b`), the data sources and an evaluation file. */
export async function createFixtureWorkspace(options: { secondRun?: boolean } = {}): Promise<FixtureWorkspace> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'drift-report-'));
  await writeRun(dir, 'run-a');
  if (options.secondRun) await writeRun(dir, 'run-b', { name: 'run-b', beta: 0.3 });
  await writeDataSources(dir);
  const evaluationFile = path.join(dir, 'evaluation.json');
  await writeJson(evaluationFile, evaluationResult());
  return { dir, evaluationFile };
}
