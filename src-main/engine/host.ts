/**
 * What a host (the Electron shell, browser mode, the CLI) gets from the engine and gives it: the
 * types behind index.ts's openEngine, apart so the engine's own files use them without a loop.
 */
import type { EngineHandlers, EventName, EventPayload, Job, JobKind } from '../api/index.js';
import type { PrintToPdf } from './report/pdf.js';

export type HostKind = 'electron' | 'browser' | 'cli';

export interface EngineOptions {
  /** Workspace folder; created if missing. */
  workspaceDir: string;
  host: HostKind;
  /**
   * The job worker entry. Defaults to the TypeScript source next to the job runner (run through
   * tsx); the Electron build passes its bundled `job-worker.js`.
   */
  workerUrl?: URL;
  /**
   * Prints report.html to PDF for `report:pdf`. Default: a system Chromium (the CLI and browser
   * mode); the Electron shell passes one around webContents.printToPDF.
   */
  printToPdf?: PrintToPdf;
  /**
   * How long `dataset:detect` may read a Parquet file (in a worker thread, stopped after this
   * many milliseconds with `parquet_unreadable`). Default 10 000.
   */
  detectTimeoutMs?: number;
}

export interface RunJobOptions {
  /** Called on every progress or state change of the job. */
  onUpdate?: (job: Job) => void;
  /** Aborting cancels the job. */
  signal?: AbortSignal;
}

export interface Engine {
  readonly workspaceDir: string;
  /** One handler per engine channel; hosts add dialog:open and link:open. */
  readonly handlers: EngineHandlers;
  /** Subscribes to engine events (job updates, catalog changes, warnings). */
  on<E extends EventName>(event: E, listener: (payload: EventPayload<E>) => void): () => void;
  /** Starts a job and resolves with its final record (succeeded, failed or cancelled). */
  runJob(kind: JobKind, params: Record<string, unknown>, options?: RunJobOptions): Promise<Job>;
  /** Cancels running jobs, waits for their workers, flushes and unlocks the catalog. */
  close(): Promise<void>;
}
