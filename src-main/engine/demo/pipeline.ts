/**
 * The embedded demo (issue 9): on a fresh workspace, the whole DRIFT story end to end with what
 * ships in resources/demo — the simulated deployment's logs (WildChat-style JSONL) and the base
 * model trained on the simulator's conversations (scripts/demo/build-base-model.ts).
 *
 *   import the logs → mine SAT/DSAT signals → freeze a pair set → import the base model
 *   → DRIFT (seed warm start + K iterations), IterDPO and SPIN, for each seed
 *   → evaluate every checkpoint on held-out simulated tasks with the gold checker
 *     (success rate, reward, win rate with intervals, diversity of high-reward outputs)
 *   → a report comparing the runs.
 *
 * Every step is an engine job or channel (the same ones the UI and the CLI use), so the demo is
 * also the project's end-to-end test. It runs on the host side (it needs the catalog), given the
 * engine's handlers and runJob.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  AppFailure,
  ERROR_CODES,
  type ErrorCode,
  type EngineHandlers,
  type EvalRunParams,
  type EvalRunResult,
  type Job,
  type JobKind,
  type PairSetEntry,
  type PreferenceHyperparameters,
  type PreferenceMethod,
  type RunConfigInput,
  type RunTrainResult,
} from '../../api/index.js';
import { readResult } from '../evaluations/store.js';
import { heldOutTasks } from '../sim/index.js';
import { checkRunPairs, formFailuresByCheckpoint, type PairCheck } from './pair-checks.js';

/** The part of the engine the demo drives. */
export interface DemoHost {
  readonly workspaceDir: string;
  readonly handlers: EngineHandlers;
  runJob(
    kind: JobKind,
    params: Record<string, unknown>,
    options?: { onUpdate?: (job: Job) => void; signal?: AbortSignal },
  ): Promise<Job>;
}

export interface DemoOptions {
  /** A short version for CI and first looks: fewer records, one iteration, DRIFT only, fewer prompts. */
  quick?: boolean;
  /** Seeds per method (the spread of DRIFT's gain across seeds is what the result is judged against). */
  seeds?: number;
  /** resources/demo (default: found next to the sources or the packaged app). */
  resourcesDir?: string;
  /** The methods to train (default: the plan's: DRIFT, IterDPO and SPIN; DRIFT only with quick). */
  methods?: PreferenceMethod[];
  /** DPO settings over the demo's (the run form's defaults, with the plan's seed epochs). */
  hyperparameters?: DemoHyperparameters;
  /** Report formats (default html, md, json; pdf when asked). */
  reportFormats?: ('html' | 'md' | 'json' | 'pdf')[];
  /** Called for every job update, with the demo's step. */
  onProgress?: (step: DemoStep, job: Job) => void;
  /** Called when a step starts. */
  onStep?: (step: DemoStep) => void;
  signal?: AbortSignal;
}

export interface DemoStep {
  /** 1-based. */
  index: number;
  total: number;
  title: string;
}

export interface DemoCheckpointResult {
  label: string;
  method: string;
  runId: string | null;
  seed: number | null;
  modelId: string;
  /** Held-out success rate from the simulator's checker. */
  success: number | null;
  meanReward: number;
  /** Win rate against the base model (null for the base). */
  winRate: number | null;
  vendiScore: number | null;
  /** Samples (of evalPrompts × evalSamples) whose answer fails on its form alone; null if unknown. */
  formFailures: number | null;
  /** Held-out success by task group ("arithmetic", "capital (answer only)", …); {} if unknown. */
  successByGroup: Record<string, { success: number; samples: number }>;
}

export interface DemoResult {
  workspace: string;
  datasetId: string;
  pairSet: string;
  baseModelId: string;
  runs: { method: PreferenceMethod; seed: number; runId: string; modelIds: string[] }[];
  evaluationId: string;
  report: { id: string; folder: string; files: string[] };
  results: Record<string, DemoCheckpointResult>;
  /** DRIFT's final held-out success per seed, against the base model. */
  drift: { base: number | null; bySeed: number[]; mean: number | null; spread: number | null; gain: number | null };
  /**
   * Each run's pairs, phase by phase, checked with the simulator's checker against the task of the
   * answer the user disliked (pair-checks.ts); {} when the ground truth cannot be read.
   */
  pairChecks: Record<string, PairCheck[]>;
  seconds: number;
}

/** The seed of the held-out tasks the demo evaluates on (the base model's README uses the same). */
const DEMO_EVAL_SEED = 7;

/** The preference settings a demo run may change: the learning rate, β and the RPO weight. */
export type DemoHyperparameters = Partial<Pick<PreferenceHyperparameters, 'learningRate' | 'beta' | 'rpoAlpha'>>;

/** The demo's shape: what the quick and the full version run. */
export interface DemoPlan {
  methods: PreferenceMethod[];
  iterations: number;
  seedEpochs: number;
  maxRecords: number;
  evalPrompts: number;
  evalSamples: number;
  projection: 'umap' | 'pca';
}

export const FULL_PLAN: DemoPlan = {
  methods: ['drift', 'iterdpo', 'spin'],
  iterations: 2,
  seedEpochs: 3,
  maxRecords: 0,
  // 3,200 samples per checkpoint: at 1,600 the sampling alone gives one checkpoint's success a
  // standard error of 1.2 points, about the spread across seeds that DRIFT's gain is judged by.
  evalPrompts: 400,
  evalSamples: 8,
  projection: 'umap',
};

export const QUICK_PLAN: DemoPlan = {
  methods: ['drift'],
  iterations: 1,
  seedEpochs: 1,
  // The first 150 pairs of the demo's set hold 2 seed pairs (the warm start needs at least one).
  maxRecords: 150,
  evalPrompts: 32,
  evalSamples: 2,
  projection: 'pca',
};

/** Where resources/demo is: next to the sources (repo) or in the packaged app's resources. */
export function defaultDemoResources(): string {
  const candidates = [
    fileURLToPath(new URL('../../../resources/demo', import.meta.url)), // src-main/engine/demo → repo
    fileURLToPath(new URL('../../resources/demo', import.meta.url)), // out/main → repo
  ];
  const packaged = (process as { resourcesPath?: string }).resourcesPath;
  if (packaged) candidates.unshift(path.join(packaged, 'demo'));
  return (
    candidates.find((candidate) => existsSync(path.join(candidate, 'base-model'))) ?? (candidates.at(-1) as string)
  );
}

/** The demo's run config for the small base model: the paper's values where they are sourced, guided sampling. */
export function demoRunConfig(
  method: PreferenceMethod,
  seed: number,
  plan: DemoPlan,
  baseModelId: string,
  pairSet: string,
  hyperparameters: DemoHyperparameters = {},
): RunConfigInput {
  return {
    name: `demo-${method}-s${seed}`,
    method,
    baseModelId,
    pairSet,
    iterations: plan.iterations,
    seedWarmStart: true,
    maxRecords: plan.maxRecords,
    seed,
    hyperparameters: { ...hyperparameters, seedEpochs: plan.seedEpochs },
    // Guided, as the paper: context, y⁻, the user's feedback and gen-drift.py's instruction, laid
    // out as turns of the model's chat template (its SFT data hold such corrections; it never saw
    // gen-drift.py's plain "User:/Assistant:" text layout).
    generation: { guided: true, guidedFormat: 'chat' },
  };
}

interface StepRunner {
  step<T>(title: string, body: () => Promise<T>): Promise<T>;
  job(kind: JobKind, params: Record<string, unknown>): Promise<unknown>;
}

function stepRunner(host: DemoHost, total: number, options: DemoOptions): StepRunner {
  let index = 0;
  let current: DemoStep = { index: 0, total, title: '' };
  return {
    async step(title, body) {
      index++;
      current = { index, total, title };
      options.onStep?.(current);
      if (options.signal?.aborted) throw new AppFailure('job_cancelled', 'The demo was cancelled.');
      return body();
    },
    async job(kind, params) {
      const job = await host.runJob(kind, params, {
        onUpdate: (update) => options.onProgress?.(current, update),
        ...(options.signal ? { signal: options.signal } : {}),
      });
      if (job.status === 'cancelled')
        throw new AppFailure('job_cancelled', `The demo was cancelled during "${current.title}".`);
      if (job.status !== 'succeeded') {
        const error = job.error;
        const code = error && error.code in ERROR_CODES ? (error.code as ErrorCode) : 'job_failed';
        throw new AppFailure(code, `Demo step "${current.title}" failed: ${error?.message ?? 'no message'}`);
      }
      return job.result;
    },
  };
}

/** Imports the demo's logs and base model and builds the pair set (what the desktop app shows on its first start). */
export async function prepareDemoWorkspace(
  host: DemoHost,
  options: DemoOptions = {},
  runner: StepRunner = stepRunner(host, 4, options),
): Promise<{ datasetId: string; pairSet: PairSetEntry; baseModelId: string }> {
  const resources = options.resourcesDir ?? defaultDemoResources();
  const logs = path.join(resources, 'logs');
  const baseModel = path.join(resources, 'base-model');
  if (!existsSync(logs) || !existsSync(baseModel)) {
    throw new AppFailure('not_found', `The demo resources are missing in ${resources} (logs/ and base-model/).`);
  }
  const datasets = await host.handlers['dataset:list']({});
  const datasetId =
    datasets.find((entry) => entry.name === 'demo-logs')?.id ??
    (await runner.step('Import the demo logs', async () => {
      const result = (await runner.job('dataset.import', { paths: [logs], format: 'wildchat', name: 'demo-logs' })) as {
        datasetId: string;
      };
      return result.datasetId;
    }));
  const pairSets = await host.handlers['pairset:list']({});
  let pairSet = pairSets.find((entry) => entry.name === 'demo');
  if (pairSet === undefined) {
    await runner.step('Mine SAT/DSAT signals', () => runner.job('signals.mine', { datasetId }));
    pairSet = await runner.step('Freeze the pair set', () =>
      host.handlers['pairset:freeze']({ datasetId, name: 'demo', filter: {} }),
    );
  }
  const models = await host.handlers['model:list']({});
  const baseModelId =
    models.find((entry) => entry.name === 'demo-base')?.id ??
    (await runner.step('Import the base model', async () => {
      const result = (await runner.job('model.import', { path: baseModel, name: 'demo-base' })) as { modelId: string };
      return result.modelId;
    }));
  return { datasetId, pairSet, baseModelId };
}

/** Runs the whole demo on the host's workspace. */
export async function runDemo(host: DemoHost, options: DemoOptions = {}): Promise<DemoResult> {
  const started = Date.now();
  const defaults = options.quick ? QUICK_PLAN : FULL_PLAN;
  const plan = options.methods && options.methods.length > 0 ? { ...defaults, methods: options.methods } : defaults;
  const seeds = options.seeds ?? 1;
  const seedList = Array.from({ length: seeds }, (_, index) => 42 + index);
  const total = 4 + plan.methods.length * seedList.length + 2;
  const runner = stepRunner(host, total, options);
  const { datasetId, pairSet, baseModelId } = await prepareDemoWorkspace(host, options, runner);

  const runs: DemoResult['runs'] = [];
  for (const seed of seedList) {
    for (const method of plan.methods) {
      const config = demoRunConfig(method, seed, plan, baseModelId, pairSet.id, options.hyperparameters);
      const result = (await runner.step(`Train ${method} (seed ${seed})`, () =>
        runner.job('run.train', { config }),
      )) as RunTrainResult;
      runs.push({ method, seed, runId: result.runId, modelIds: result.modelIds });
    }
  }

  // With one seed every iteration is evaluated; with several, each run's final model (the cap is 16).
  const checkpoints: EvalRunParams['checkpoints'] = [{ label: 'base', modelId: baseModelId, method: 'base' }];
  for (const run of runs) {
    const chosen = seeds === 1 ? run.modelIds : run.modelIds.slice(-1);
    const first = run.modelIds.length - chosen.length;
    chosen.forEach((modelId, offset) => {
      const phase = first + offset;
      const label = `${run.method}-s${run.seed}-${phase === 0 ? 'seed' : `iter${phase}`}`;
      checkpoints.push({ label, modelId, method: run.method, runId: run.runId });
    });
  }
  const evaluation = (await runner.step('Evaluate every checkpoint', () =>
    runner.job('eval.run', {
      title: options.quick ? 'Demo (quick)' : 'Demo',
      checkpoints: checkpoints.slice(0, 16),
      prompts: { kind: 'sim', count: plan.evalPrompts, seed: DEMO_EVAL_SEED },
      reward: { kind: 'gold' },
      settings: { samples: plan.evalSamples, projection: plan.projection, seed: 0 },
    } satisfies EvalRunParams),
  )) as EvalRunResult;
  const summary = evaluation.meta.summary;
  const stored = await readResult(host.workspaceDir, evaluation.id).catch(() => null);
  const formFailures = stored && formFailuresByCheckpoint(stored, heldOutTasks(plan.evalPrompts, DEMO_EVAL_SEED));
  const groupsOf = (label: string): DemoCheckpointResult['successByGroup'] =>
    Object.fromEntries(
      (stored?.checkpoints.find((checkpoint) => checkpoint.label === label)?.gold?.byGroup ?? []).map((entry) => [
        entry.group,
        { success: entry.samples > 0 ? entry.successes / entry.samples : 0, samples: entry.samples },
      ]),
    );

  const report = (await runner.step('Write the report', () =>
    runner.job('report.build', {
      runIds: runs.map((run) => run.runId).slice(0, 16),
      formats: options.reportFormats ?? ['html', 'md', 'json'],
      title: options.quick ? 'DRIFT demo (quick)' : 'DRIFT demo',
      evaluationId: evaluation.id,
    }),
  )) as { id: string; folder: string; files: string[] };

  const results: Record<string, DemoCheckpointResult> = {};
  for (const row of summary) {
    const spec = checkpoints.find((checkpoint) => checkpoint.label === row.label);
    results[row.label] = {
      label: row.label,
      method: spec?.method ?? 'model',
      runId: spec?.runId ?? null,
      seed: runs.find((run) => run.runId === spec?.runId)?.seed ?? null,
      modelId: spec?.modelId ?? '',
      success: row.goldSuccess,
      meanReward: row.meanReward,
      winRate: row.winRate,
      vendiScore: row.vendiScore,
      formFailures: formFailures?.[row.label] ?? null,
      successByGroup: groupsOf(row.label),
    };
  }
  const base = results.base?.success ?? null;
  const driftFinal = runs
    .filter((run) => run.method === 'drift')
    .map((run) => {
      const last = Object.values(results)
        .filter((row) => row.runId === run.runId)
        .at(-1);
      return last?.success ?? null;
    })
    .filter((value): value is number => value !== null);
  const resources = options.resourcesDir ?? defaultDemoResources();
  const pairChecks = await checkRunPairs({
    workspaceDir: host.workspaceDir,
    resourcesDir: resources,
    datasetId,
    pairSet,
    runs: runs.map((run) => ({ runId: run.runId, phases: run.modelIds.length })),
  }).catch(() => ({}));
  const mean = driftFinal.length > 0 ? driftFinal.reduce((sum, value) => sum + value, 0) / driftFinal.length : null;
  const spread = driftFinal.length > 0 ? Math.max(...driftFinal) - Math.min(...driftFinal) : null;
  return {
    workspace: host.workspaceDir,
    datasetId,
    pairSet: pairSet.id,
    baseModelId,
    runs,
    evaluationId: evaluation.id,
    report: { id: report.id, folder: path.join(host.workspaceDir, report.folder), files: report.files },
    results,
    drift: { base, bySeed: driftFinal, mean, spread, gain: mean !== null && base !== null ? mean - base : null },
    pairChecks,
    seconds: (Date.now() - started) / 1000,
  };
}
