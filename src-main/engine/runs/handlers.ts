/**
 * The run:* channels (api/contract.ts) over run folders and the job manager, and the host's
 * bookkeeping of preference runs: which job works on which run (learned from the jobs' outputs
 * and params), catalog syncs on job outputs and job ends, and at start the interrupted runs
 * marked paused (catalog.ts).
 *
 * Pause and cancel: the handler writes stop-request.json in the run's folder, cancels the run's
 * job and waits for it to end; the job saves a checkpoint of the step it reached and marks the
 * run paused or cancelled. A run owned by another process (the CLI, when the app holds the
 * workspace, or the other way round) is stopped with the file alone: `requestRunStop`.
 */
import path from 'node:path';
import { AppFailure, RunJobOutput, type EngineHandlers, type Job, type RunDetail } from '../../api/index.js';
import type { EngineEvents } from '../events.js';
import type { JobManager } from '../jobs/manager.js';
import type { JobHost } from '../jobs/types.js';
import type { Workspace } from '../workspace/index.js';
import { runDir } from '../workspace/layout.js';
import { markInterrupted, recoverInterruptedRuns, settleRun, syncRunToCatalog } from './catalog.js';
import {
  clearStopRequest,
  detailOf,
  isActive,
  loadRunFile,
  readMetricRows,
  readPairRows,
  readSampleRows,
  writeRunFile,
  writeStopRequest,
} from './files.js';

type RunChannels =
  'run:list' | 'run:get' | 'run:metrics' | 'run:samples' | 'run:pairs' | 'run:pause' | 'run:resume' | 'run:cancel';

export interface RunHandlerDependencies {
  workspace: Workspace;
  jobs: JobManager;
  events: EngineEvents;
}

const FINISHED = new Set<Job['status']>(['succeeded', 'failed', 'cancelled']);

/** The run:* handlers; also subscribes to the engine's job events for the runs' bookkeeping. */
export function createRunHandlers(deps: RunHandlerDependencies): Pick<EngineHandlers, RunChannels> {
  const { workspace, jobs, events } = deps;
  const host: JobHost = { workspace, events };
  /** Run id → the id of the job of this process working on it. */
  const runJobs = new Map<string, string>();
  const pending = new Set<Promise<unknown>>();
  const track = (work: Promise<unknown>) => {
    const settled = work.catch((error: unknown) =>
      events.emit('workspace:warning', { message: `Run bookkeeping failed: ${(error as Error).message}` }),
    );
    pending.add(settled);
    void settled.finally(() => pending.delete(settled));
  };
  /** Resolves once every sync started so far has ended. */
  const idle = async () => {
    while (pending.size > 0) await Promise.all([...pending]);
  };
  const liveJob = (runId: string): Job | null => {
    const jobId = runJobs.get(runId);
    if (jobId === undefined) return null;
    const job = jobs.list().find((item) => item.id === jobId);
    return job !== undefined && !FINISHED.has(job.status) ? job : null;
  };
  const runIdOf = (job: Job): string | undefined => {
    const fromParams = job.params['runId'];
    if (typeof fromParams === 'string') return fromParams;
    const fromResult = (job.result as { runId?: unknown } | undefined)?.runId;
    if (typeof fromResult === 'string') return fromResult;
    return [...runJobs].find(([, jobId]) => jobId === job.id)?.[0];
  };

  events.on('job:output', ({ jobId, data }) => {
    const output = RunJobOutput.safeParse(data);
    if (!output.success || (output.data.type !== 'run-started' && output.data.type !== 'phase-finished')) return;
    if (jobs.list().find((job) => job.id === jobId)?.kind !== 'run.train') return;
    runJobs.set(output.data.runId, jobId);
    track(syncRunToCatalog(host, output.data.runId, { jobId }));
  });
  events.on('job:updated', (job) => {
    if (job.kind !== 'run.train') return;
    const runId = runIdOf(job);
    if (runId === undefined) return;
    if (!FINISHED.has(job.status)) {
      runJobs.set(runId, job.id);
      return;
    }
    if (runJobs.get(runId) === job.id) runJobs.delete(runId);
    track(settleRun(host, runId, job));
  });
  const live = new Set(
    jobs
      .list()
      .filter((job) => job.kind === 'run.train' && !FINISHED.has(job.status))
      .map((job) => runIdOf(job))
      .filter((id): id is string => id !== undefined),
  );
  track(recoverInterruptedRuns(host, live));

  /** The run's detail as the channels answer it: run.json, with the job of this process working on it. */
  const detail = async (id: string): Promise<RunDetail> => {
    let run = await loadRunFile(workspace.dir, id);
    const job = liveJob(id);
    if (job === null && isActive(run.status)) {
      await markInterrupted(host, id);
      run = await loadRunFile(workspace.dir, id);
    }
    const answer = detailOf(run);
    answer.jobId = job?.id ?? null;
    // A resumed run is queued until its worker writes run.json.
    if (job !== null && !isActive(run.status)) answer.status = 'queued';
    return answer;
  };

  const stop = async (id: string, action: 'pause' | 'cancel'): Promise<RunDetail> => {
    await idle();
    const folder = runDir(workspace.dir, id);
    const run = await loadRunFile(workspace.dir, id);
    const job = liveJob(id);
    if (job !== null) {
      await writeStopRequest(folder, action);
      await jobs.cancel(job.id).catch(() => undefined);
      await jobs.waitFor(job.id);
      await idle();
      return detail(id);
    }
    const target = action === 'cancel' ? 'cancelled' : 'paused';
    if (run.status === target) return detail(id);
    const allowed =
      isActive(run.status) || (action === 'cancel' && (run.status === 'paused' || run.status === 'failed'));
    if (!allowed) {
      throw new AppFailure('run_state_conflict', `Run ${id} has ${run.status}; it cannot be ${target}.`, {
        status: run.status,
      });
    }
    run.status = target;
    run.jobId = null;
    run.updatedAt = new Date().toISOString();
    await writeRunFile(folder, run);
    await syncRunToCatalog(host, id, { jobId: null });
    return detail(id);
  };

  const page = <T>(rows: readonly T[], offset: number, limit: number) => rows.slice(offset, offset + limit);

  return {
    'run:list': async () => {
      await idle();
      return workspace.catalog.data.runs;
    },
    'run:get': async ({ id }) => {
      await idle();
      return detail(id);
    },
    'run:metrics': async ({ id, after, limit }) => {
      await loadRunFile(workspace.dir, id);
      const rows = page(await readMetricRows(runDir(workspace.dir, id)), after, limit);
      return { rows, next: after + rows.length };
    },
    'run:samples': async ({ id, iteration, offset, limit }) => {
      await loadRunFile(workspace.dir, id);
      const all = await readSampleRows(runDir(workspace.dir, id));
      const rows = iteration === undefined ? all : all.filter((row) => row.iteration === iteration);
      return { rows: page(rows, offset, limit), total: rows.length };
    },
    'run:pairs': async ({ id, iteration, offset, limit }) => {
      if (iteration === undefined) {
        throw new AppFailure('invalid_request', 'run:pairs needs an iteration (0 is the seed pairs).');
      }
      await loadRunFile(workspace.dir, id);
      const rows = await readPairRows(runDir(workspace.dir, id), iteration);
      return { rows: page(rows, offset, limit), total: rows.length };
    },
    'run:pause': ({ id }) => stop(id, 'pause'),
    'run:cancel': ({ id }) => stop(id, 'cancel'),
    'run:resume': async ({ id }) => {
      await idle();
      const run = await loadRunFile(workspace.dir, id);
      if (liveJob(id) !== null) return detail(id);
      if (run.status === 'succeeded' || run.status === 'cancelled') {
        throw new AppFailure('run_state_conflict', `Run ${id} has ${run.status}; it cannot be resumed.`, {
          status: run.status,
        });
      }
      await clearStopRequest(path.join(runDir(workspace.dir, id)));
      const job = await jobs.start('run.train', { runId: id, resume: true });
      runJobs.set(id, job.id);
      track(syncRunToCatalog(host, id, { jobId: job.id, status: 'queued' }));
      await idle();
      return detail(id);
    },
  };
}
