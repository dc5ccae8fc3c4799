/**
 * Streaming JSONL for the files mining writes and curation indexes (conversations.jsonl,
 * signals.jsonl, pairs.jsonl, sat.jsonl): read line by line with each line's byte offset, so an
 * index can later read one record back with a single positioned read; write through a buffered
 * temp file that replaces the target only when complete (reliability.md §3).
 */
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { fsyncFolder } from '../workspace/atomic.js';

export interface JsonlLine {
  /** The line's text without its newline (and without a trailing `\r`). */
  text: string;
  /** Byte offset of the line's first byte. */
  offset: number;
  /** Byte length of the line, without the newline. */
  length: number;
  /** 1-based line number. */
  number: number;
}

const NEWLINE = 0x0a;

/**
 * Yields the non-blank lines of a UTF-8 file with their byte offsets. Memory is bounded by the
 * longest line. `signal` stops the read between chunks.
 */
export async function* readJsonlLines(file: string, signal?: AbortSignal): AsyncGenerator<JsonlLine> {
  const stream = createReadStream(file, { highWaterMark: 1 << 20 });
  let parts: Buffer[] = [];
  let partsLength = 0;
  let lineStart = 0;
  let number = 1;
  const emit = (bytes: Buffer): JsonlLine | undefined => {
    const length = bytes.length;
    const trimmed = length > 0 && bytes[length - 1] === 0x0d ? bytes.subarray(0, length - 1) : bytes;
    const text = trimmed.toString('utf8');
    const line = text.trim() === '' ? undefined : { text, offset: lineStart, length, number };
    lineStart += length + 1;
    number++;
    return line;
  };
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      signal?.throwIfAborted();
      let start = 0;
      for (;;) {
        const newline = chunk.indexOf(NEWLINE, start);
        if (newline === -1) break;
        const tail = chunk.subarray(start, newline);
        const bytes = parts.length === 0 ? tail : Buffer.concat([...parts, tail], partsLength + tail.length);
        parts = [];
        partsLength = 0;
        const line = emit(bytes);
        if (line) yield line;
        start = newline + 1;
      }
      if (start < chunk.length) {
        parts.push(chunk.subarray(start));
        partsLength += chunk.length - start;
      }
    }
    if (partsLength > 0) {
      const line = emit(Buffer.concat(parts, partsLength));
      if (line) yield line;
    }
  } finally {
    stream.destroy();
  }
}

/** Reads `length` bytes at `offset` from an open file as UTF-8 text. */
export async function readRange(handle: FileHandle, offset: number, length: number): Promise<string> {
  const buffer = Buffer.alloc(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await handle.read(buffer, done, length - done, offset + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return buffer.subarray(0, done).toString('utf8');
}

const FLUSH_BYTES = 1 << 20;

/**
 * Writes JSON lines to a temp file beside `target`; `commit` makes it durable and renames it over
 * the target, `abort` removes it. `offset` is where the next line starts.
 */
export class JsonlWriter {
  readonly target: string;
  readonly #temp: string;
  readonly #handle: FileHandle;
  #pending: string[] = [];
  #pendingBytes = 0;
  #offset = 0;
  #lines = 0;
  #closed = false;

  private constructor(target: string, temp: string, handle: FileHandle) {
    this.target = target;
    this.#temp = temp;
    this.#handle = handle;
  }

  static async open(target: string): Promise<JsonlWriter> {
    const temp = path.join(
      path.dirname(target),
      `.${path.basename(target)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`,
    );
    return new JsonlWriter(target, temp, await open(temp, 'wx', 0o644));
  }

  /** Byte offset of the next line. */
  get offset(): number {
    return this.#offset;
  }

  /** Lines written so far. */
  get lines(): number {
    return this.#lines;
  }

  /** Appends one value as a line; resolves once it is buffered (flushing when the buffer is full). */
  async write(value: unknown): Promise<{ offset: number; length: number }> {
    return this.writeLine(JSON.stringify(value));
  }

  /** Appends one line of text (without its newline). */
  async writeLine(text: string): Promise<{ offset: number; length: number }> {
    const length = Buffer.byteLength(text);
    const offset = this.#offset;
    this.#pending.push(text, '\n');
    this.#pendingBytes += length + 1;
    this.#offset += length + 1;
    this.#lines++;
    if (this.#pendingBytes >= FLUSH_BYTES) await this.#flush();
    return { offset, length };
  }

  async #flush(): Promise<void> {
    if (this.#pending.length === 0) return;
    const text = this.#pending.join('');
    this.#pending = [];
    this.#pendingBytes = 0;
    await this.#handle.write(text);
  }

  /** Flushes, fsyncs and renames the temp file over the target. */
  async commit(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      await this.#flush();
      await this.#handle.sync();
    } finally {
      await this.#handle.close();
    }
    await rename(this.#temp, this.target);
    await fsyncFolder(path.dirname(this.target));
  }

  /** Drops what was written; the target is left as it was. */
  async abort(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      await this.#handle.close().catch(() => undefined);
    }
    await rm(this.#temp, { force: true });
  }
}
