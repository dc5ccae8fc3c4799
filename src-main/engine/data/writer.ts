/**
 * conversations.jsonl: one JSON document per line. Lines are encoded straight into a 4 MiB
 * buffer (no joined strings); a full buffer is handed to the file system while the next one
 * fills, and the file is fsynced on close.
 */
import { open, type FileHandle } from 'node:fs/promises';

const BUFFER_BYTES = 4 << 20;
const NEWLINE = 0x0a;

export class JsonlWriter {
  readonly #handle: FileHandle;
  #buffer = Buffer.allocUnsafe(BUFFER_BYTES);
  #other = Buffer.allocUnsafe(BUFFER_BYTES);
  #used = 0;
  #pending: Promise<unknown> = Promise.resolve();

  private constructor(handle: FileHandle) {
    this.#handle = handle;
  }

  /** Creates `file` (which must not exist). */
  static async create(file: string): Promise<JsonlWriter> {
    return new JsonlWriter(await open(file, 'wx'));
  }

  /** Queues one value as a line; resolves at once unless a buffer is due. */
  write(value: unknown): Promise<void> {
    return this.writeLine(JSON.stringify(value));
  }

  /** Queues `line` (which must not hold a newline) and a newline. */
  async writeLine(line: string): Promise<void> {
    // UTF-8 needs at most 3 bytes per UTF-16 unit.
    const most = line.length * 3 + 1;
    if (this.#used + most > this.#buffer.length) {
      await this.#flush();
      if (most > this.#buffer.length) {
        await this.#pending;
        this.#pending = this.#handle.writeFile(`${line}\n`);
        return;
      }
    }
    this.#used += this.#buffer.write(line, this.#used);
    this.#buffer[this.#used++] = NEWLINE;
  }

  async #flush(): Promise<void> {
    if (this.#used === 0) return;
    // One write in flight at a time; once it is done, its buffer is free to fill again.
    await this.#pending;
    this.#pending = this.#handle.writeFile(this.#buffer.subarray(0, this.#used));
    [this.#buffer, this.#other] = [this.#other, this.#buffer];
    this.#used = 0;
  }

  /** Writes what is left, fsyncs and closes. */
  async close(): Promise<void> {
    try {
      await this.#flush();
      await this.#pending;
      await this.#handle.sync();
    } finally {
      await this.#handle.close();
    }
  }

  /** Closes without caring about the content (the file is about to be deleted). */
  async abandon(): Promise<void> {
    await this.#pending.catch(() => undefined);
    await this.#handle.close().catch(() => undefined);
  }
}
