/**
 * One writer per workspace. lowdb and steno assume a single writer per file
 * (reference/reliability.md §3 rule 6), and the CLI and the app may point at the same folder,
 * so the writer holds `workbench.lock`, created exclusively (it fails if the file exists) and holding its
 * pid, host and start time. A lock whose pid is dead on this host is stale and is taken over.
 * The file appears with its content already in place (see createExclusive).
 *
 * Limits: a lock from another host (a network share) cannot be checked and always counts as
 * held; a reused pid makes a stale lock look held. Both messages say how to remove it by hand.
 * Two processes taking over the same stale lock at the same instant can both succeed; the
 * window is a few milliseconds at start-up.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync, unlinkSync } from 'node:fs';
import { link, open, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { AppFailure } from '../../api/index.js';
import { errorCode, isProcessAlive } from './atomic.js';
import { LOCK_FILE } from './layout.js';

/** What a lock file holds. */
export interface LockOwner {
  pid: number;
  hostname: string;
  startedAt: string;
  /** Tells two holders in one process apart, so a release never removes someone else's lock. */
  token: string;
}

const ACQUIRE_ATTEMPTS = 40;
const RETRY_MS = 50;
/**
 * An unparsable lock younger than this may still be being written (only on file systems without
 * hard links); older, it was torn by a crash or damaged, and is taken over.
 */
const UNREADABLE_STALE_MS = 1_000;

const heldLocks = new Set<WorkspaceLock>();
let exitHookInstalled = false;

/** The exclusive write lock on one workspace folder. */
export class WorkspaceLock {
  readonly file: string;
  readonly owner: LockOwner;
  #released = false;

  private constructor(file: string, owner: LockOwner) {
    this.file = file;
    this.owner = owner;
  }

  /**
   * Takes the lock on `dir`, taking over a stale one. `warning` says whose stale lock was taken.
   * @throws AppFailure `workspace_locked` if a live process holds it; `workspace_unreadable` if
   * the lock file cannot be created.
   */
  static async acquire(dir: string): Promise<{ lock: WorkspaceLock; warning: string | null }> {
    const file = path.join(dir, LOCK_FILE);
    const owner: LockOwner = {
      pid: process.pid,
      hostname: os.hostname(),
      startedAt: new Date().toISOString(),
      token: randomUUID(),
    };
    let warning: string | null = null;
    for (let attempt = 0; attempt < ACQUIRE_ATTEMPTS; attempt++) {
      if (await createExclusive(file, owner)) {
        const lock = new WorkspaceLock(file, owner);
        lock.#hold();
        return { lock, warning };
      }
      const holder = await readHolder(file);
      if (holder === 'missing') continue;
      if (holder === 'unreadable') {
        const age = await stat(file).then(
          (info) => Date.now() - info.mtimeMs,
          () => 0,
        );
        if (age < UNREADABLE_STALE_MS) {
          await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
          continue;
        }
        warning = `${file} was unreadable (left by a crash?); took over the workspace lock.`;
        await rm(file, { force: true });
        continue;
      }
      if (holder.hostname !== owner.hostname) {
        throw new AppFailure(
          'workspace_locked',
          `${dir} is locked by process ${holder.pid} on host ${holder.hostname} (since ${holder.startedAt}). ` +
            `If no workbench is running there, delete ${file}.`,
          { file, holder },
        );
      }
      if (isProcessAlive(holder.pid)) {
        throw new AppFailure(
          'workspace_locked',
          `${dir} is in use by process ${holder.pid} (since ${holder.startedAt}); close it first. ` +
            `If that process is not a workbench, delete ${file}.`,
          { file, holder },
        );
      }
      warning =
        `${file} was left by process ${holder.pid} (started ${holder.startedAt}), which is no longer running; ` +
        'took over the workspace lock.';
      await rm(file, { force: true });
    }
    throw new AppFailure('workspace_locked', `Could not take the lock ${file}: it keeps changing hands.`, { file });
  }

  /** Removes the lock file if it is still this holder's. */
  async release(): Promise<void> {
    if (this.#released) return;
    this.#released = true;
    heldLocks.delete(this);
    const holder = await readHolder(this.file);
    if (typeof holder === 'object' && holder.token === this.owner.token) await rm(this.file, { force: true });
  }

  /** Synchronous {@link release}, for the process 'exit' hook. */
  releaseSync(): void {
    if (this.#released) return;
    this.#released = true;
    heldLocks.delete(this);
    try {
      const holder = parseOwner(readFileSync(this.file, 'utf8'));
      if (holder?.token === this.owner.token) unlinkSync(this.file);
    } catch {
      // Best effort: a lock left behind is detected as stale by the next start.
    }
  }

  #hold(): void {
    heldLocks.add(this);
    if (!exitHookInstalled) {
      exitHookInstalled = true;
      process.on('exit', () => {
        for (const lock of [...heldLocks]) lock.releaseSync();
      });
    }
  }
}

/**
 * Creates the lock file with its content in one step: the content goes to a temp file that is
 * then hard-linked to the lock name, which fails with EEXIST like `wx` does, so no reader ever
 * sees a half-written lock. File systems without hard links fall back to `wx` and write.
 * Returns false if the lock already exists.
 */
async function createExclusive(file: string, owner: LockOwner): Promise<boolean> {
  const content = `${JSON.stringify(owner)}\n`;
  const temp = path.join(
    path.dirname(file),
    `.${path.basename(file)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`,
  );
  try {
    await writeNew(temp, content);
    try {
      await link(temp, file);
      return true;
    } catch (error) {
      const code = errorCode(error);
      if (code === 'EEXIST') return false;
      if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS') throw error;
    }
    try {
      await writeNew(file, content);
      return true;
    } catch (error) {
      if (errorCode(error) === 'EEXIST') return false;
      throw error;
    }
  } catch (error) {
    throw new AppFailure('workspace_unreadable', `Cannot create the lock file ${file}: ${(error as Error).message}`, {
      file,
    });
  } finally {
    await rm(temp, { force: true });
  }
}

/** Writes a file that must not exist yet (`wx`) and fsyncs it; removes it again if the write fails. */
async function writeNew(file: string, content: string): Promise<void> {
  const handle = await open(file, 'wx');
  try {
    await handle.writeFile(content);
    await handle.sync();
  } catch (error) {
    await handle.close();
    await rm(file, { force: true });
    throw error;
  }
  await handle.close();
}

async function readHolder(file: string): Promise<LockOwner | 'missing' | 'unreadable'> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return 'missing';
    throw new AppFailure('workspace_unreadable', `Cannot read the lock file ${file}: ${(error as Error).message}`, {
      file,
    });
  }
  return parseOwner(text) ?? 'unreadable';
}

function parseOwner(text: string): LockOwner | null {
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value !== 'object' || value === null) return null;
    const { pid, hostname, startedAt, token } = value as Record<string, unknown>;
    if (typeof pid !== 'number' || typeof hostname !== 'string' || typeof startedAt !== 'string') return null;
    return { pid, hostname, startedAt, token: typeof token === 'string' ? token : '' };
  } catch {
    return null;
  }
}
