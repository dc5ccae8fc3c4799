/**
 * Reads a bundle's results back (the other half of bundle.ts): each finished iteration's HF
 * checkpoint (outputs/iter-<k>/) and its trainer logs (trainer_state.json `log_history`, TRL's
 * metric names) become a workspace run folder, in the same files a local run writes:
 *
 *   run.json          the run file of engine/runs (RunDetail, its format version, dataset, pair set checksum)
 *   metrics.jsonl     RunMetricRow per TRL log entry (train) and per evaluation (eval)
 *   samples.jsonl     the on-policy samples the driver drew (work/iter-<k>/generations.jsonl)
 *   iter-<k>/pairs.jsonl   the pairs each DPO step trained on
 *
 * Fields TRL does not log are derived, and run.json's notes say how (see {@link metricRows}).
 * The checkpoints are copied in as workspace models by importModelFolder, which checks they load.
 */
import { mkdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import {
  AppFailure,
  RunConfig,
  RunMetricRow,
  RunPairRow,
  RunSampleRow,
  type RunIterationSummary,
} from '../../../api/index.js';
import { importModelFolder, newModelId, removeModelFolder } from '../../model/store.js';
import { RUN_FORMAT_VERSION, RunFile } from '../../runs/files.js';
import { APP_VERSION } from '../../version.js';
import { errorCode, writeFileAtomic, pathExists } from '../../workspace/atomic.js';
import { runDir } from '../../workspace/layout.js';
import type { RunImportWorkerResult } from '../params.js';
import { BUNDLE_FILE, BUNDLE_FORMAT } from './bundle.js';

const BundleManifest = z.object({
  format: z.literal(BUNDLE_FORMAT),
  formatVersion: z.literal(1),
  runId: z.string().nullable(),
  run: RunConfig,
  pairSet: z.object({ id: z.string(), datasetId: z.string(), checksum: z.string() }).passthrough().nullable(),
  data: z.object({ seedTrain: z.string(), seedTest: z.string() }).passthrough(),
  ids: z.object({ seed: z.array(z.string()) }).passthrough(),
  plan: z.array(
    z
      .object({
        iteration: z.number().int().nonnegative(),
        kind: z.enum(['train-fixed', 'generate']),
        output: z.string(),
      })
      .passthrough(),
  ),
});
type BundleManifest = z.infer<typeof BundleManifest>;

/** trainer_state.json as transformers' Trainer.save_state writes it (only what is read here). */
const TrainerState = z.object({
  global_step: z.number().int().nonnegative(),
  log_history: z.array(z.record(z.string(), z.unknown())),
});

const DoneMarker = z
  .object({
    globalStep: z.number().optional(),
    trainPairs: z.number().optional(),
    testPairs: z.number().optional(),
    finishedAt: z.string().optional(),
    versions: z.record(z.string(), z.string()).optional(),
  })
  .passthrough();

/** One finished iteration of the bundle, as read from its output folder. */
export interface FinishedIteration {
  iteration: number;
  folder: string;
  state: z.infer<typeof TrainerState>;
  done: z.infer<typeof DoneMarker>;
}

const sigmoid = (value: number): number => 1 / (1 + Math.exp(-value));

function numberOf(entry: Record<string, unknown>, key: string): number | undefined {
  const value = entry[key];
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

/**
 * RunMetricRows from one iteration's log_history. TRL logs loss, rewards/*, logps/* (train) and
 * the same with an `eval_` prefix (eval); what it does not log is derived:
 * - kl: the mean sequence log-ratio log π/π_ref of chosen and rejected, (r_c + r_r) / (2β)
 *   (TRL logs no per-token value, which a local run's kl is);
 * - gradientWeight: σ(−margin) of the batch-mean margin for mean and percentiles, an all-zero histogram
 *   (TRL logs no per-pair margins);
 * - seconds and time: spread over train_runtime in step order, ending at the iteration's finish time.
 */
export function metricRows(
  finished: FinishedIteration,
  beta: number,
  offset: { step: number; seconds: number },
): RunMetricRow[] {
  const history = finished.state.log_history;
  const summary = history.find((entry) => numberOf(entry, 'train_runtime') !== undefined);
  const runtime = summary ? (numberOf(summary, 'train_runtime') ?? 0) : 0;
  const steps = Math.max(1, finished.state.global_step);
  const finishedAt = Date.parse(finished.done.finishedAt ?? '') || Date.now();
  const rows: RunMetricRow[] = [];
  for (const entry of history) {
    const type =
      numberOf(entry, 'eval_loss') !== undefined ? 'eval' : numberOf(entry, 'loss') !== undefined ? 'train' : null;
    if (type === null) continue;
    const prefix = type === 'eval' ? 'eval_' : '';
    const value = (key: string): number => numberOf(entry, `${prefix}${key}`) ?? 0;
    const step = Math.min(steps, numberOf(entry, 'step') ?? 0);
    const chosen = value('rewards/chosen');
    const rejected = value('rewards/rejected');
    const margin = numberOf(entry, `${prefix}rewards/margins`) ?? chosen - rejected;
    const weight = sigmoid(-margin);
    const secondsIn = (runtime * step) / steps;
    const row: RunMetricRow = {
      type,
      iteration: finished.iteration,
      step: offset.step + step,
      epoch: Math.max(0, numberOf(entry, 'epoch') ?? 0),
      loss: value('loss'),
      'rewards/chosen': chosen,
      'rewards/rejected': rejected,
      'rewards/margins': margin,
      'rewards/accuracies': value('rewards/accuracies'),
      'logps/chosen': value('logps/chosen'),
      'logps/rejected': value('logps/rejected'),
      kl: beta > 0 ? (chosen + rejected) / (2 * beta) : 0,
      gradientWeight: { mean: weight, p10: weight, p50: weight, p90: weight, histogram: Array<number>(10).fill(0) },
      seconds: offset.seconds + secondsIn,
      time: new Date(finishedAt - (runtime - secondsIn) * 1000).toISOString(),
    };
    const gradNorm = numberOf(entry, 'grad_norm');
    const learningRate = numberOf(entry, 'learning_rate');
    if (gradNorm !== undefined) row.grad_norm = gradNorm;
    if (learningRate !== undefined) row.learning_rate = learningRate;
    rows.push(RunMetricRow.parse(row));
  }
  return rows;
}

async function readJson(file: string): Promise<unknown> {
  return JSON.parse(await readFile(file, 'utf8')) as unknown;
}

async function readRows(file: string): Promise<Record<string, unknown>[]> {
  try {
    return (await readFile(file, 'utf8'))
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return [];
    throw error;
  }
}

function invalid(message: string): never {
  throw new AppFailure('run_import_invalid', message);
}

/** The bundle's manifest. @throws AppFailure `run_import_invalid` */
export async function readBundle(dir: string): Promise<BundleManifest> {
  let json: unknown;
  try {
    json = await readJson(path.join(dir, BUNDLE_FILE));
  } catch (error) {
    invalid(
      `${path.join(dir, BUNDLE_FILE)} cannot be read (${(error as Error).message}); import the folder \`drift-wb export\` wrote.`,
    );
  }
  const parsed = BundleManifest.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    invalid(`${path.join(dir, BUNDLE_FILE)}: ${issue?.path.join('.') || 'file'}: ${issue?.message ?? 'invalid'}.`);
  }
  return parsed.data;
}

/** The iterations of the plan that finished (drift_done.json and trainer_state.json), in order, up to the first unfinished one. */
export async function finishedIterations(dir: string, bundle: BundleManifest): Promise<FinishedIteration[]> {
  const finished: FinishedIteration[] = [];
  for (const step of bundle.plan) {
    const folder = path.join(dir, step.output);
    let done: unknown;
    try {
      done = await readJson(path.join(folder, 'drift_done.json'));
    } catch (error) {
      if (errorCode(error) === 'ENOENT') break;
      invalid(`${path.join(folder, 'drift_done.json')} cannot be read: ${(error as Error).message}`);
    }
    let state: unknown;
    try {
      state = await readJson(path.join(folder, 'trainer_state.json'));
    } catch (error) {
      invalid(`${path.join(folder, 'trainer_state.json')} cannot be read: ${(error as Error).message}`);
    }
    const parsedState = TrainerState.safeParse(state);
    if (!parsedState.success) invalid(`${path.join(folder, 'trainer_state.json')} has no global_step and log_history.`);
    finished.push({ iteration: step.iteration, folder, state: parsedState.data, done: DoneMarker.parse(done) });
  }
  return finished;
}

function slug(name: string): string {
  return (
    name
      .toLowerCase()
      .replace(/[^a-z0-9._-]+/g, '-')
      .replace(/^[-._]+|[-._]+$/g, '')
      .slice(0, 60) || 'run'
  );
}

/** A run id unused in `<workspace>/runs/` and among `taken`. */
export async function newRunId(workspaceDir: string, name: string, taken: ReadonlySet<string>): Promise<string> {
  const base = slug(name);
  for (let attempt = 1; ; attempt++) {
    const id = attempt === 1 ? base : `${base}-${attempt}`;
    if (!taken.has(id) && !(await pathExists(runDir(workspaceDir, id)))) return id;
  }
}

function pairRows(rows: Record<string, unknown>[], split: 'train' | 'test', ids: readonly string[]): RunPairRow[] {
  return rows.map((row, index) =>
    RunPairRow.parse({
      id: typeof row['id'] === 'string' ? row['id'] : `${split}-${index}`,
      sourceId: typeof row['source_id'] === 'string' ? row['source_id'] : (ids[index] ?? `${split}-${index}`),
      split,
      prompt: row['prompt'],
      chosen: row['chosen'],
      rejected: row['rejected'],
    }),
  );
}

export interface ImportRunOptions {
  workspaceDir: string;
  runId: string;
  name: string;
  models: boolean;
  signal?: AbortSignal;
  onProgress?: (phase: string, done: number, total: number, message?: string) => void;
}

/**
 * Writes `<workspace>/runs/<runId>/` from the bundle in `dir` and copies each finished
 * iteration's checkpoint in as a model. Returns what the host's completion registers. The run
 * folder and models are removed again if anything fails.
 * @throws AppFailure `run_import_invalid` (no bundle, no finished iteration, malformed logs), `run_exists`,
 * and what importModelFolder throws for a checkpoint that does not load
 */
export async function importBundle(dir: string, options: ImportRunOptions): Promise<RunImportWorkerResult> {
  const bundle = await readBundle(dir);
  const finished = await finishedIterations(dir, bundle);
  if (finished.length === 0) {
    invalid(`${dir} has no finished iteration yet (no outputs/iter-<k>/drift_done.json); run drift_driver.py first.`);
  }
  const config = bundle.run;
  const folder = runDir(options.workspaceDir, options.runId);
  if (await pathExists(folder))
    throw new AppFailure('run_exists', `The run ${options.runId} already exists (${folder}).`);
  await mkdir(folder, { recursive: true });
  const models: RunImportWorkerResult['models'] = [];
  try {
    const notes = [
      `Trained with TRL on a cluster from the bundle ${dir}, imported by drift-wb ${APP_VERSION}.`,
      'kl is the mean sequence log-ratio (r_chosen + r_rejected) / (2β): TRL logs no per-token KL.',
      'gradientWeight is σ(−margin) of each logged batch-mean margin, with an empty histogram: TRL logs no per-pair margins.',
      'seconds and time are spread over each iteration’s train_runtime: TRL logs no time per step.',
    ];
    const metrics: RunMetricRow[] = [];
    const samples: RunSampleRow[] = [];
    const iterations: RunIterationSummary[] = [];
    const offset = { step: 0, seconds: 0 };
    const environment: Record<string, string> = { engine: 'trl', source: 'trl-import', bundle: dir };
    for (const [index, item] of finished.entries()) {
      options.signal?.throwIfAborted();
      const step = bundle.plan.find((planned) => planned.iteration === item.iteration)!;
      const rows = metricRows(item, config.hyperparameters.beta, offset);
      metrics.push(...rows);
      const summary = item.state.log_history.find((entry) => numberOf(entry, 'train_runtime') !== undefined);
      offset.step += item.state.global_step;
      offset.seconds += summary ? (numberOf(summary, 'train_runtime') ?? 0) : 0;
      for (const [name, version] of Object.entries(item.done.versions ?? {})) environment[name] = version;

      // The pairs this step trained on.
      const fixed = step.kind === 'train-fixed';
      const work = path.join(dir, 'work', `iter-${item.iteration}`);
      const train = await readRows(fixed ? path.join(dir, bundle.data.seedTrain) : path.join(work, 'train.jsonl'));
      const test = await readRows(fixed ? path.join(dir, bundle.data.seedTest) : path.join(work, 'test.jsonl'));
      const seedIds = bundle.ids.seed;
      const pairs = [...pairRows(test, 'test', seedIds), ...pairRows(train, 'train', seedIds.slice(test.length))];
      if (pairs.length > 0) {
        await mkdir(path.join(folder, `iter-${item.iteration}`), { recursive: true });
        await writeFileAtomic(
          path.join(folder, `iter-${item.iteration}`, 'pairs.jsonl'),
          pairs.map((pair) => `${JSON.stringify(pair)}\n`).join(''),
        );
      }
      const scored = path.join(work, 'scored.jsonl');
      for (const row of await readRows((await pathExists(scored)) ? scored : path.join(work, 'generations.jsonl'))) {
        if (item.iteration === 0) break;
        samples.push(
          RunSampleRow.parse({
            iteration: item.iteration,
            sourceId: String(row['source_id'] ?? row['source_index'] ?? ''),
            role: row['role'],
            prompt: row['prompt'],
            completion: row['completion'],
            finishReason: row['finish_reason'] === 'length' ? 'length' : 'eos',
            score: typeof row['score'] === 'number' ? row['score'] : null,
          }),
        );
      }

      let modelId: string | null = null;
      if (options.models) {
        const label = item.iteration === 0 ? 'seed' : `iter-${item.iteration}`;
        const name = `${options.name} ${label}`;
        modelId = await newModelId(options.workspaceDir, `${options.runId}-${label}`);
        options.onProgress?.('copying models', index, finished.length, name);
        const modelSummary = await importModelFolder(item.folder, options.workspaceDir, modelId, {
          signal: options.signal,
        });
        models.push({ modelId, name, iteration: item.iteration, source: item.folder, summary: modelSummary });
      }
      const lastEval = rows.filter((row) => row.type === 'eval').at(-1);
      iterations.push({
        iteration: item.iteration,
        pairs: pairs.length,
        trainPairs: item.done.trainPairs ?? train.length,
        testPairs: item.done.testPairs ?? test.length,
        steps: item.state.global_step,
        modelId,
        eval: lastEval
          ? {
              loss: lastEval.loss,
              'rewards/chosen': lastEval['rewards/chosen'],
              'rewards/rejected': lastEval['rewards/rejected'],
              'rewards/margins': lastEval['rewards/margins'],
              'rewards/accuracies': lastEval['rewards/accuracies'],
              'logps/chosen': lastEval['logps/chosen'],
              'logps/rejected': lastEval['logps/rejected'],
              kl: lastEval.kl,
            }
          : null,
        finishedAt: item.done.finishedAt ?? new Date().toISOString(),
      });
    }
    const complete = finished.length === bundle.plan.length;
    if (!complete) notes.push(`${finished.length} of ${bundle.plan.length} iterations had finished on the cluster.`);
    const last = finished.at(-1)!;
    const now = new Date().toISOString();
    const detail: RunFile = RunFile.parse({
      formatVersion: RUN_FORMAT_VERSION,
      kind: 'preference',
      datasetId: bundle.pairSet?.datasetId ?? 'external',
      pairSetChecksum: bundle.pairSet?.checksum ?? '',
      id: options.runId,
      config: { ...config, name: options.name },
      status: complete ? 'succeeded' : 'failed',
      jobId: null,
      createdAt: now,
      updatedAt: now,
      position: { iteration: last.iteration, phase: 'done', step: offset.step },
      iterations,
      notes,
      environment,
      error: complete
        ? null
        : `Only ${finished.length} of ${bundle.plan.length} iterations had finished when the bundle was imported; import it again once the driver is done.`,
    });
    await writeFileAtomic(path.join(folder, 'run.json'), `${JSON.stringify(detail, null, 2)}\n`);
    await writeFileAtomic(
      path.join(folder, 'metrics.jsonl'),
      metrics.map((row) => `${JSON.stringify(row)}\n`).join(''),
    );
    await writeFileAtomic(
      path.join(folder, 'samples.jsonl'),
      samples.map((row) => `${JSON.stringify(row)}\n`).join(''),
    );
    return {
      runId: options.runId,
      name: options.name,
      status: detail.status,
      config: detail.config,
      datasetId: bundle.pairSet?.datasetId ?? 'external',
      iterations,
      metricRows: metrics.length,
      models,
      notes,
    };
  } catch (error) {
    await rm(folder, { recursive: true, force: true });
    for (const model of models) await removeModelFolder(options.workspaceDir, model.modelId);
    throw error;
  }
}
