/**
 * Opens one data file as batches of raw records with their locations, whatever its container:
 * JSONL, JSON, CSV, TSV (each optionally gzipped) or Parquet. A SourceFailure thrown while
 * iterating ends that file (decompression bomb, Parquet limits, damaged data).
 */
import type { SourceFile } from '../../../api/index.js';
import type { ImportLimits } from '../limits.js';
import { SourceFailure, type ReadItem } from '../schema.js';
import { ByteSource } from './bytes.js';
import { readJson } from './json.js';
import { readJsonl } from './jsonl.js';
import type { ParquetProgress } from './parquet.js';

export interface OpenedFile {
  /** Batches of records, errors and blanks, in file order. */
  items: AsyncGenerator<ReadItem[]>;
  /** Bytes of the file read so far (compressed bytes for .gz, row groups for Parquet). */
  bytesRead(): number;
}

export function openRecords(file: SourceFile, limits: ImportLimits, signal?: AbortSignal): OpenedFile {
  if (file.container === 'parquet') {
    const progress: ParquetProgress = { bytesRead: 0 };
    const items = file.gzip
      ? unsupported('A gzipped Parquet file cannot be read in place; decompress it first.')
      : loaded(async () => (await import('./parquet.js')).readParquet(file.path, file.relative, limits, progress));
    return { items, bytesRead: () => progress.bytesRead };
  }
  const source = new ByteSource(file.path, file.gzip, limits, signal);
  const items =
    file.container === 'jsonl'
      ? readJsonl(source, file.relative, limits)
      : file.container === 'json'
        ? readJson(source, file.relative, limits)
        : loaded(async () =>
            (await import('./csv.js')).readDelimited(
              source,
              file.relative,
              file.container === 'csv' ? ',' : '\t',
              limits,
            ),
          );
  return { items, bytesRead: () => source.bytesRead };
}

/**
 * The items of a reader whose module is loaded on first use: the Parquet and CSV readers and
 * their libraries (about 15 MB of RSS) stay out of hosts and JSONL imports that never need them.
 */
async function* loaded(open: () => Promise<AsyncGenerator<ReadItem[]>>): AsyncGenerator<ReadItem[]> {
  yield* await open();
}

// eslint-disable-next-line require-yield
async function* unsupported(message: string): AsyncGenerator<ReadItem[]> {
  throw new SourceFailure('file_unsupported', message, 0);
}

export { ByteSource } from './bytes.js';
export { LineSplitter, parseLine } from './jsonl.js';
export { JsonScanner } from './json.js';
