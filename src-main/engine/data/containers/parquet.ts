/**
 * Parquet through hyparquet, one row group at a time. hyparquet trusts the sizes a file
 * declares: it allocates `uncompressed_page_size` bytes before decompressing a page
 * (reference/reliability.md §0 item 11). So the footer length, the row count and each row
 * group's uncompressed size are checked against the limits before any page is read, and every
 * decompressor is wrapped to refuse a page that declares more than the page limit.
 */
import { open } from 'node:fs/promises';
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects, snappyUncompress } from 'hyparquet';
import type { AsyncBuffer, Compressors, FileMetaData } from 'hyparquet';
import { compressors as extraCompressors } from 'hyparquet-compressors';
import type { ImportLimits } from '../limits.js';
import { rowError, SourceFailure, type ReadItem } from '../schema.js';

const MAGIC = 'PAR1';
const FOOTER_BYTES = 8;

/** Progress of a Parquet read: compressed bytes of the row groups read so far. */
export interface ParquetProgress {
  bytesRead: number;
}

class PageTooLarge extends Error {}

/** Refuses a page whose declared size is past the limit, then decompresses it. */
function guardedCompressors(maxPageBytes: number): Compressors {
  const guard =
    (decompress: (input: Uint8Array, outputLength: number) => Uint8Array) =>
    (input: Uint8Array, outputLength: number): Uint8Array => {
      if (!Number.isSafeInteger(outputLength) || outputLength < 0 || outputLength > maxPageBytes) {
        throw new PageTooLarge(`A page declares ${outputLength} uncompressed bytes; the limit is ${maxPageBytes}.`);
      }
      return decompress(input, outputLength);
    };
  const guarded: Compressors = {
    SNAPPY: guard((input, outputLength) => {
      const output = new Uint8Array(outputLength);
      snappyUncompress(input, output);
      return output;
    }),
  };
  for (const [codec, decompress] of Object.entries(extraCompressors)) {
    if (codec !== 'SNAPPY' && decompress) guarded[codec as keyof Compressors] = guard(decompress);
  }
  return guarded;
}

/**
 * Checks the footer and the declared sizes; returns the metadata or throws SourceFailure
 * (`parquet_limits_exceeded`, `parquet_invalid`).
 */
export async function readParquetMetadata(
  path: string,
  limits: ImportLimits,
): Promise<{ file: AsyncBuffer; metadata: FileMetaData }> {
  const handle = await open(path, 'r');
  let size: number;
  const tail = Buffer.alloc(FOOTER_BYTES);
  const head = Buffer.alloc(4);
  try {
    size = (await handle.stat()).size;
    if (size < 12) throw new SourceFailure('parquet_invalid', `The file is ${size} bytes, too short for Parquet.`, 0);
    await handle.read(head, 0, 4, 0);
    await handle.read(tail, 0, FOOTER_BYTES, size - FOOTER_BYTES);
  } finally {
    await handle.close();
  }
  if (head.toString('latin1') !== MAGIC || tail.subarray(4).toString('latin1') !== MAGIC) {
    throw new SourceFailure('parquet_invalid', 'The file does not start and end with the Parquet magic "PAR1".', 0);
  }
  const metadataLength = tail.readUInt32LE(0);
  if (metadataLength > size - 12) {
    const message = `The footer declares ${metadataLength} bytes of metadata in a ${size}-byte file.`;
    throw new SourceFailure('parquet_invalid', message, size - FOOTER_BYTES);
  }
  if (metadataLength > limits.parquetMaxMetadataBytes) {
    const message = `The footer declares ${metadataLength} bytes of metadata; the limit is ${limits.parquetMaxMetadataBytes}.`;
    throw new SourceFailure('parquet_limits_exceeded', message, size - FOOTER_BYTES);
  }
  const file = await asyncBufferFromFile(path);
  let metadata: FileMetaData;
  try {
    metadata = await parquetMetadataAsync(file);
  } catch (error) {
    throw new SourceFailure('parquet_invalid', `The Parquet footer is damaged: ${(error as Error).message}`, size);
  }
  checkDeclaredSizes(metadata, size, limits);
  return { file, metadata };
}

function checkDeclaredSizes(metadata: FileMetaData, fileSize: number, limits: ImportLimits): void {
  const exceeded = (message: string, offset = fileSize - FOOTER_BYTES): never => {
    throw new SourceFailure('parquet_limits_exceeded', message, offset);
  };
  const rows = Number(metadata.num_rows);
  if (!Number.isSafeInteger(rows) || rows < 0 || rows > limits.parquetMaxRows) {
    exceeded(`The file declares ${metadata.num_rows} rows; the limit is ${limits.parquetMaxRows}.`);
  }
  metadata.row_groups.forEach((group, index) => {
    const groupRows = Number(group.num_rows);
    if (!Number.isSafeInteger(groupRows) || groupRows < 0 || groupRows > limits.parquetMaxRows) {
      exceeded(`Row group ${index} declares ${group.num_rows} rows; the limit is ${limits.parquetMaxRows}.`);
    }
    let uncompressed = 0;
    for (const column of group.columns) {
      const meta = column.meta_data;
      if (!meta) continue;
      const declared = Number(meta.total_uncompressed_size);
      const compressed = Number(meta.total_compressed_size);
      if (!Number.isSafeInteger(declared) || declared < 0) exceeded(`Row group ${index} declares an invalid size.`);
      if (!Number.isSafeInteger(compressed) || compressed < 0 || compressed > fileSize) {
        exceeded(
          `Row group ${index} declares ${meta.total_compressed_size} compressed bytes in a ${fileSize}-byte file.`,
        );
      }
      uncompressed += declared;
    }
    if (uncompressed > limits.parquetMaxRowGroupBytes) {
      exceeded(
        `Row group ${index} declares ${uncompressed} uncompressed bytes; the limit is ${limits.parquetMaxRowGroupBytes}.`,
      );
    }
  });
}

/** Reads a Parquet file as batches of items, one batch per row group. */
export async function* readParquet(
  path: string,
  file: string,
  limits: ImportLimits,
  progress: ParquetProgress,
): AsyncGenerator<ReadItem[]> {
  const { file: buffer, metadata } = await readParquetMetadata(path, limits);
  const compressors = guardedCompressors(limits.parquetMaxPageBytes);
  let rowStart = 0;
  for (const group of metadata.row_groups) {
    const rowEnd = rowStart + Number(group.num_rows);
    const byteOffset = groupOffset(group.columns);
    let rows: Record<string, unknown>[];
    try {
      rows = await parquetReadObjects({ file: buffer, metadata, rowStart, rowEnd, compressors });
    } catch (error) {
      if (error instanceof PageTooLarge) throw new SourceFailure('parquet_limits_exceeded', error.message, byteOffset);
      throw new SourceFailure(
        'parquet_invalid',
        `Row group at byte ${byteOffset}: ${(error as Error).message}`,
        byteOffset,
      );
    }
    const items: ReadItem[] = rows.map((row, index) => ({
      kind: 'record',
      value: toJsonValue(row),
      location: { file, row: rowStart + index, byteOffset },
    }));
    for (const column of group.columns) progress.bytesRead += Number(column.meta_data?.total_compressed_size ?? 0);
    rowStart = rowEnd;
    if (items.length > 0) yield items;
  }
  if (metadata.row_groups.length === 0 && Number(metadata.num_rows) > 0) {
    yield [
      {
        kind: 'error',
        error: rowError({ file, byteOffset: 0 }, 'parquet_invalid', 'The file has rows but no row groups.'),
      },
    ];
  }
}

function groupOffset(columns: FileMetaData['row_groups'][number]['columns']): number {
  const first = columns[0]?.meta_data;
  if (!first) return 0;
  return Number(first.dictionary_page_offset ?? first.data_page_offset);
}

/** Parquet values as JSON: 64-bit integers as numbers when exact (else strings), dates as ISO text. */
export function toJsonValue(value: unknown): unknown {
  if (typeof value === 'bigint') {
    return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(value)
      : value.toString();
  }
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (Array.isArray(value)) return value.map(toJsonValue);
  if (typeof value === 'number' && !Number.isFinite(value)) return null;
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) if (key !== '__proto__') out[key] = toJsonValue(item);
    return out;
  }
  return value;
}
