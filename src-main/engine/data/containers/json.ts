/**
 * JSON files: an array of records, or an object holding arrays of records (`{"train": [...]}`),
 * or a single record. A byte-level scanner finds where each top-level element starts and ends
 * (tracking strings, escapes and nesting) and hands each element's bytes to JSON.parse, so a
 * 1 GB array is read with memory for one element at a time and V8's native parser does the
 * parsing. Hand-written because the streaming JSON libraries tokenise every value in JS, which
 * is several times slower than JSON.parse on the element.
 */
import type { ImportLimits } from '../limits.js';
import { rowError, type ReadItem, type ReadRecord } from '../schema.js';
import { decodeUtf8, firstInvalidUtf8 } from '../utf8.js';
import type { ByteSource } from './bytes.js';
import { describeJsonError } from './jsonl.js';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;
const NEWLINE = 0x0a;
const MAX_KEY_BYTES = 4096;

/** What the scanner found: an array element, a non-array member of a root object, or a syntax error. */
export type ScanEvent =
  | {
      kind: 'element';
      /** The element's bytes, or null if it was larger than the limit. */
      bytes: Buffer | null;
      length: number;
      line: number;
      byteOffset: number;
      /** Index in its array. */
      index: number;
      /** The root object's key holding the array, if any. */
      group?: string;
    }
  | { kind: 'member'; key: string; bytes: Buffer | null; length: number; line: number; byteOffset: number }
  | { kind: 'syntax'; message: string; line: number; byteOffset: number };

type State =
  | 'root'
  | 'array-value'
  | 'array-next'
  | 'object-key'
  | 'object-colon'
  | 'object-value'
  | 'nested-value'
  | 'nested-next'
  | 'object-next'
  | 'done'
  | 'failed';

type Capture = 'element' | 'key' | 'member';

/** Finds top-level elements in a JSON byte stream; feed it chunks cut anywhere. */
export class JsonScanner {
  /** 'array' or 'object' once the first byte is seen. */
  root: 'array' | 'object' | null = null;
  readonly #maxRecordBytes: number;
  #state: State = 'root';
  #offset: number;
  #line = 1;
  // The value being captured.
  #capture: Capture | null = null;
  #parts: Buffer[] = [];
  #length = 0;
  #tooLarge = false;
  #from = 0;
  #depth = 0;
  #inString = false;
  #escape = false;
  #scalar = false;
  #startLine = 0;
  #startOffset = 0;
  // Where we are in the structure.
  #index = 0;
  #key = '';
  #group: string | undefined;

  constructor(maxRecordBytes: number, baseOffset = 0) {
    this.#maxRecordBytes = maxRecordBytes;
    this.#offset = baseOffset;
  }

  get finished(): boolean {
    return this.#state === 'done' || this.#state === 'failed';
  }

  push(chunk: Buffer, out: ScanEvent[]): void {
    const base = this.#offset;
    this.#from = 0;
    const length = chunk.length;
    for (let i = 0; i < length; i++) {
      const byte = chunk[i]!;
      if (byte === NEWLINE) this.#line++;
      if (this.#capture !== null) {
        if (this.#inString) {
          if (this.#escape) this.#escape = false;
          else if (byte === BACKSLASH) this.#escape = true;
          else if (byte === QUOTE) {
            this.#inString = false;
            if (this.#depth === 0) this.#finish(chunk, i + 1, out);
          }
          continue;
        }
        if (this.#scalar) {
          if (!isDelimiter(byte)) continue;
          this.#finish(chunk, i, out);
          // The delimiter is structure: fall through and handle it below.
        } else {
          if (byte === QUOTE) this.#inString = true;
          else if (byte === OPEN_BRACE || byte === OPEN_BRACKET) this.#depth++;
          else if (byte === CLOSE_BRACE || byte === CLOSE_BRACKET) {
            this.#depth--;
            if (this.#depth === 0) this.#finish(chunk, i + 1, out);
          }
          continue;
        }
      }
      if (isWhitespace(byte)) continue;
      this.#structure(byte, chunk, i, base + i, out);
      if (this.#state === 'failed') break;
    }
    if (this.#capture !== null) this.#keep(chunk, this.#from, length);
    this.#offset = base + length;
  }

  /** Reports a value or structure left open at the end of the data. */
  end(out: ScanEvent[]): void {
    if (this.#capture !== null && this.#scalar && !this.#inString) {
      // A bare scalar at the very end (only valid as a whole document, e.g. `42`).
      this.#finish(Buffer.alloc(0), 0, out);
    }
    if (this.#state === 'done' || this.#state === 'failed') return;
    const what =
      this.#state === 'root' ? 'The file holds no JSON value.' : 'The file ends inside a value (truncated?).';
    out.push({ kind: 'syntax', message: what, line: this.#line, byteOffset: this.#offset });
    this.#state = 'failed';
  }

  #structure(byte: number, chunk: Buffer, i: number, offset: number, out: ScanEvent[]): void {
    switch (this.#state) {
      case 'root':
        if (byte === OPEN_BRACKET) {
          this.root = 'array';
          this.#state = 'array-value';
        } else if (byte === OPEN_BRACE) {
          this.root = 'object';
          this.#state = 'object-key';
        } else {
          this.#fail(`The file starts with ${describeByte(byte)}, not with [ or {.`, offset, out);
        }
        return;
      case 'array-value':
        if (byte === CLOSE_BRACKET && this.#index === 0) this.#state = 'done';
        else this.#start('element', byte, chunk, i, offset, out);
        return;
      case 'array-next':
        if (byte === COMMA) this.#state = 'array-value';
        else if (byte === CLOSE_BRACKET) this.#state = 'done';
        else this.#fail(`Expected , or ] between array elements, found ${describeByte(byte)}.`, offset, out);
        return;
      case 'object-key':
        if (byte === QUOTE) this.#start('key', byte, chunk, i, offset, out);
        else if (byte === CLOSE_BRACE) this.#state = 'done';
        else this.#fail(`Expected a key in the top-level object, found ${describeByte(byte)}.`, offset, out);
        return;
      case 'object-colon':
        if (byte === COLON) this.#state = 'object-value';
        else this.#fail(`Expected : after a key, found ${describeByte(byte)}.`, offset, out);
        return;
      case 'object-value':
        if (byte === OPEN_BRACKET) {
          this.#state = 'nested-value';
          this.#group = this.#key;
          this.#index = 0;
        } else {
          this.#start('member', byte, chunk, i, offset, out);
        }
        return;
      case 'nested-value':
        if (byte === CLOSE_BRACKET && this.#index === 0) this.#state = 'object-next';
        else this.#start('element', byte, chunk, i, offset, out);
        return;
      case 'nested-next':
        if (byte === COMMA) this.#state = 'nested-value';
        else if (byte === CLOSE_BRACKET) this.#state = 'object-next';
        else this.#fail(`Expected , or ] between array elements, found ${describeByte(byte)}.`, offset, out);
        return;
      case 'object-next':
        if (byte === COMMA) this.#state = 'object-key';
        else if (byte === CLOSE_BRACE) this.#state = 'done';
        else this.#fail(`Expected , or } in the top-level object, found ${describeByte(byte)}.`, offset, out);
        return;
      case 'done':
        this.#fail(`Unexpected ${describeByte(byte)} after the end of the JSON value.`, offset, out);
        return;
      case 'failed':
        return;
    }
  }

  #start(capture: Capture, byte: number, chunk: Buffer, i: number, offset: number, out: ScanEvent[]): void {
    if (byte === CLOSE_BRACKET || byte === CLOSE_BRACE || byte === COMMA || byte === COLON) {
      this.#fail(`Expected a value, found ${describeByte(byte)}.`, offset, out);
      return;
    }
    this.#capture = capture;
    this.#parts = [];
    this.#length = 0;
    this.#tooLarge = false;
    this.#from = i;
    this.#startLine = this.#line;
    this.#startOffset = offset;
    this.#inString = byte === QUOTE;
    this.#escape = false;
    this.#scalar = byte !== QUOTE && byte !== OPEN_BRACE && byte !== OPEN_BRACKET;
    this.#depth = byte === OPEN_BRACE || byte === OPEN_BRACKET ? 1 : 0;
  }

  #keep(chunk: Buffer, from: number, to: number): void {
    const piece = to - from;
    if (piece <= 0) return;
    this.#length += piece;
    const limit = this.#capture === 'key' ? MAX_KEY_BYTES : this.#maxRecordBytes;
    if (this.#tooLarge) return;
    if (this.#length > limit) {
      this.#tooLarge = true;
      this.#parts = [];
      return;
    }
    this.#parts.push(chunk.subarray(from, to));
  }

  #finish(chunk: Buffer, end: number, out: ScanEvent[]): void {
    this.#keep(chunk, this.#from, end);
    this.#from = end;
    const bytes = this.#tooLarge ? null : Buffer.concat(this.#parts, this.#length);
    const capture = this.#capture;
    this.#capture = null;
    this.#parts = [];
    this.#scalar = false;
    const where = { line: this.#startLine, byteOffset: this.#startOffset };
    if (capture === 'key') {
      const text = bytes === null ? null : decodeUtf8(bytes);
      let key = '';
      try {
        key = text === null ? '' : (JSON.parse(text) as string);
      } catch {
        key = '';
      }
      this.#key = key;
      this.#state = 'object-colon';
    } else if (capture === 'member') {
      out.push({ kind: 'member', key: this.#key, bytes, length: this.#length, ...where });
      this.#state = 'object-next';
    } else {
      const event: ScanEvent = { kind: 'element', bytes, length: this.#length, index: this.#index, ...where };
      if (this.#group !== undefined && this.#state === 'nested-value') event.group = this.#group;
      out.push(event);
      this.#index++;
      this.#state = this.#state === 'nested-value' ? 'nested-next' : 'array-next';
    }
  }

  #fail(message: string, byteOffset: number, out: ScanEvent[]): void {
    out.push({ kind: 'syntax', message, line: this.#line, byteOffset });
    this.#state = 'failed';
    this.#capture = null;
    this.#parts = [];
  }
}

function isWhitespace(byte: number): boolean {
  return byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;
}

function isDelimiter(byte: number): boolean {
  return isWhitespace(byte) || byte === COMMA || byte === CLOSE_BRACKET || byte === CLOSE_BRACE;
}

function describeByte(byte: number): string {
  return byte >= 0x20 && byte < 0x7f
    ? `"${String.fromCharCode(byte)}"`
    : `byte 0x${byte.toString(16).padStart(2, '0')}`;
}

/** Parses the bytes of one element or member. */
function parseValue(
  bytes: Buffer | null,
  length: number,
  location: ReadRecord['location'],
  maxRecordBytes: number,
): { ok: true; value: unknown } | { ok: false; item: ReadItem } {
  if (bytes === null) {
    const message = `The record is ${length} bytes; the limit is ${maxRecordBytes}.`;
    return { ok: false, item: { kind: 'error', error: rowError(location, 'record_too_large', message) } };
  }
  const text = decodeUtf8(bytes);
  if (text === null) {
    const offset = location.byteOffset + firstInvalidUtf8(bytes);
    const error = rowError({ ...location, byteOffset: offset }, 'utf8_invalid', `Invalid UTF-8 at byte ${offset}.`);
    return { ok: false, item: { kind: 'error', error } };
  }
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (error) {
    return { ok: false, item: { kind: 'error', error: rowError(location, 'json_invalid', describeJsonError(error)) } };
  }
}

/** An element that is a chat message rather than a record (`{"messages": [...]}` is one record). */
function looksLikeMessage(value: unknown): boolean {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  return ('role' in value && 'content' in value) || ('from' in value && 'value' in value);
}

/**
 * Reads a JSON byte source as batches of items. A root array yields its elements. A root object
 * is a container when its values are arrays of records (e.g. `{"train": [...], "test": [...]}`),
 * and one record otherwise (e.g. `{"messages": [...]}`); the choice is made on the whole object
 * when it fits in `maxRecordBytes`, and a larger object is read as a container.
 */
export async function* readJson(source: ByteSource, file: string, limits: ImportLimits): AsyncGenerator<ReadItem[]> {
  let scanner: JsonScanner | undefined;
  const events: ScanEvent[] = [];
  // Root object, before deciding: its elements, its non-array members, and its raw bytes.
  let held: ReadItem[] = [];
  let heldBytes = 0;
  let committed = false;
  let members = 0;
  let whole: Buffer[] | null = [];
  let wholeBytes = 0;

  const handle = (event: ScanEvent, out: ReadItem[]): void => {
    if (event.kind === 'syntax') {
      const location = { file, line: event.line, byteOffset: event.byteOffset };
      out.push({ kind: 'error', error: rowError(location, 'json_invalid', event.message) });
      return;
    }
    if (event.kind === 'member') {
      members++;
      return;
    }
    const location = { file, line: event.line, row: event.index, byteOffset: event.byteOffset };
    const parsed = parseValue(event.bytes, event.length, location, limits.maxRecordBytes);
    const item: ReadItem = parsed.ok ? { kind: 'record', value: parsed.value, location } : parsed.item;
    if (parsed.ok && event.group !== undefined) (item as ReadRecord).group = event.group;
    if (scanner?.root !== 'object' || committed) {
      out.push(item);
      return;
    }
    held.push(item);
    heldBytes += event.length;
    if (heldBytes > limits.maxRecordBytes) {
      committed = true;
      out.push(...held);
      held = [];
      whole = null;
    }
  };

  for await (const chunk of source.chunks) {
    scanner ??= new JsonScanner(limits.maxRecordBytes, source.bom ? 3 : 0);
    if (whole !== null) {
      wholeBytes += chunk.length;
      if (wholeBytes <= limits.maxRecordBytes) whole.push(chunk);
      else whole = null;
    }
    if (scanner.finished) continue;
    scanner.push(chunk, events);
    // Only a root object may turn out to be one record; an array needs no copy.
    if (scanner.root === 'array') whole = null;
    if (events.length > 0) {
      const out: ReadItem[] = [];
      for (const event of events) handle(event, out);
      events.length = 0;
      if (out.length > 0) yield out;
    }
  }
  if (!scanner) return;
  scanner.end(events);
  const out: ReadItem[] = [];
  for (const event of events) handle(event, out);
  if (scanner.root === 'object' && !committed) {
    const records = held.filter((item): item is ReadRecord => item.kind === 'record');
    const container =
      members === 0 &&
      records.length > 0 &&
      records.every((item) => typeof item.value === 'object' && item.value !== null && !looksLikeMessage(item.value));
    if (container) {
      out.unshift(...held);
    } else if (whole !== null && !out.some((item) => item.kind === 'error')) {
      const location = { file, line: 1, byteOffset: source.bom ? 3 : 0 };
      const parsed = parseValue(Buffer.concat(whole, wholeBytes), wholeBytes, location, limits.maxRecordBytes);
      out.unshift(parsed.ok ? { kind: 'record', value: parsed.value, location } : parsed.item);
    } else if (whole === null) {
      const message = `The top-level object is ${wholeBytes} bytes and holds no arrays of records; the limit is ${limits.maxRecordBytes}.`;
      out.unshift({ kind: 'error', error: rowError({ file, line: 1, byteOffset: 0 }, 'record_too_large', message) });
    }
  }
  if (out.length > 0) yield out;
}
