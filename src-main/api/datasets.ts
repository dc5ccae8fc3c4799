/**
 * Imported data as every host sees it: the canonical Conversation/Message schema that all
 * importers normalise to (engine/data), the import report stored with each dataset, and the
 * stable codes of rows an import rejected. Pure zod: no node:*, no electron, no DOM.
 *
 * Conventions the later stages (signal mining, curation, training) rely on:
 * - `messages` is the conversation in order; `turn` is the index in `messages`.
 * - A preference row keeps its shared context in `messages` and its two answers in `pair`
 *   (`turn` of both is `messages.length`, the position the answer takes).
 * - DRIFT dsat_data.jsonl: `prompt` → `messages`, `rejected[0]` → `pair.rejected` (the DSAT
 *   response), `user_preference` → `feedback` (the user's dissatisfied follow-up turn,
 *   `turn` = `messages.length + 1`).
 * - WildFeedback sat_dsat_annotation: the SAT/DSAT flags stay on the user turn that carries them,
 *   with `labels.judges` = the turn of the assistant message the flag judges (the one before it).
 */
import { z } from 'zod';

export const Role = z.enum(['system', 'user', 'assistant']);
export type Role = z.infer<typeof Role>;

/** Annotations carried by the source for one message. */
export const MessageLabels = z.object({
  /** The user expressed satisfaction with the assistant turn `judges`. */
  sat: z.boolean().optional(),
  /** The user expressed dissatisfaction with the assistant turn `judges`. */
  dsat: z.boolean().optional(),
  /** Turn index of the assistant message this (user) turn's flags judge. */
  judges: z.number().int().nonnegative().optional(),
  /** Category names given by the source (e.g. rubric categories). */
  categories: z.array(z.string()).optional(),
  /** The source's own label fields, verbatim. */
  original: z.record(z.string(), z.unknown()).optional(),
});
export type MessageLabels = z.infer<typeof MessageLabels>;

export const Message = z.object({
  role: Role,
  content: z.string(),
  /** Index in the conversation (`messages`), or the position an answer/feedback takes. */
  turn: z.number().int().nonnegative(),
  name: z.string().optional(),
  labels: MessageLabels.optional(),
  /** Per-message fields of the source that have no canonical place (timestamp, model, ...). */
  metadata: z.record(z.string(), z.unknown()).optional(),
});
export type Message = z.infer<typeof Message>;

export const SourceLocation = z.object({
  /** The file, relative to the imported folder (or its base name for a single file). */
  file: z.string(),
  /** 1-based line of the record's first byte (JSONL, JSON, CSV). */
  line: z.number().int().positive().optional(),
  /** 0-based row index (CSV data rows, Parquet rows). */
  row: z.number().int().nonnegative().optional(),
  /** Byte offset of the record in the (decompressed) file; for Parquet, of its row group. */
  byteOffset: z.number().int().nonnegative(),
});
export type SourceLocation = z.infer<typeof SourceLocation>;

export const PII_KINDS = ['email', 'phone', 'card', 'ip', 'secret'] as const;
export const PiiKind = z.enum(PII_KINDS);
export type PiiKind = z.infer<typeof PiiKind>;

/** Where a personal-data match sits: a message turn, or one of the non-`messages` slots. */
export const PiiTarget = z.union([z.number().int().nonnegative(), z.enum(['chosen', 'rejected', 'feedback'])]);
export type PiiTarget = z.infer<typeof PiiTarget>;

export const PiiSpan = z.object({
  target: PiiTarget,
  /** UTF-16 offsets into the stored content (after redaction, the placeholder's span). */
  start: z.number().int().nonnegative(),
  end: z.number().int().nonnegative(),
  kind: PiiKind,
});
export type PiiSpan = z.infer<typeof PiiSpan>;

export const PiiCounts = z.partialRecord(PiiKind, z.number().int().nonnegative());
export type PiiCounts = z.infer<typeof PiiCounts>;

export const ConversationPii = z.object({
  counts: PiiCounts,
  spans: z.array(PiiSpan),
  /** Whether the matches were replaced by placeholders such as `<EMAIL>` on import. */
  redacted: z.boolean(),
});
export type ConversationPii = z.infer<typeof ConversationPii>;

export const PreferencePair = z.object({
  chosen: Message.optional(),
  rejected: Message.optional(),
  chosenScore: z.number().optional(),
  rejectedScore: z.number().optional(),
});
export type PreferencePair = z.infer<typeof PreferencePair>;

export const Conversation = z.object({
  /** Stable: a hash of the source location and the content. */
  id: z.string(),
  datasetId: z.string().optional(),
  source: SourceLocation,
  /** The importer (format name) that read the record. */
  format: z.string(),
  messages: z.array(Message),
  /** Preference rows: the two answers to the context in `messages` (either may be absent). */
  pair: PreferencePair.optional(),
  /** DRIFT `user_preference`: the user's feedback turn after the rejected answer. */
  feedback: Message.optional(),
  /** Unpaired binary feedback (KTO): whether the last assistant answer was desirable. */
  label: z.boolean().optional(),
  /** Numeric scores of the source (ratings, like counts), by name. */
  scores: z.record(z.string(), z.number()).optional(),
  /** Detected language (ISO 639-1), or `und` when too short or unclear. */
  language: z.string().optional(),
  pii: ConversationPii.optional(),
  /** Id of the first conversation with the same normalised content. */
  duplicateOf: z.string().optional(),
  /** Original fields with no canonical place (model, toxic, conversation_hash, labels, ...). */
  metadata: z.record(z.string(), z.unknown()),
});
export type Conversation = z.infer<typeof Conversation>;

/**
 * Why an import skipped a row or a file. Codes are stable (add, never rename); each has a
 * sentence for the report. Rows with these codes are reported and the rest of the data imports.
 */
export const IMPORT_ERROR_CODES = {
  json_invalid: 'The line or record is not valid JSON.',
  utf8_invalid: 'The bytes are not valid UTF-8 text.',
  line_too_long: 'The JSONL line is longer than the line limit; it was skipped without being read into memory.',
  record_too_large: 'The record is larger than the record limit.',
  csv_invalid: 'The CSV/TSV record is malformed (quotes, column count).',
  field_missing: 'A field the format needs is missing.',
  field_type: 'A field has the wrong type.',
  role_unknown: 'A message has a role that is not system, user or assistant (or a known alias).',
  conversation_empty: 'The record holds no message with text.',
  decompression_bomb: 'The compressed file expands past the size or ratio limit; reading stopped there.',
  parquet_limits_exceeded: 'The Parquet file declares sizes or row counts past the limits; it was not read.',
  parquet_invalid: 'The Parquet file is damaged or uses an unsupported feature.',
  file_unreadable: 'The file could not be read (missing, permissions, truncated compression).',
  file_unsupported: 'The file type is not one the importer reads.',
  format_unrecognised: 'The records of this file match no known format; pass --format or a field mapping.',
} as const;
export type ImportErrorCode = keyof typeof IMPORT_ERROR_CODES;
export const ImportErrorCode = z.enum(Object.keys(IMPORT_ERROR_CODES) as [ImportErrorCode, ...ImportErrorCode[]]);

export const RowError = z.object({
  file: z.string(),
  /** 1-based line, where the container has lines (null for Parquet and file-level errors). */
  line: z.number().int().positive().nullable(),
  /** 0-based data row (CSV, Parquet), or record index in a JSON array. */
  row: z.number().int().nonnegative().optional(),
  byteOffset: z.number().int().nonnegative(),
  code: ImportErrorCode,
  message: z.string(),
});
export type RowError = z.infer<typeof RowError>;

export const ContainerKind = z.enum(['jsonl', 'json', 'csv', 'tsv', 'parquet']);
export type ContainerKind = z.infer<typeof ContainerKind>;

/** A format the importer knows, for pickers and `drift-wb formats`. */
export const FormatInfo = z.object({
  name: z.string(),
  label: z.string(),
  description: z.string(),
  aliases: z.array(z.string()),
});
export type FormatInfo = z.infer<typeof FormatInfo>;

/** One field path seen in sampled records, for the field-mapping step. */
export const FieldInfo = z.object({
  /** Dotted path; array items as `.0`. */
  path: z.string(),
  types: z.array(z.string()),
  /** Fraction of sampled records that have it. */
  presence: z.number().min(0).max(1),
  example: z.string().optional(),
});
export type FieldInfo = z.infer<typeof FieldInfo>;

export const FormatCandidate = z.object({ format: z.string(), score: z.number().min(0).max(1) });
export type FormatCandidate = z.infer<typeof FormatCandidate>;

export const SourceFile = z.object({
  /** Absolute path. */
  path: z.string(),
  /** As stored in the dataset: relative to the imported folder, or the base name. */
  relative: z.string(),
  container: ContainerKind,
  gzip: z.boolean(),
  bytes: z.number().int().nonnegative(),
});
export type SourceFile = z.infer<typeof SourceFile>;

/** What `dataset:detect` answers: the format guess, a preview and what to map if unsure. */
export const DetectResult = z.object({
  files: z.array(SourceFile),
  /** Files under the given folders that are not data files (hidden ones are not listed). */
  skippedFiles: z.array(z.string()),
  /** The best format, or null when no format fits well enough (ask for a mapping). */
  format: z.string().nullable(),
  confidence: z.number().min(0).max(1),
  candidates: z.array(FormatCandidate),
  fields: z.array(FieldInfo),
  /** Records read for the guess (from the first file). */
  sampled: z.number().int().nonnegative(),
  preview: z.array(Conversation),
  errors: z.array(RowError),
});
export type DetectResult = z.infer<typeof DetectResult>;

export const ImportFileReport = SourceFile.extend({
  format: z.string().nullable(),
  rows: z.number().int().nonnegative(),
  conversations: z.number().int().nonnegative(),
  rejected: z.number().int().nonnegative(),
});
export type ImportFileReport = z.infer<typeof ImportFileReport>;

export const ImportCounts = z.object({
  files: z.number().int().nonnegative(),
  /** Records read (valid or not), not counting blank lines. */
  rows: z.number().int().nonnegative(),
  conversations: z.number().int().nonnegative(),
  messages: z.number().int().nonnegative(),
  rejected: z.number().int().nonnegative(),
  duplicates: z.number().int().nonnegative(),
  blankLines: z.number().int().nonnegative(),
  bytes: z.number().int().nonnegative(),
});
export type ImportCounts = z.infer<typeof ImportCounts>;

/** import-report.json, stored in the dataset folder and shown by the app and `drift-wb`. */
export const ImportReport = z.object({
  datasetId: z.string(),
  name: z.string(),
  /** The format of most conversations (`mixed` is never used: see `formats`). */
  format: z.string(),
  /** Conversations per format. */
  formats: z.record(z.string(), z.number().int().nonnegative()),
  mapping: z.record(z.string(), z.string()).nullable(),
  redacted: z.boolean(),
  files: z.array(ImportFileReport),
  counts: ImportCounts,
  pii: z.object({
    /** Conversations with at least one match. */
    conversations: z.number().int().nonnegative(),
    counts: PiiCounts,
  }),
  languages: z.record(z.string(), z.number().int().nonnegative()),
  duplicates: z.object({
    count: z.number().int().nonnegative(),
    /** The first duplicates found, each with the id of its first occurrence. */
    examples: z.array(
      z.object({ id: z.string(), duplicateOf: z.string(), file: z.string(), line: z.number().nullable() }),
    ),
  }),
  /** The first rejected rows (capped); `errorCounts` has the totals per code. */
  errors: z.array(RowError),
  errorCounts: z.partialRecord(ImportErrorCode, z.number().int().nonnegative()),
  errorsTruncated: z.boolean(),
  startedAt: z.string(),
  finishedAt: z.string(),
  durationMs: z.number().nonnegative(),
});
export type ImportReport = z.infer<typeof ImportReport>;
