/** Messages between the job manager (host thread) and a job worker thread. */
import type { AppError, BackendInfo, BackendName, JobKind } from '../../api/index.js';

/** Passed as `workerData` when the worker starts. */
export interface WorkerStart {
  jobId: string;
  /** A catalog job kind, or the internal backend probe. */
  kind: JobKind | 'backend.probe';
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
