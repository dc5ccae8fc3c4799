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
  // text (tokenizers, chat templates)
  tokenizer_invalid:
    'The tokenizer files are missing, unreadable or not a supported tokenizer; the message names the file and the problem.',
  chat_template_invalid: 'The chat template could not be rendered; check chat_template in tokenizer_config.json.',
  // data import (engine/data); row-level codes are IMPORT_ERROR_CODES in datasets.ts
  format_unrecognised:
    'The records match no known format; pick one with --format (or in the Import view) or map the fields with --map.',
  format_unknown: 'The format name is not one the importer knows; `drift-wb formats` lists them.',
  mapping_invalid:
    'A field mapping is malformed; write it as target=path, e.g. prompt=question or chosen=answers.0.text.',
  source_unreadable: 'A path to import does not exist or cannot be read.',
  dataset_empty: 'Nothing could be imported: every row was rejected or no data file was found; see the errors.',
  decompression_bomb: 'A compressed file expands past the size or ratio limit, so it was not read to the end.',
  parquet_limits_exceeded: 'A Parquet file declares sizes or row counts past the limits, so it was not read.',
  parquet_unreadable:
    'The Parquet decoder did not finish reading the file within the time limit and was stopped; the file is probably damaged (re-export it).',
  // models (engine/model)
  model_unsupported_architecture:
    'The model uses an architecture or feature the workbench does not run (supported: GPT-2, Llama 2/3, Mistral, Qwen2, Qwen3, SmolLM).',
  model_config_invalid: 'config.json lacks a required field or holds an invalid value; the message names the field.',
  model_folder_invalid:
    'The model folder lacks config.json or model.safetensors (PyTorch .bin checkpoints are never loaded: convert them to safetensors).',
  model_folder_exists: 'A model folder with that name already exists; pick another name or allow overwriting it.',
  model_weights_mismatch:
    'The weights do not fit the config: a tensor is missing, unexpected or has the wrong shape; the message names it.',
  model_input_invalid: 'The model input has the wrong shape or type, or is longer than the model can read.',
  safetensors_invalid: 'The safetensors file is malformed or truncated; the message names the tensor and the problem.',
  model_tokenizer_missing:
    'The model folder has no tokenizer (tokenizer.json, or vocab.json with merges.txt); add one, or pass token ids.',
  // training (engine/train)
  training_data_invalid:
    'The training data cannot be used: a line is not {"messages": [...]} or {"prompt", "completion"}, or no example has an assistant turn.',
  training_diverged: 'The loss became NaN or infinite; lower the learning rate or enable gradient clipping.',
  run_exists: 'A run with that name already exists; resume it (--resume) or pick another name.',
  checkpoint_invalid:
    'The checkpoint is incomplete or its files do not match its manifest; an older checkpoint is used if one is valid.',
  checkpoint_not_found: 'The run has no valid checkpoint to resume from.',
  checkpoint_config_mismatch:
    'The checkpoint was made with a different model architecture or optimizer than this run; start a new run instead of resuming.',
  run_state_conflict:
    'The run cannot do that in its current state (for example resume a run that is running or has finished); see `drift-wb run status`.',
  // signals and curation (engine/signals, engine/curation)
  signals_not_mined:
    'The dataset has no mined pairs or signals yet; run `drift-wb mine --dataset <id>` (or Mine in the Conversations view).',
  classifier_untrainable:
    'There are not enough labelled turns (with both classes) to train a classifier; import labelled data or curate more pairs.',
  pairset_empty: 'The selection holds no pairs, so no pair set was frozen; widen the filter.',
  export_target_not_empty: 'The export folder already holds files; pick an empty or new folder, or allow overwriting.',
  export_unsupported:
    'The run cannot be compiled for that target (for example a loss the target does not have, or no data for the method); the message says what.',
  run_import_invalid:
    'The folder is not a training bundle with results (bundle.json, outputs/iter-<k>/ with trainer_state.json); the message names what is missing.',
  // reports (engine/report)
  report_evaluation_invalid:
    'The evaluation file is not an evaluation result (EvaluationResult JSON written by the evaluation); pick another file.',
  report_pdf_unavailable:
    'No headless Chromium was found to print the PDF; install chromium or set CHROMIUM_PATH, or build the html format and print it.',
  // evaluation (engine/evaluations)
  eval_gold_unavailable:
    'These prompts have no gold checker; evaluate on the simulated deployment’s tasks (prompts: sim) or judge with a reward model.',
  evaluation_exists: 'An evaluation with that id already exists; pick another id or leave it out.',
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
