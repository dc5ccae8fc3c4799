/**
 * `dataset:detect`: what an import of these paths would do, read from the first records only
 * (bounded: the detection sample, then until the preview is full). The Import view shows the
 * guessed format with its confidence, a preview of normalised conversations with personal data
 * flagged, the rows rejected so far, and the field listing for a mapping step.
 */
import { AppFailure, type DetectResult, type RowError } from '../../api/index.js';
import { expandPaths } from './files.js';
import { checkMapping, findFormat, type FieldMapping } from './formats/index.js';
import { loadLanguageDetector } from './language.js';
import { DEFAULT_LIMITS, type ImportLimits } from './limits.js';
import { ConversationFinisher } from './pipeline.js';
import { FileReader } from './reader.js';
import type { Conversation } from './schema.js';

export const PREVIEW_CONVERSATIONS = 20;
const PREVIEW_ERRORS = 50;

export interface DetectRequest {
  paths: string[];
  format?: string | undefined;
  map?: Record<string, string> | undefined;
}

/** How long detection of a Parquet file may take in its worker thread before it is stopped. */
export const PARQUET_DETECT_TIMEOUT_MS = 10_000;

/**
 * Runs detection of a request in a worker thread (the engine passes the job manager's), stopping
 * it after `timeoutMs`. A damaged Parquet page can make hyparquet loop forever inside one
 * synchronous call, which only terminating the thread ends; the host must stay responsive.
 */
export interface IsolatedDetection {
  timeoutMs: number;
  run(
    request: DetectRequest,
    timeoutMs: number,
  ): Promise<{ status: 'finished'; result: unknown } | { status: 'timed_out' }>;
}

/**
 * Detects the format of the first file and previews it. With `isolated`, a Parquet file is read
 * in a worker thread under a time limit (`parquet_unreadable` when the decoder does not finish);
 * other containers are read here, as their readers are bounded by the limits.
 */
export async function detectDataset(
  request: DetectRequest,
  limits: ImportLimits = DEFAULT_LIMITS,
  isolated?: IsolatedDetection,
): Promise<DetectResult> {
  const { files, skipped } = await expandPaths(request.paths);
  if (isolated && files[0]?.container === 'parquet') {
    const outcome = await isolated.run(request, isolated.timeoutMs);
    if (outcome.status === 'finished') return outcome.result as DetectResult;
    const seconds = Math.round(isolated.timeoutMs / 100) / 10;
    throw new AppFailure(
      'parquet_unreadable',
      `The Parquet decoder did not finish reading ${files[0].path} within ${seconds} s, so it was stopped; ` +
        'the file is probably damaged (a corrupt page can make the decoder loop forever).',
      { path: files[0].path, timeoutMs: isolated.timeoutMs },
    );
  }
  const forced = request.format ? findFormat(request.format) : undefined;
  const mapping: FieldMapping | null = request.map ? checkMapping(request.map) : null;
  const result: DetectResult = {
    files,
    skippedFiles: skipped,
    format: null,
    confidence: 0,
    candidates: [],
    fields: [],
    sampled: 0,
    preview: [],
    errors: [],
  };
  const first = files[0];
  if (!first) return result;

  const finisher = new ConversationFinisher({ redact: false, language: await loadLanguageDetector(), limits });
  const reader = new FileReader(first, { format: forced, mapping, limits });
  const preview: Conversation[] = [];
  const errors: RowError[] = [];
  for await (const batch of reader.outcomes()) {
    for (const outcome of batch) {
      if (outcome.kind === 'error') {
        if (errors.length < PREVIEW_ERRORS) errors.push(outcome.error);
      } else if (outcome.kind === 'draft' && preview.length < PREVIEW_CONVERSATIONS) {
        const finished = finisher.finish(outcome.draft, outcome.location, reader.format!.name, outcome.group);
        if (finished.ok) preview.push(finished.conversation);
        else if (errors.length < PREVIEW_ERRORS) errors.push(finished.error);
      }
    }
    if (preview.length >= PREVIEW_CONVERSATIONS) break;
  }
  result.format = reader.format?.name ?? null;
  result.confidence = forced ? 1 : (reader.detection?.confidence ?? 0);
  result.candidates = reader.detection?.candidates ?? (forced ? [{ format: forced.name, score: 1 }] : []);
  result.fields = reader.fields();
  result.sampled = reader.sample.length;
  result.preview = preview;
  result.errors = errors;
  return result;
}
