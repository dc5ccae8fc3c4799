/**
 * Crash-safe file writes (reference/reliability.md §3).
 *
 * Hand-written rather than npm's write-file-atomic because that package (like lowdb's steno)
 * never fsyncs the parent folder after the rename, and on POSIX the rename itself is only
 * durable once the folder is synced. The sequence is: unique temp file in the same folder →
 * write → fsync(temp) → rename over the target → fsync(folder).
 *
 * Append-only JSONL files (metrics, samples) use {@link appendJsonLine}; a crash can tear at
 * most the last line, which {@link readJsonLines} drops and reports.
 */
import { randomBytes } from 'node:crypto';
import { open, readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';

const RENAME_ATTEMPTS = 10;
const RENAME_RETRY_MS = 100;
/** A temp file older than this is removed even if its pid belongs to a live (reused) process. */
const TEMP_MAX_AGE_MS = 60 * 60 * 1000;
/** `.<basename>.<pid>.<random hex>.tmp` */
const TEMP_NAME = /^\.(.+)\.(\d+)\.([0-9a-f]+)\.tmp$/;

export interface WriteFileAtomicOptions {
  /** File mode for a new file; an existing target keeps its mode. */
  mode?: number;
}

/**
 * Replaces `file` with `data` so that a reader (or a crash at any moment) sees either the old
 * content or the new content, never a mix. Resolves once the new content is durable.
 */
export async function writeFileAtomic(
  file: string,
  data: string | Uint8Array,
  options: WriteFileAtomicOptions = {},
): Promise<void> {
  const folder = path.dirname(file);
  const temp = path.join(folder, `.${path.basename(file)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const mode = (await existingMode(file)) ?? options.mode ?? 0o666;
  try {
    const handle = await open(temp, 'wx', mode);
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await renameWithRetry(temp, file);
  } catch (error) {
    await rm(temp, { force: true }).catch(() => undefined);
    throw error;
  }
  await fsyncFolder(folder);
}

async function existingMode(file: string): Promise<number | undefined> {
  try {
    return (await stat(file)).mode & 0o7777;
  } catch {
    return undefined;
  }
}

/** Windows refuses a rename while another process (an indexer, a virus scanner) holds the file. */
async function renameWithRetry(from: string, to: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await rename(from, to);
      return;
    } catch (error) {
      const code = errorCode(error);
      const transient = code === 'EPERM' || code === 'EBUSY' || code === 'EACCES';
      if (!transient || attempt >= RENAME_ATTEMPTS) throw error;
      await new Promise((resolve) => setTimeout(resolve, RENAME_RETRY_MS));
    }
  }
}

/**
 * Makes a rename in `folder` durable. Windows cannot open a folder for fsync (EISDIR/EPERM) and
 * NTFS journals the rename itself; some file systems answer EINVAL/ENOTSUP. Those are ignored.
 */
export async function fsyncFolder(folder: string): Promise<void> {
  if (process.platform === 'win32') return;
  let handle;
  try {
    handle = await open(folder, 'r');
    await handle.sync();
  } catch (error) {
    const code = errorCode(error);
    if (code !== 'EISDIR' && code !== 'EPERM' && code !== 'EINVAL' && code !== 'ENOTSUP' && code !== 'EBADF') {
      throw error;
    }
  } finally {
    await handle?.close();
  }
}

/**
 * Deletes temp files that {@link writeFileAtomic} left in `folder` when its process died
 * mid-write: those whose pid is not a live process on this host, and any older than an hour.
 * Returns the removed paths.
 */
export async function removeStaleTemps(folder: string): Promise<string[]> {
  const removed: string[] = [];
  let names: string[];
  try {
    names = await readdir(folder);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return removed;
    throw error;
  }
  for (const name of names) {
    const match = TEMP_NAME.exec(name);
    if (!match) continue;
    const file = path.join(folder, name);
    const pid = Number(match[2]);
    if (pid === process.pid) continue;
    let stale = !isProcessAlive(pid);
    if (!stale) {
      const info = await stat(file).catch(() => undefined);
      stale = info !== undefined && Date.now() - info.mtimeMs > TEMP_MAX_AGE_MS;
    }
    if (stale) {
      await rm(file, { force: true });
      removed.push(file);
    }
  }
  return removed;
}

/** Whether `pid` is a running process on this host (EPERM means it exists but is not ours). */
export function isProcessAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return errorCode(error) === 'EPERM';
  }
}

const appendQueues = new Map<string, Promise<unknown>>();

/**
 * Appends `value` as one JSON line and fsyncs. Appends to one file are serialised within the
 * process. If the file ends in a torn line (a crash mid-append), a newline is written first so
 * the torn line stays separate and only it is lost.
 */
export function appendJsonLine(file: string, value: unknown): Promise<void> {
  const line = JSON.stringify(value);
  if (line === undefined) return Promise.reject(new TypeError('appendJsonLine: the value is not JSON-serialisable'));
  const key = path.resolve(file);
  const previous = appendQueues.get(key) ?? Promise.resolve();
  const next = previous.then(() => appendLine(file, line));
  const settled = next.catch(() => undefined);
  appendQueues.set(key, settled);
  void settled.then(() => {
    if (appendQueues.get(key) === settled) appendQueues.delete(key);
  });
  return next;
}

async function appendLine(file: string, line: string): Promise<void> {
  const handle = await open(file, 'a+');
  try {
    const { size } = await handle.stat();
    let prefix = '';
    if (size > 0) {
      const last = Buffer.alloc(1);
      await handle.read(last, 0, 1, size - 1);
      if (last[0] !== 0x0a) prefix = '\n';
    }
    await handle.appendFile(`${prefix}${line}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** A line {@link readJsonLines} skipped. */
export interface DroppedLine {
  /** 1-based line number. */
  line: number;
  reason: 'torn_last_line' | 'invalid_json';
  /** What was wrong, for a log or a warning. */
  message: string;
}

export interface JsonLines {
  values: unknown[];
  dropped: DroppedLine[];
}

/**
 * Reads a JSONL file written by {@link appendJsonLine}. A last line without its newline or with
 * invalid JSON is a torn append and is dropped; any other invalid line is dropped as well. Each
 * drop is reported in `dropped`. Throws the file system error if the file cannot be read.
 */
export async function readJsonLines(file: string): Promise<JsonLines> {
  const handle = await open(file, 'r');
  let text: string;
  try {
    text = await handle.readFile('utf8');
  } finally {
    await handle.close();
  }
  const lines = text.split('\n');
  const complete = lines.pop() === '';
  const values: unknown[] = [];
  const dropped: DroppedLine[] = [];
  if (!complete) {
    const tornLine = lines.length + 1;
    dropped.push({
      line: tornLine,
      reason: 'torn_last_line',
      message: `${file}: line ${tornLine} has no trailing newline (an interrupted append); dropped it.`,
    });
  }
  lines.forEach((text, index) => {
    if (text.trim() === '') return;
    const line = index + 1;
    try {
      values.push(JSON.parse(text));
    } catch (error) {
      const last = complete && index === lines.length - 1;
      dropped.push({
        line,
        reason: last ? 'torn_last_line' : 'invalid_json',
        message: `${file}: line ${line} is not valid JSON (${(error as Error).message}); dropped it.`,
      });
    }
  });
  dropped.sort((a, b) => a.line - b.line);
  return { values, dropped };
}

/** The `code` of a Node file system error (`ENOENT`, `EPERM`, ...), if it has one. */
export function errorCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : undefined;
}

/** Whether something is at `file` (any other error than its absence is thrown). */
export async function pathExists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return false;
    throw error;
  }
}

/** Whether `file` is a regular file (false when it, or a folder on its path, is missing or not a folder). */
export async function isFile(file: string): Promise<boolean> {
  try {
    return (await stat(file)).isFile();
  } catch (error) {
    if (errorCode(error) === 'ENOENT' || errorCode(error) === 'ENOTDIR') return false;
    throw error;
  }
}
