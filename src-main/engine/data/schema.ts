/**
 * The canonical shapes every importer produces. The zod schemas live in the contract
 * (src-main/api/datasets.ts) because conversations, reports and row errors cross the IPC
 * boundary; this module re-exports them for engine code and adds the reader-internal types.
 */
import type { ImportErrorCode, RowError, SourceLocation } from '../../api/index.js';

export {
  Conversation,
  ConversationPii,
  IMPORT_ERROR_CODES,
  ImportErrorCode,
  ImportReport,
  Message,
  MessageLabels,
  PII_KINDS,
  PiiKind,
  PiiSpan,
  PreferencePair,
  Role,
  RowError,
  SourceLocation,
} from '../../api/index.js';

/** One record a container read, with where it starts. */
export interface ReadRecord {
  kind: 'record';
  value: unknown;
  location: SourceLocation;
  /** The key of the array that held it, for a JSON object of arrays (e.g. `train`). */
  group?: string;
}

/** A row (or the rest of a file) a container could not read. */
export interface ReadError {
  kind: 'error';
  error: RowError;
}

/** A blank line in a JSONL file: skipped and counted, not an error. */
export interface ReadBlank {
  kind: 'blank';
}

export type ReadItem = ReadRecord | ReadError | ReadBlank;

/** Builds a row error at a location. */
export function rowError(location: SourceLocation, code: ImportErrorCode, message: string): RowError {
  const error: RowError = {
    file: location.file,
    line: location.line ?? null,
    byteOffset: location.byteOffset,
    code,
    message,
  };
  if (location.row !== undefined) error.row = location.row;
  return error;
}

/** A failure that ends the reading of one file (the rows before it stay imported). */
export class SourceFailure extends Error {
  readonly code: ImportErrorCode;
  readonly byteOffset: number;
  constructor(code: ImportErrorCode, message: string, byteOffset: number) {
    super(message);
    this.name = 'SourceFailure';
    this.code = code;
    this.byteOffset = byteOffset;
  }
}
