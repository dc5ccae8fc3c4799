/**
 * Limits every importer enforces before it allocates (reference/reliability.md §5): data files
 * are untrusted, so sizes declared by a file (Parquet headers) or implied by it (a line with no
 * newline, a gzip that inflates a thousandfold) are checked against these caps first.
 */

export interface ImportLimits {
  /** A JSONL line longer than this is skipped (`line_too_long`) without being buffered. */
  maxLineBytes: number;
  /** A JSON array element, CSV record or Parquet row larger than this is rejected. */
  maxRecordBytes: number;
  /** Decompressed bytes one .gz file may produce. */
  maxDecompressedBytes: number;
  /** Decompressed/compressed ratio allowed once `ratioGraceBytes` have been inflated. */
  maxCompressionRatio: number;
  /** Inflated bytes before the ratio is checked (small files legitimately compress well). */
  ratioGraceBytes: number;
  /** Rows one Parquet file may declare. */
  parquetMaxRows: number;
  /** Uncompressed bytes one Parquet row group may declare (a row group is read whole). */
  parquetMaxRowGroupBytes: number;
  /** Uncompressed bytes one Parquet page may declare (hyparquet allocates this up front). */
  parquetMaxPageBytes: number;
  /** Bytes of the Parquet footer (file metadata). */
  parquetMaxMetadataBytes: number;
  /** Messages one conversation may hold. */
  maxMessages: number;
  /** Rejected rows kept in the import report (the counts per code are always complete). */
  maxReportedErrors: number;
}

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

export const DEFAULT_LIMITS: Readonly<ImportLimits> = Object.freeze({
  maxLineBytes: 64 * MiB,
  maxRecordBytes: 64 * MiB,
  maxDecompressedBytes: 64 * GiB,
  // Chat JSON compresses 3-10x with gzip; a run of zeros compresses about 1000x.
  maxCompressionRatio: 200,
  ratioGraceBytes: 16 * MiB,
  parquetMaxRows: 100_000_000,
  parquetMaxRowGroupBytes: 512 * MiB,
  parquetMaxPageBytes: 256 * MiB,
  parquetMaxMetadataBytes: 64 * MiB,
  maxMessages: 10_000,
  maxReportedErrors: 1000,
});

/** The defaults with the given overrides (tests and the CLI lower them). */
export function resolveLimits(overrides: Partial<ImportLimits> = {}): ImportLimits {
  return { ...DEFAULT_LIMITS, ...overrides };
}
