/**
 * Reads one data file into drafts: opens its container, samples the first records to detect
 * the format (unless one is forced), applies the field mapping, and normalises record by
 * record. A failure that ends the file (decompression bomb, Parquet limits, damaged data) is
 * reported as one error and the rows read before it stay.
 */
import type { FieldInfo, SourceFile } from '../../api/index.js';
import { openRecords, type OpenedFile } from './containers/index.js';
import {
  applyMapping,
  detectFormat,
  listFields,
  type Detection,
  type Draft,
  type FieldMapping,
  type FormatAdapter,
  type Normalizer,
} from './formats/index.js';
import type { ImportLimits } from './limits.js';
import { rowError, SourceFailure, type ReadItem, type RowError, type SourceLocation } from './schema.js';

/** Records sampled for detection. */
export const SAMPLE_RECORDS = 200;

export type Outcome =
  | { kind: 'draft'; draft: Draft; location: SourceLocation; group?: string }
  /** `row`: the error stands for a record that was read (a row), not a whole file. */
  | { kind: 'error'; error: RowError; row: boolean }
  | { kind: 'blank' };

export interface FileReaderOptions {
  /** Use this format instead of detecting one. */
  format?: FormatAdapter;
  mapping?: FieldMapping | null;
  limits: ImportLimits;
  signal?: AbortSignal;
}

export class FileReader {
  readonly file: SourceFile;
  /** The format used, once known (null if none fits). */
  format: FormatAdapter | null = null;
  detection: Detection | null = null;
  /** The sampled records (after mapping), for the field listing. */
  readonly sample: unknown[] = [];
  readonly #options: FileReaderOptions;
  #opened: OpenedFile | null = null;

  constructor(file: SourceFile, options: FileReaderOptions) {
    this.file = file;
    this.#options = options;
  }

  bytesRead(): number {
    return this.#opened?.bytesRead() ?? 0;
  }

  fields(): FieldInfo[] {
    return listFields(this.sample);
  }

  /** Batches of outcomes in file order. */
  async *outcomes(): AsyncGenerator<Outcome[]> {
    const { limits, signal, mapping } = this.#options;
    const opened = openRecords(this.file, limits, signal);
    this.#opened = opened;
    const iterator = opened.items[Symbol.asyncIterator]();
    let failure: SourceFailure | null = null;
    const pending: ReadItem[] = [];
    try {
      try {
        while (this.sample.length < SAMPLE_RECORDS) {
          const next = await iterator.next();
          if (next.done) break;
          for (const item of next.value) {
            pending.push(item);
            if (item.kind === 'record' && this.sample.length < SAMPLE_RECORDS) {
              this.sample.push(mapping ? applyMapping(item.value, mapping) : item.value);
            }
          }
        }
      } catch (error) {
        if (!(error instanceof SourceFailure)) throw error;
        failure = error;
      }
      if (this.#options.format) {
        this.format = this.#options.format;
      } else {
        this.detection = detectFormat(this.sample);
        this.format = this.detection.format;
      }
      if (!this.format) {
        // No record at all: the rows' own errors say why. Otherwise the shape is unknown.
        const out: Outcome[] = this.sample.length === 0 ? this.#unreadable(pending) : [];
        if (this.sample.length > 0) out.push({ kind: 'error', error: this.#unrecognised(), row: false });
        if (failure)
          out.push({
            kind: 'error',
            error: this.#fileError(failure.code, failure.message, failure.byteOffset),
            row: false,
          });
        if (out.length > 0) yield out;
        return;
      }
      const normalizer = this.format.createNormalizer();
      yield this.#process(pending, normalizer);
      if (failure === null) {
        try {
          for (;;) {
            const next = await iterator.next();
            if (next.done) break;
            yield this.#process(next.value, normalizer);
          }
        } catch (error) {
          if (!(error instanceof SourceFailure)) throw error;
          failure = error;
        }
      }
      const last = this.#flush(normalizer);
      if (failure)
        last.push({
          kind: 'error',
          error: this.#fileError(failure.code, failure.message, failure.byteOffset),
          row: false,
        });
      if (last.length > 0) yield last;
    } finally {
      await iterator.return?.(undefined);
    }
  }

  #process(items: ReadItem[], normalizer: Normalizer): Outcome[] {
    const mapping = this.#options.mapping;
    const out: Outcome[] = [];
    for (const item of items) {
      if (item.kind === 'blank') {
        out.push(item);
      } else if (item.kind === 'error') {
        out.push({ kind: 'error', error: item.error, row: true });
      } else {
        const record = mapping ? { ...item, value: applyMapping(item.value, mapping) } : item;
        for (const result of normalizer.push(record)) {
          if (result.kind === 'error') out.push({ kind: 'error', error: result.error, row: true });
          else if (item.group !== undefined) out.push({ ...result, group: item.group });
          else out.push(result);
        }
      }
    }
    return out;
  }

  /** The errors and blanks of a file that yielded no record. */
  #unreadable(items: ReadItem[]): Outcome[] {
    return items.flatMap((item): Outcome[] => {
      if (item.kind === 'error') return [{ kind: 'error', error: item.error, row: true }];
      return item.kind === 'blank' ? [item] : [];
    });
  }

  #flush(normalizer: Normalizer): Outcome[] {
    return normalizer
      .flush()
      .map((result) => (result.kind === 'error' ? { kind: 'error', error: result.error, row: true } : result));
  }

  #fileError(code: RowError['code'], message: string, byteOffset: number): RowError {
    return rowError({ file: this.file.relative, byteOffset }, code, message);
  }

  #unrecognised(): RowError {
    const candidates = this.detection?.candidates ?? [];
    const best = candidates[0];
    const fields = this.fields()
      .filter((field) => !field.path.includes('.'))
      .map((field) => field.path)
      .slice(0, 20);
    const why =
      this.sample.length === 0
        ? 'No record could be read from it.'
        : `Its ${this.sample.length} sampled records ` +
          (best ? `fit "${best.format}" at most (${Math.round(best.score * 100)}%)` : 'fit no known format') +
          `; their fields: ${fields.join(', ') || '(none)'}.`;
    return this.#fileError('format_unrecognised', `The format of the file is not recognised. ${why}`, 0);
  }
}
