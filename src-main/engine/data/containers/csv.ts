/**
 * CSV and TSV through csv-parse (RFC 4180: quoted fields may hold delimiters and newlines). The
 * first record names the columns; each later record becomes an object keyed by them. Fields
 * come as bytes and are decoded strictly, so bad UTF-8 is a row error rather than U+FFFD.
 */
import { parse, type CsvError, type Info } from 'csv-parse';
import { pipeline, Readable } from 'node:stream';
import type { ImportLimits } from '../limits.js';
import { rowError, SourceFailure, type ReadItem } from '../schema.js';
import { decodeUtf8, firstInvalidUtf8 } from '../utf8.js';
import type { ByteSource } from './bytes.js';

const BATCH = 512;

/** Reads a CSV (`,`) or TSV (tab) byte source as batches of items. */
export async function* readDelimited(
  source: ByteSource,
  file: string,
  delimiter: ',' | '\t',
  limits: ImportLimits,
): AsyncGenerator<ReadItem[]> {
  const pending: ReadItem[] = [];
  // Where the next record starts: the end of the previous one.
  let nextLine = 1;
  let nextByte = 0;
  const base = () => (source.bom ? 3 : 0);
  // csv-parse stops parsing for good after a record over max_record_size (the rest of the file
  // would be dropped without a word), so such a record ends the file like other file failures:
  // the rows before it stay, and the report says where reading stopped.
  let stopped: SourceFailure | null = null;
  const parser = parse({
    delimiter,
    encoding: null,
    info: true,
    relax_column_count: true,
    relax_quotes: true,
    record_delimiter: ['\r\n', '\n', '\r'],
    skip_empty_lines: true,
    skip_records_with_error: true,
    max_record_size: limits.maxRecordBytes,
    on_skip: (error: CsvError | undefined) => {
      if (stopped) return undefined;
      if (error?.code === 'CSV_MAX_RECORD_SIZE') {
        const bytes = (error as { bytes?: unknown }).bytes;
        const offset = base() + (typeof bytes === 'number' ? bytes : nextByte);
        stopped = new SourceFailure(
          'record_too_large',
          `${error.message}; reading of this file stopped there.`,
          offset,
        );
        return undefined;
      }
      const location = { file, line: nextLine, byteOffset: base() + nextByte };
      pending.push({ kind: 'error', error: rowError(location, 'csv_invalid', error?.message ?? 'Malformed record.') });
      const lines = (error as { lines?: unknown } | undefined)?.lines;
      if (typeof lines === 'number') nextLine = lines + 1;
      return undefined;
    },
  });
  pipeline(Readable.from(source.chunks), parser, () => undefined);

  let header: string[] | null = null;
  let row = 0;
  for await (const entry of parser as AsyncIterable<{ record: Buffer[]; info: Info }>) {
    const { record, info } = entry;
    const location = { file, line: nextLine, row, byteOffset: base() + nextByte };
    nextLine = info.lines + 1;
    nextByte = info.bytes;
    const fields: string[] = [];
    let invalid: number | null = null;
    for (const field of record) {
      const text = decodeUtf8(field);
      if (text === null) {
        invalid = firstInvalidUtf8(field);
        break;
      }
      fields.push(text);
    }
    if (header === null) {
      if (invalid !== null) {
        const error = rowError(location, 'utf8_invalid', 'The header row is not valid UTF-8.');
        pending.push({ kind: 'error', error });
        break;
      }
      header = uniqueNames(fields);
      continue;
    }
    if (invalid !== null) {
      pending.push({ kind: 'error', error: rowError(location, 'utf8_invalid', 'A field is not valid UTF-8.') });
    } else {
      const value: Record<string, string> = {};
      fields.forEach((field, index) => {
        const name = header?.[index] ?? `column_${index + 1}`;
        if (name !== '__proto__') value[name] = field;
      });
      pending.push({ kind: 'record', value, location });
    }
    row++;
    if (pending.length >= BATCH) yield pending.splice(0);
  }
  if (pending.length > 0) yield pending.splice(0);
  if (stopped) throw stopped;
}

function uniqueNames(fields: string[]): string[] {
  const seen = new Map<string, number>();
  return fields.map((field, index) => {
    const name = field.trim() === '' ? `column_${index + 1}` : field.trim();
    const count = (seen.get(name) ?? 0) + 1;
    seen.set(name, count);
    return count === 1 ? name : `${name}_${count}`;
  });
}
