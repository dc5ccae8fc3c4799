/**
 * Runs jobs in worker threads, one thread per job, at most `maxConcurrent` at a time.
 * The manager is the only writer of job records: it keeps them in the catalog, streams every
 * change as a `job:updated` event, and computes the ETA from the rate of progress.
 */
import { randomBytes } from 'node:crypto';
import type { Worker } from 'node:worker_threads';
import {
  AppFailure,
  err,
  toAppError,
  type AppError,
  type BackendInfo,
  type BackendName,
  type Job,
  type JobKind,
  type JobProgress,
} from '../../api/index.js';
import { startWorker } from '../compute/worker.js';
import type { EngineEvents } from '../events.js';
import type { Workspace } from '../workspace/index.js';
import type { InternalTask, WorkerStart, WorkerToHost } from './protocol.js';
import type { JobKindSpec } from './types.js';

/** Jobs kept in the catalog; older finished ones are dropped first. */
const MAX_JOB_RECORDS = 200;
/** Progress is persisted at most this often (events are sent for every update). */
const PERSIST_INTERVAL_MS = 2000;
/** How long a cancelled worker may take to stop on its own before it is terminated. */
const CANCEL_GRACE_MS = 5000;

export interface JobManagerOptions {
  workspace: Workspace;
  events: EngineEvents;
  /** The job kinds it runs (engine/job-kinds.ts). */
  kinds: Readonly<Record<JobKind, JobKindSpec>>;
  /** The worker entry that runs one job (engine/job-worker.ts, or the bundled job-worker.js). */
  workerUrl: URL;
  backendPreference: () => 'auto' | BackendName;
  maxConcurrent: () => number;
}

interface Running {
  worker: Worker;
  startedAtMs: number;
  phase: string;
  phaseStartedAtMs: number;
  lastPersistMs: number;
  cancelRequested: boolean;
  settled: Promise<void>;
}

const FINISHED = new Set(['succeeded', 'failed', 'cancelled']);

export function isFinished(job: Job): boolean {
  return FINISHED.has(job.status);
}

function newJobId(): string {
  const stamp = new Date()
    .toISOString()
    .replace(/[-:TZ.]/g, '')
    .slice(0, 14);
  return `job-${stamp}-${randomBytes(3).toString('hex')}`;
}

/** Seconds left, from the rate of `done` since the phase started; null until it can be estimated. */
export function estimateEta(done: number, total: number, elapsedMs: number): number | null {
  if (done <= 0 || total <= 0 || elapsedMs <= 0 || done > total) return null;
  return Math.round(((elapsedMs / done) * (total - done)) / 100) / 10;
}

export class JobManager {
  readonly #options: JobManagerOptions;
  readonly #jobs = new Map<string, Job>();
  readonly #running = new Map<string, Running>();
  readonly #waiters = new Map<string, Array<(job: Job) => void>>();
  readonly #queue: string[] = [];
  /** Workers of internal tasks (see `runTask`), terminated on close. */
  readonly #tasks = new Set<Worker>();
  #closed = false;
  #writes: Promise<unknown> = Promise.resolve();

  constructor(options: JobManagerOptions) {
    this.#options = options;
  }

  /** Loads job records; jobs left running by a process that died are marked interrupted. */
  async restore(): Promise<void> {
    const stale: Job[] = [];
    for (const job of this.#options.workspace.catalog.data.jobs) {
      if (isFinished(job)) {
        this.#jobs.set(job.id, job);
      } else {
        const interrupted: Job = {
          ...job,
          status: 'failed',
          finishedAt: new Date().toISOString(),
          error: err('job_interrupted').error,
        };
        this.#jobs.set(job.id, interrupted);
        stale.push(interrupted);
      }
    }
    if (stale.length > 0) await this.#persist();
  }

  list(): Job[] {
    return [...this.#jobs.values()].sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  }

  get(id: string): Job {
    const job = this.#jobs.get(id);
    if (!job) throw new AppFailure('job_not_found', `No job ${id} in this workspace.`);
    return job;
  }

  async start(kind: JobKind, params: Record<string, unknown>): Promise<Job> {
    if (this.#closed) throw new AppFailure('internal_error', 'The engine is closing.');
    const spec = this.#options.kinds[kind];
    if (!spec) throw new AppFailure('job_unknown_kind', `Unknown job kind ${kind}.`);
    const job: Job = {
      id: newJobId(),
      kind,
      title: spec.title,
      params,
      status: 'queued',
      createdAt: new Date().toISOString(),
      startedAt: null,
      finishedAt: null,
      progress: { phase: 'queued', done: 0, total: 0, etaSeconds: null },
    };
    this.#update(job, true);
    this.#queue.push(job.id);
    await this.#persist();
    this.#pump();
    return this.get(job.id);
  }

  async cancel(id: string): Promise<Job> {
    const job = this.get(id);
    if (isFinished(job)) throw new AppFailure('job_not_cancellable', `Job ${id} already ${job.status}.`);
    const queuedAt = this.#queue.indexOf(id);
    if (queuedAt >= 0) {
      this.#queue.splice(queuedAt, 1);
      this.#finish(id, { status: 'cancelled', error: err('job_cancelled').error });
      await this.#persist();
      return this.get(id);
    }
    const running = this.#running.get(id);
    if (running && !running.cancelRequested) {
      running.cancelRequested = true;
      running.worker.postMessage({ type: 'cancel' });
      const timer = setTimeout(() => void running.worker.terminate(), CANCEL_GRACE_MS);
      timer.unref();
      this.#update({ ...job, progress: { ...job.progress, message: 'cancelling…' } }, false);
    }
    return this.get(id);
  }

  /** Resolves when the job has finished (succeeded, failed or cancelled). */
  waitFor(id: string): Promise<Job> {
    const job = this.get(id);
    if (isFinished(job)) return Promise.resolve(job);
    return new Promise((resolve) => {
      const list = this.#waiters.get(id) ?? [];
      list.push(resolve);
      this.#waiters.set(id, list);
    });
  }

  /** Runs the internal backend probe in a worker (loads tfjs off the host thread). */
  probeBackend(): Promise<BackendInfo> {
    return new Promise((resolve, reject) => {
      const worker = this.#spawn({
        jobId: 'probe',
        kind: 'backend.probe',
        params: {},
        workspaceDir: this.#options.workspace.dir,
        backendPreference: this.#options.backendPreference(),
      });
      let answered = false;
      worker.on('message', (message: WorkerToHost) => {
        if (message.type === 'backend') {
          answered = true;
          resolve(message.backend);
        } else if (message.type === 'failed') {
          answered = true;
          reject(new AppFailure('backend_unavailable', message.error.message));
        }
      });
      worker.on('error', (error) => reject(new AppFailure('job_worker_crashed', error.message)));
      worker.on('exit', () => {
        if (!answered) reject(new AppFailure('job_worker_crashed', 'The backend probe exited without an answer.'));
      });
    });
  }

  /**
   * Runs an internal task in a worker of its own, without a job record, and resolves with its
   * result, or with `timed_out` once the worker has been terminated for not answering within
   * `timeoutMs` (a task that loops forever costs a thread for that long, never the host).
   */
  runTask(
    kind: Exclude<InternalTask, 'backend.probe'>,
    params: Record<string, unknown>,
    timeoutMs: number,
  ): Promise<{ status: 'finished'; result: unknown } | { status: 'timed_out' }> {
    if (this.#closed) return Promise.reject(new AppFailure('internal_error', 'The engine is closing.'));
    return new Promise((resolve, reject) => {
      const worker = this.#spawn({
        jobId: kind,
        kind,
        params,
        workspaceDir: this.#options.workspace.dir,
        backendPreference: this.#options.backendPreference(),
      });
      this.#tasks.add(worker);
      let answered = false;
      const answer = (settle: () => void) => {
        if (answered) return;
        answered = true;
        clearTimeout(timer);
        settle();
      };
      const timer = setTimeout(() => {
        answer(() => resolve({ status: 'timed_out' }));
        void worker.terminate();
      }, timeoutMs);
      worker.on('message', (message: WorkerToHost) => {
        if (message.type === 'succeeded') answer(() => resolve({ status: 'finished', result: message.result }));
        else if (message.type === 'failed') {
          const { code, message: text, details } = message.error;
          answer(() => reject(new AppFailure(code, text, details)));
        }
      });
      worker.on('error', (error) => answer(() => reject(new AppFailure('job_worker_crashed', error.message))));
      worker.on('exit', (code) => {
        this.#tasks.delete(worker);
        const message = `The ${kind} worker exited with code ${code} before answering.`;
        answer(() => reject(new AppFailure('job_worker_crashed', message)));
      });
    });
  }

  /** Cancels queued and running jobs, stops internal tasks and waits for their workers. */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all([...this.#tasks].map((worker) => worker.terminate()));
    for (const id of [...this.#queue]) await this.cancel(id);
    const settling = [...this.#running.entries()].map(async ([id, running]) => {
      await this.cancel(id).catch(() => undefined);
      await running.settled;
    });
    await Promise.all(settling);
    await this.#writes;
  }

  #pump(): void {
    while (!this.#closed && this.#queue.length > 0 && this.#running.size < this.#options.maxConcurrent()) {
      const id = this.#queue.shift()!;
      this.#launch(this.get(id));
    }
  }

  #spawn(start: WorkerStart): Worker {
    const url = this.#options.workerUrl;
    const resourceLimits =
      start.kind === 'backend.probe' || start.kind === 'dataset.detect'
        ? undefined
        : this.#options.kinds[start.kind]?.resourceLimits;
    const options = {
      workerData: start,
      name: `drift-job-${start.jobId}`,
      ...(resourceLimits ? { resourceLimits } : {}),
    };
    return startWorker(url, options);
  }

  #launch(queued: Job): void {
    const now = Date.now();
    const worker = this.#spawn({
      jobId: queued.id,
      kind: queued.kind,
      params: queued.params,
      workspaceDir: this.#options.workspace.dir,
      backendPreference: this.#options.backendPreference(),
    });
    let outcome: { status: 'succeeded'; result: unknown } | { status: 'failed'; error: AppError } | undefined;
    let settle!: () => void;
    const running: Running = {
      worker,
      startedAtMs: now,
      phase: 'starting',
      phaseStartedAtMs: now,
      lastPersistMs: now,
      cancelRequested: false,
      settled: new Promise<void>((resolve) => (settle = resolve)),
    };
    this.#running.set(queued.id, running);
    this.#update(
      {
        ...queued,
        status: 'running',
        startedAt: new Date(now).toISOString(),
        progress: { phase: 'starting', done: 0, total: 0, etaSeconds: null },
      },
      false,
    );
    void this.#persist();

    worker.on('message', (message: WorkerToHost) => {
      if (message.type === 'progress') this.#onProgress(queued.id, running, message);
      else if (message.type === 'output')
        this.#options.events.emit('job:output', { jobId: queued.id, data: message.data });
      else if (message.type === 'succeeded') outcome = { status: 'succeeded', result: message.result };
      else if (message.type === 'failed') outcome = { status: 'failed', error: message.error };
    });
    worker.on('error', (error) => {
      outcome ??= { status: 'failed', error: err('job_worker_crashed', error.message).error };
    });
    worker.on('exit', (code) => {
      this.#running.delete(queued.id);
      void this.#conclude(queued.id, running.cancelRequested, outcome, code)
        .then(() => this.#persist())
        .finally(() => {
          settle();
          this.#pump();
        });
    });
  }

  /** Records how a job ended, once its worker has exited. */
  async #conclude(
    id: string,
    cancelRequested: boolean,
    outcome: { status: 'succeeded'; result: unknown } | { status: 'failed'; error: AppError } | undefined,
    exitCode: number,
  ): Promise<void> {
    if (outcome?.status === 'succeeded') {
      try {
        this.#finish(id, { status: 'succeeded', result: await this.#complete(this.get(id), outcome.result) });
      } catch (thrown) {
        this.#finish(id, { status: 'failed', error: toAppError(thrown) });
      }
    } else if (cancelRequested || outcome?.error.code === 'job_cancelled') {
      this.#finish(id, { status: 'cancelled', error: err('job_cancelled').error });
    } else if (outcome) {
      this.#finish(id, { status: 'failed', error: outcome.error });
    } else {
      const message = `The worker exited with code ${exitCode} before reporting a result.`;
      this.#finish(id, { status: 'failed', error: err('job_worker_crashed', message).error });
    }
  }

  /** Runs the kind's host-side completion step, if it has one. */
  async #complete(job: Job, result: unknown): Promise<unknown> {
    const load = this.#options.kinds[job.kind].complete;
    if (!load) return result;
    const completion = await load();
    return completion(job, result, { workspace: this.#options.workspace, events: this.#options.events });
  }

  #onProgress(id: string, running: Running, message: Extract<WorkerToHost, { type: 'progress' }>): void {
    const now = Date.now();
    if (message.phase !== running.phase) {
      running.phase = message.phase;
      running.phaseStartedAtMs = now;
    }
    const job = this.get(id);
    const progress: JobProgress = {
      phase: message.phase,
      done: Math.max(0, message.done),
      total: Math.max(0, message.total),
      etaSeconds: estimateEta(message.done, message.total, now - running.phaseStartedAtMs),
    };
    if (message.message !== undefined) progress.message = message.message;
    this.#update({ ...job, progress }, false);
    if (now - running.lastPersistMs >= PERSIST_INTERVAL_MS) {
      running.lastPersistMs = now;
      void this.#persist();
    }
  }

  #finish(id: string, outcome: { status: Job['status']; result?: unknown; error?: AppError }): void {
    const job = this.get(id);
    const finished: Job = {
      ...job,
      status: outcome.status,
      finishedAt: new Date().toISOString(),
      progress: { ...job.progress, etaSeconds: null },
    };
    delete finished.progress.message;
    if (outcome.status === 'succeeded') finished.progress.done = finished.progress.total;
    if (outcome.result !== undefined) finished.result = outcome.result;
    if (outcome.error !== undefined) finished.error = outcome.error;
    this.#update(finished, false);
    for (const resolve of this.#waiters.get(id) ?? []) resolve(finished);
    this.#waiters.delete(id);
  }

  #update(job: Job, created: boolean): void {
    this.#jobs.set(job.id, job);
    this.#options.events.emit('job:updated', job);
    if (created) this.#options.events.emit('catalog:changed', { section: 'jobs' });
  }

  /** Writes the job records to the catalog; writes are chained so they land in order. */
  #persist(): Promise<unknown> {
    const records = this.list().slice(0, MAX_JOB_RECORDS);
    this.#writes = this.#writes
      .catch(() => undefined)
      .then(() =>
        this.#options.workspace.catalog.update((draft) => {
          draft.jobs = records;
        }),
      );
    return this.#writes;
  }
}
