/**
 * Host side of preference runs: the catalog mirrors each run's run.json (the run's truth, which
 * only its job writes while it runs). The host syncs a run when its job says it started or
 * finished a phase (`job:output`), when the job ends (`job:updated`, and the completion step of a
 * job that succeeded), and when the engine opens. A sync registers each finished phase's model
 * that the catalog lacks and upserts the run's RunEntry; syncs run one at a time per workspace.
 *
 * Settling: when a run's job has ended but run.json still says running (its worker was
 * terminated before it could write, or the process that ran it died), the host marks it paused
 * (or cancelled, or failed) so the user can resume it.
 */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import type { Job, ModelEntry, RunEntry, RunStatus, RunTrainResult } from '../../api/index.js';
import type { JobCompletion, JobHost } from '../jobs/types.js';
import { modelEntryOf } from '../model/completion.js';
import { inspectModelFolder } from '../model/store.js';
import { errorCode } from '../workspace/atomic.js';
import { ENTRY_FOLDERS, modelDir, resolveInside, runDir } from '../workspace/layout.js';
import type { Workspace } from '../workspace/index.js';
import { isActive, readRunFile, readStopRequest, writeRunFile, type RunFile } from './files.js';

const chains = new WeakMap<Workspace, Promise<unknown>>();

/** Runs `work` after every earlier sync of the same workspace. */
function serialized<T>(workspace: Workspace, work: () => Promise<T>): Promise<T> {
  const next = (chains.get(workspace) ?? Promise.resolve()).catch(() => undefined).then(work);
  chains.set(
    workspace,
    next.catch(() => undefined),
  );
  return next;
}

/** The display name of a phase's model: `<run name>-seed`, `<run name>-iter<k>`. */
export function phaseModelName(run: RunFile, iteration: number): string {
  return `${run.config.name}-${iteration === 0 ? 'seed' : `iter${iteration}`}`;
}

/** The catalog's entry for a run. */
export function runEntryOf(run: RunFile, jobId: string | null): RunEntry {
  const finished = run.iterations.filter((summary) => summary.finishedAt !== null);
  return {
    id: run.id,
    name: run.config.name,
    method: run.config.method,
    status: run.status,
    createdAt: run.createdAt,
    baseModelId: run.config.baseModelId,
    datasetId: run.datasetId,
    pairSet: run.config.pairSet,
    iterations: run.config.iterations,
    iterationsDone: finished.filter((summary) => summary.iteration > 0).length,
    jobId,
    modelIds: finished.flatMap((summary) => (summary.modelId === null ? [] : [summary.modelId])),
    updatedAt: run.updatedAt,
  };
}

export interface SyncOptions {
  /** The job working on the run, or null. */
  jobId: string | null;
  /** Shown instead of run.json's status (a resumed run is queued before its worker writes). */
  status?: RunStatus;
}

/**
 * Brings the catalog in line with a run's run.json: registers the models of finished phases it
 * lacks, and adds or replaces the run's entry. Returns the entry, or null when the run has no
 * run.json (it is not a preference run).
 */
export function syncRunToCatalog(host: JobHost, runId: string, options: SyncOptions): Promise<RunEntry | null> {
  return serialized(host.workspace, async () => {
    const run = await readRunFile(runDir(host.workspace.dir, runId));
    if (run === null) return null;
    const known = new Set(host.workspace.catalog.data.models.map((model) => model.id));
    const models: ModelEntry[] = [];
    for (const summary of run.iterations) {
      if (summary.finishedAt === null || summary.modelId === null || known.has(summary.modelId)) continue;
      let inspected;
      try {
        inspected = await inspectModelFolder(modelDir(host.workspace.dir, summary.modelId));
      } catch {
        continue; // removed by hand, or never linked: nothing to register
      }
      models.push(
        modelEntryOf(summary.modelId, phaseModelName(run, summary.iteration), inspected.summary, {
          origin: 'trained',
          source: `${run.config.method}:${run.id}`,
          runId: run.id,
          baseModel: run.config.baseModelId,
        }),
      );
    }
    const entry = runEntryOf(run, options.jobId);
    if (options.status !== undefined) entry.status = options.status;
    await host.workspace.catalog.update((draft) => {
      for (const model of models)
        if (!draft.models.some((existing) => existing.id === model.id)) draft.models.push(model);
      const index = draft.runs.findIndex((existing) => existing.id === entry.id);
      if (index === -1) draft.runs.push(entry);
      else draft.runs[index] = { ...entry, createdAt: draft.runs[index]?.createdAt ?? entry.createdAt };
    });
    if (models.length > 0) host.events.emit('catalog:changed', { section: 'models' });
    host.events.emit('catalog:changed', { section: 'runs' });
    return entry;
  });
}

/**
 * After a run's job ended: a run.json its worker left "running" gets the status the job ended
 * with (a cancel is a pause unless a cancel was asked for), then the catalog is synced.
 */
export async function settleRun(host: JobHost, runId: string, job: Pick<Job, 'status' | 'error'>): Promise<void> {
  const folder = runDir(host.workspace.dir, runId);
  const run = await readRunFile(folder);
  if (run === null) return;
  if (isActive(run.status)) {
    if (job.status === 'failed') {
      run.status = 'failed';
      run.error = job.error?.message ?? 'The run’s job failed.';
    } else if (job.status === 'cancelled') {
      run.status = (await readStopRequest(folder))?.action === 'cancel' ? 'cancelled' : 'paused';
    } else {
      run.status = job.status === 'succeeded' ? 'succeeded' : 'paused';
    }
    run.jobId = null;
    run.updatedAt = new Date().toISOString();
    await writeRunFile(folder, run);
  }
  await syncRunToCatalog(host, runId, { jobId: null });
}

/** Marks a run whose job is gone (its process died) as paused, with a note, and syncs it. */
export async function markInterrupted(host: JobHost, runId: string): Promise<void> {
  const folder = runDir(host.workspace.dir, runId);
  const run = await readRunFile(folder);
  if (run === null || !isActive(run.status)) return;
  run.status = 'paused';
  run.jobId = null;
  run.updatedAt = new Date().toISOString();
  run.notes.push(
    `Interrupted at ${run.updatedAt}: the process running it stopped; resuming continues from the last checkpoint.`,
  );
  await writeRunFile(folder, run);
  await syncRunToCatalog(host, runId, { jobId: null });
}

/**
 * At engine start: every preference run on disk or in the catalog that says it is running but
 * has no job among `liveRunIds` was interrupted; it becomes paused. A run the catalog lists as
 * running whose run.json says it ended (its process died before the host recorded the end) is
 * synced, registering the models of its finished phases.
 */
export async function recoverInterruptedRuns(host: JobHost, liveRunIds: ReadonlySet<string>): Promise<void> {
  let names: string[] = [];
  try {
    names = await readdir(resolveInside(host.workspace.dir, ENTRY_FOLDERS.runs));
  } catch (error) {
    if (errorCode(error) !== 'ENOENT') throw error;
  }
  const listedActive = new Set(
    host.workspace.catalog.data.runs.filter((run) => isActive(run.status)).map((run) => run.id),
  );
  const ids = new Set([...names.filter((name) => !name.startsWith('.')), ...listedActive]);
  for (const id of ids) {
    if (liveRunIds.has(id) || id.includes(path.sep)) continue;
    try {
      const run = await readRunFile(runDir(host.workspace.dir, id));
      if (run === null) continue;
      if (isActive(run.status)) await markInterrupted(host, id);
      // The job ended (run.json says so) but its process died before the host recorded it.
      else if (listedActive.has(id)) await syncRunToCatalog(host, id, { jobId: null });
    } catch {
      // A damaged run.json is reported when the run is opened; it does not stop the engine.
    }
  }
}

/** Completion step of `run.train`: the run and its models in the catalog before the job is marked succeeded. */
export const completeRun: JobCompletion = async (_job, result, host) => {
  const { runId } = result as RunTrainResult;
  await syncRunToCatalog(host, runId, { jobId: null });
  return result;
};
