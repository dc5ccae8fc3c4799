/**
 * What a job handler sees. Handlers run inside a worker thread; they report progress through
 * the context and stop promptly when the signal aborts (throw `ctx.signal.reason` or call
 * `ctx.throwIfCancelled()` between steps).
 */
import type { ResourceLimits } from 'node:worker_threads';
import type { BackendInfo, Job } from '../../api/index.js';
import type { EngineEvents } from '../events.js';
import type { Workspace } from '../workspace/index.js';

export interface JobContext {
  readonly jobId: string;
  readonly workspaceDir: string;
  /** The tfjs backend this worker selected, with the reasons better ones were not taken. */
  readonly backend: BackendInfo;
  readonly signal: AbortSignal;
  /** Reports progress; the runner computes the ETA from the rate of `done`. */
  progress(phase: string, done: number, total: number, message?: string): void;
  /** Throws the job_cancelled AppFailure if the job was cancelled. */
  throwIfCancelled(): void;
  /**
   * Streams a piece of output to the UI while the job runs (generated tokens, sampled answers,
   * metric points); hosts forward it as the `job:output` event. Must be JSON-serialisable.
   */
  output(data: unknown): void;
}

/** A job kind's implementation: validates its params, does the work, returns a JSON result. */
export type JobHandler = (params: Record<string, unknown>, context: JobContext) => Promise<unknown>;

/** What a completion step sees: it runs in the host process, which owns the catalog. */
export interface JobHost {
  readonly workspace: Workspace;
  readonly events: EngineEvents;
}

/**
 * Runs on the host after a job's worker succeeded; returns the job's final result (usually the
 * worker's, perhaps with the catalog entry it created). Throwing fails the job.
 */
export type JobCompletion = (job: Job, result: unknown, host: JobHost) => Promise<unknown>;

/** How the engine runs one job kind (the registry is engine/job-kinds.ts). */
export interface JobKindSpec {
  title: string;
  /** Loads the handler; runs inside the worker thread. */
  load: () => Promise<JobHandler>;
  /**
   * Loads an optional completion step that runs on the host after the worker succeeded, e.g. to
   * add the dataset or run the job produced to the catalog (workers never write the catalog).
   */
  complete?: () => Promise<JobCompletion>;
  /** Heap limits for the worker (e.g. a streaming import that must stay within a memory bound). */
  resourceLimits?: ResourceLimits;
  /**
   * False for jobs that do no tensor work: the worker then does not select (load) a tfjs backend,
   * and `context.backend` reports none (`tfjsVersion: "not loaded"`).
   */
  backend?: false;
}
