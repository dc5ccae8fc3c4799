/**
 * JSON Lines (jsonlines.org): one JSON value per line, split on `\n` with one trailing `\r`
 * stripped. The splitter counts bytes, not characters, and never buffers more than
 * `maxLineBytes` of one line: a longer line is skipped to its newline and reported
 * (`line_too_long`). Node's readline has no such limit.
 */
import type { ImportLimits } from '../limits.js';
import { rowError, type ReadItem } from '../schema.js';
import { decodeUtf8, firstInvalidUtf8 } from '../utf8.js';
import type { ByteSource } from './bytes.js';

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;

/** A complete line (without its `\n`), or the position of one that was too long to keep. */
export type SplitLine =
  | { bytes: Buffer; line: number; byteOffset: number; tooLong: false }
  | { bytes: null; line: number; byteOffset: number; tooLong: true; length: number };

/** Splits a byte stream into lines; feed it chunks cut anywhere. */
export class LineSplitter {
  readonly #maxLineBytes: number;
  #parts: Buffer[] = [];
  #partsLength = 0;
  #skipping = false;
  #line = 1;
  #lineStart: number;

  /** `baseOffset` is the file offset of the first byte fed (3 after a byte order mark). */
  constructor(maxLineBytes: number, baseOffset = 0) {
    this.#maxLineBytes = maxLineBytes;
    this.#lineStart = baseOffset;
  }

  /** Appends the complete lines in `chunk` to `out`. */
  push(chunk: Buffer, out: SplitLine[]): void {
    let start = 0;
    for (;;) {
      const newline = chunk.indexOf(NEWLINE, start);
      if (newline === -1) {
        this.#keep(chunk, start);
        return;
      }
      const length = this.#partsLength + newline - start;
      if (this.#skipping || length > this.#maxLineBytes) {
        out.push({ bytes: null, line: this.#line, byteOffset: this.#lineStart, tooLong: true, length });
      } else {
        const tail = chunk.subarray(start, newline);
        const bytes = this.#parts.length === 0 ? tail : Buffer.concat([...this.#parts, tail], length);
        out.push({ bytes, line: this.#line, byteOffset: this.#lineStart, tooLong: false });
      }
      this.#lineStart += length + 1;
      this.#line++;
      this.#parts = [];
      this.#partsLength = 0;
      this.#skipping = false;
      start = newline + 1;
    }
  }

  /** Appends the last line if the stream did not end with a newline. */
  end(out: SplitLine[]): void {
    if (this.#partsLength === 0) return;
    const length = this.#partsLength;
    if (this.#skipping) {
      out.push({ bytes: null, line: this.#line, byteOffset: this.#lineStart, tooLong: true, length });
    } else {
      out.push({
        bytes: Buffer.concat(this.#parts, length),
        line: this.#line,
        byteOffset: this.#lineStart,
        tooLong: false,
      });
    }
    this.#parts = [];
    this.#partsLength = 0;
  }

  #keep(chunk: Buffer, start: number): void {
    const rest = chunk.length - start;
    if (rest === 0) return;
    this.#partsLength += rest;
    if (this.#skipping) return;
    if (this.#partsLength > this.#maxLineBytes) {
      // Drop what was kept: the rest of this line is only counted until its newline.
      this.#skipping = true;
      this.#parts = [];
      return;
    }
    this.#parts.push(chunk.subarray(start));
  }
}

/** Parses one split line into a record, an error, or a blank. */
export function parseLine(split: SplitLine, file: string, maxLineBytes: number): ReadItem {
  const location = { file, line: split.line, byteOffset: split.byteOffset };
  if (split.tooLong) {
    return {
      kind: 'error',
      error: rowError(location, 'line_too_long', `Line is ${split.length} bytes; the limit is ${maxLineBytes}.`),
    };
  }
  let bytes = split.bytes;
  if (bytes.length > 0 && bytes[bytes.length - 1] === CARRIAGE_RETURN) bytes = bytes.subarray(0, bytes.length - 1);
  const text = decodeUtf8(bytes);
  if (text === null) {
    const offset = firstInvalidUtf8(bytes);
    return {
      kind: 'error',
      error: rowError(
        { ...location, byteOffset: split.byteOffset + offset },
        'utf8_invalid',
        `Invalid UTF-8 at byte ${split.byteOffset + offset} (column ${offset + 1} of the line).`,
      ),
    };
  }
  if (isBlank(text)) return { kind: 'blank' };
  try {
    return { kind: 'record', value: JSON.parse(text) as unknown, location };
  } catch (error) {
    return { kind: 'error', error: rowError(location, 'json_invalid', describeJsonError(error)) };
  }
}

/** Reads a JSONL byte source as batches of items, one batch per chunk. */
export async function* readJsonl(source: ByteSource, file: string, limits: ImportLimits): AsyncGenerator<ReadItem[]> {
  let splitter: LineSplitter | undefined;
  const lines: SplitLine[] = [];
  for await (const chunk of source.chunks) {
    splitter ??= new LineSplitter(limits.maxLineBytes, source.bom ? 3 : 0);
    splitter.push(chunk, lines);
    if (lines.length > 0) yield drain(lines, file, limits.maxLineBytes);
  }
  splitter?.end(lines);
  if (lines.length > 0) yield drain(lines, file, limits.maxLineBytes);
}

function drain(lines: SplitLine[], file: string, maxLineBytes: number): ReadItem[] {
  const items = lines.map((line) => parseLine(line, file, maxLineBytes));
  lines.length = 0;
  return items;
}

function isBlank(text: string): boolean {
  if (text.length === 0) return true;
  const first = text.charCodeAt(0);
  // Fast path: a record starts with `{` or `[` right away.
  if (first === 0x7b || first === 0x5b) return false;
  return text.trim().length === 0;
}

/** A JSON.parse error as a short sentence. */
export function describeJsonError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return `Not valid JSON: ${message.length > 200 ? `${message.slice(0, 197)}...` : message}`;
}
