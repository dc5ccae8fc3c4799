/**
 * The bytes of one data file as a stream of chunks: read from disk in 1 MiB chunks, inflated if
 * gzipped (with a size and ratio guard against decompression bombs), and without a leading
 * UTF-8 byte order mark. Memory stays at a few chunks whatever the file size.
 */
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { ImportLimits } from '../limits.js';
import { SourceFailure } from '../schema.js';

const READ_CHUNK_BYTES = 1 << 18;
const INFLATE_CHUNK_BYTES = 1 << 18;
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/** A file's content as chunks, with counters for progress and offsets. */
export class ByteSource {
  /** Bytes read from disk so far (compressed bytes for a .gz file). */
  bytesRead = 0;
  /** Decompressed bytes produced so far (equals bytesRead for a plain file). */
  bytesOut = 0;
  /** Whether the content started with a byte order mark (offsets then start at 3). */
  bom = false;
  readonly chunks: AsyncIterable<Buffer>;

  constructor(path: string, gzip: boolean, limits: ImportLimits, signal?: AbortSignal) {
    const raw = this.#fromDisk(path, signal);
    this.chunks = this.#withoutBom(gzip ? this.#inflate(raw, limits) : this.#counted(raw));
  }

  async *#fromDisk(path: string, signal?: AbortSignal): AsyncGenerator<Buffer> {
    const stream = createReadStream(path, { highWaterMark: READ_CHUNK_BYTES, signal });
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      this.bytesRead += chunk.length;
      yield chunk;
    }
  }

  async *#counted(chunks: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
    for await (const chunk of chunks) {
      this.bytesOut += chunk.length;
      yield chunk;
    }
  }

  /**
   * Streaming inflate with a counting guard: Node's streaming decompressors do not enforce
   * `maxOutputLength` (zlib docs), so the output is counted here and reading stops at the cap.
   */
  async *#inflate(compressed: AsyncIterable<Buffer>, limits: ImportLimits): AsyncGenerator<Buffer> {
    const gunzip = createGunzip({ chunkSize: INFLATE_CHUNK_BYTES });
    const input = Readable.from(compressed);
    input.on('error', (error) => gunzip.destroy(error));
    input.pipe(gunzip);
    try {
      for await (const chunk of gunzip as AsyncIterable<Buffer>) {
        this.bytesOut += chunk.length;
        if (this.bytesOut > limits.maxDecompressedBytes) {
          throw new SourceFailure(
            'decompression_bomb',
            `The gzip data expands past ${limits.maxDecompressedBytes} bytes; reading stopped.`,
            this.bytesOut,
          );
        }
        const ratio = this.bytesOut / Math.max(1, this.bytesRead);
        if (this.bytesOut > limits.ratioGraceBytes && ratio > limits.maxCompressionRatio) {
          throw new SourceFailure(
            'decompression_bomb',
            `The gzip data expands ${Math.round(ratio)}x (limit ${limits.maxCompressionRatio}x) after ` +
              `${this.bytesRead} compressed bytes; reading stopped.`,
            this.bytesOut,
          );
        }
        yield chunk;
      }
    } catch (error) {
      if (error instanceof SourceFailure || isAbort(error)) throw error;
      throw new SourceFailure(
        'file_unreadable',
        `The gzip data is damaged or truncated: ${(error as Error).message}.`,
        this.bytesOut,
      );
    } finally {
      input.destroy();
      gunzip.destroy();
    }
  }

  async *#withoutBom(chunks: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
    let head: Buffer | null = Buffer.alloc(0);
    for await (const chunk of chunks) {
      if (head === null) {
        yield chunk;
        continue;
      }
      head = head.length === 0 ? chunk : Buffer.concat([head, chunk]);
      if (head.length < BOM.length && BOM.subarray(0, head.length).equals(head)) continue;
      if (head.subarray(0, BOM.length).equals(BOM)) {
        this.bom = true;
        head = head.subarray(BOM.length);
      }
      if (head.length > 0) yield head;
      head = null;
    }
    if (head !== null && head.length > 0) yield head;
  }
}

/** Whether `error` is the AbortError of a cancelled read. */
export function isAbort(error: unknown): boolean {
  return error instanceof Error && (error.name === 'AbortError' || (error as { code?: unknown }).code === 'ABORT_ERR');
}
