/** Messages between the job manager (host thread) and a job worker thread. */
import type { AppError, BackendInfo, BackendName, JobKind } from '../../api/index.js';

/**
 * Work the host runs in a job worker without a job record: the backend probe, and format
 * detection of a Parquet file (its decoder can loop forever on a damaged page, so it must not
 * run on the host thread).
 */
export type InternalTask = 'backend.probe' | 'dataset.detect';

/** Passed as `workerData` when the worker starts. */
export interface WorkerStart {
  jobId: string;
  /** A catalog job kind, or an internal task. */
  kind: JobKind | InternalTask;
  params: Record<string, unknown>;
  workspaceDir: string;
  backendPreference: 'auto' | BackendName;
}

export type HostToWorker = { type: 'cancel' };

export type WorkerToHost =
  | { type: 'backend'; backend: BackendInfo }
  | { type: 'progress'; phase: string; done: number; total: number; message?: string }
  | { type: 'output'; data: unknown }
  | { type: 'succeeded'; result: unknown }
  | { type: 'failed'; error: AppError };
