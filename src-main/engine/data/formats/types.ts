/**
 * What a format adapter is: a detector that scores how well a record fits, and a normaliser
 * that turns records into canonical conversations (engine/data/schema.ts). Most formats map
 * one record to one conversation; a few (per-utterance annotation files) group several.
 */
import type { ImportErrorCode, Message, PreferencePair, SourceLocation } from '../schema.js';
import type { ReadRecord, RowError } from '../schema.js';
import { rowError } from '../schema.js';

/** A conversation before the pipeline adds its id, format, language, PII and duplicate flags. */
export interface Draft {
  messages: Message[];
  pair?: PreferencePair;
  feedback?: Message;
  label?: boolean;
  scores?: Record<string, number>;
  metadata: Record<string, unknown>;
}

export type NormalizedItem =
  { kind: 'draft'; draft: Draft; location: SourceLocation } | { kind: 'error'; error: RowError };

/** Turns records into drafts; `flush` ends a group that spans records. */
export interface Normalizer {
  push(record: ReadRecord): NormalizedItem[];
  flush(): NormalizedItem[];
}

export interface FormatAdapter {
  /** Stable name, used by `--format` and stored in each conversation. */
  name: string;
  label: string;
  description: string;
  aliases: string[];
  /**
   * How specifically one record fits: 0 when it does not, higher for more specific shapes
   * (a DRIFT dsat record also fits the generic preference shape, with a lower weight).
   */
  match(record: unknown): number;
  createNormalizer(): Normalizer;
}

/** A record that cannot be normalised; becomes a row error with this code. */
export class RowProblem extends Error {
  readonly code: ImportErrorCode;
  constructor(code: ImportErrorCode, message: string) {
    super(message);
    this.name = 'RowProblem';
    this.code = code;
  }
}

/** A normaliser for formats where each record is one conversation. */
export function perRecord(normalize: (record: Record<string, unknown>) => Draft): () => Normalizer {
  return () => ({
    push: (record) => {
      try {
        return [{ kind: 'draft', draft: normalize(asRecord(record.value)), location: record.location }];
      } catch (error) {
        return [problemItem(error, record.location)];
      }
    },
    flush: () => [],
  });
}

/** A RowProblem (or anything else thrown while normalising) as a row error item. */
export function problemItem(error: unknown, location: SourceLocation): NormalizedItem {
  if (error instanceof RowProblem) return { kind: 'error', error: rowError(location, error.code, error.message) };
  const message = error instanceof Error ? error.message : String(error);
  return { kind: 'error', error: rowError(location, 'field_type', `Could not read the record: ${message}`) };
}

/** The record as an object, or a `field_type` problem. */
export function asRecord(value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new RowProblem('field_type', `The record is ${describeType(value)}, not an object.`);
  }
  return value as Record<string, unknown>;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  return `a ${typeof value}`;
}
