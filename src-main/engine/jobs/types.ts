/**
 * What a job handler sees. Handlers run inside a worker thread; they report progress through
 * the context and stop promptly when the signal aborts (throw `ctx.signal.reason` or call
 * `ctx.throwIfCancelled()` between steps).
 */
import type { BackendInfo } from '../../api/index.js';

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
}

/** A job kind's implementation: validates its params, does the work, returns a JSON result. */
export type JobHandler = (params: Record<string, unknown>, context: JobContext) => Promise<unknown>;
