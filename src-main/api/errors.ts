/**
 * Errors are data: every failure that crosses a boundary (IPC, HTTP, CLI, worker) is an
 * `AppError` with a stable snake_case `code`. Codes never change meaning once released; add new
 * ones instead. Each code carries a default hint that tells the user what to do next.
 */

export const ERROR_CODES = {
  // contract / transport
  unknown_channel: 'The request names a channel the workbench does not know.',
  invalid_request: 'The request payload does not match the channel schema.',
  invalid_response: 'The engine produced a response that does not match the channel schema.',
  forbidden_sender: 'The request came from a frame that is not the workbench UI.',
  unauthorized: 'The request did not carry the browser-mode token printed at start-up.',
  forbidden_origin: 'The request came from another web origin.',
  not_found: 'The requested resource does not exist.',
  unsupported_in_browser_mode: 'This action needs the desktop app (for example a native dialog).',
  internal_error: 'An unexpected error happened; the details are in the log.',
  // workspace
  workspace_locked: 'Another workbench process is writing to this workspace.',
  workspace_unreadable: 'The workspace folder cannot be read or created.',
  catalog_corrupt: 'workbench.json was corrupt; it was quarantined and the last good copy restored.',
  catalog_invalid: 'workbench.json does not match the catalog schema.',
  catalog_newer_version: 'workbench.json was written by a newer version of the workbench.',
  // jobs
  job_not_found: 'No job with this id exists in the workspace.',
  job_unknown_kind: 'The job kind is not one the engine can run.',
  job_cancelled: 'The job was cancelled.',
  job_failed: 'The job failed; see its error for details.',
  job_worker_crashed: 'The worker thread running the job exited unexpectedly.',
  job_not_cancellable: 'The job has already finished.',
  job_interrupted: 'The workbench process that ran this job stopped before the job finished.',
  job_invalid_params: 'The job parameters are invalid.',
  // compute
  backend_unavailable: 'No tfjs backend could be initialised.',
  gradient_check_failed: 'Analytic and numerical gradients disagree beyond the tolerance.',
  // files
  path_outside_workspace: 'The path escapes the folder it must stay in.',
  url_not_allowed: 'Only https:// links can be opened outside the app.',
  // hosts (browser mode, CLI)
  invalid_arguments: 'The command line does not match the usage of the command; run it with --help.',
  server_listen_failed: 'Browser mode could not listen on that address and port; pick another with --host or --port.',
  renderer_not_built: 'The built UI is missing; run `npm run build` first (or pass --static <dir>).',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface AppError {
  code: ErrorCode;
  /** What went wrong, for a person: names the file, line, field or value where there is one. */
  message: string;
  /** What to do next. Defaults to the code's hint. */
  hint?: string;
  /** Structured context (paths, line numbers, schema issues). Must be JSON-serialisable. */
  details?: unknown;
}

export type Result<T> = { ok: true; value: T } | { ok: false; error: AppError };

export function ok<T>(value: T): Result<T> {
  return { ok: true, value };
}

export function err(code: ErrorCode, message?: string, details?: unknown): { ok: false; error: AppError } {
  const error: AppError = { code, message: message ?? ERROR_CODES[code], hint: ERROR_CODES[code] };
  if (details !== undefined) error.details = details;
  return { ok: false, error };
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_CODES, value);
}

/** An exception that carries an AppError; thrown inside the engine, turned into a Result at the boundary. */
export class AppFailure extends Error {
  readonly code: ErrorCode;
  readonly details: unknown;
  constructor(code: ErrorCode, message?: string, details?: unknown) {
    super(message ?? ERROR_CODES[code]);
    this.name = 'AppFailure';
    this.code = code;
    this.details = details;
  }
  toAppError(): AppError {
    return err(this.code, this.message, this.details).error;
  }
}

/** Converts anything thrown into an AppError without leaking stack traces across the boundary. */
export function toAppError(thrown: unknown): AppError {
  if (thrown instanceof AppFailure) return thrown.toAppError();
  const message = thrown instanceof Error ? thrown.message : String(thrown);
  return err('internal_error', message).error;
}
