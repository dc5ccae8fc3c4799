/**
 * The workspace catalog: workbench.json held by lowdb (metadata only; bulk data lives in JSONL
 * and safetensors files beside it).
 *
 * What lowdb does not do and this file adds (reference/reliability.md §3):
 * - a durable write: temp file, fsync, rename, fsync of the folder, then the same for
 *   workbench.json.bak, the last good copy;
 * - validation on read with the zod schema, schemaVersion and migrations;
 * - recovery instead of a crash: an empty, truncated, non-UTF-8, non-object or schema-invalid
 *   file is copied to `workbench.json.corrupt-<time>` (never deleted) and replaced by the last
 *   good copy; a BOM is stripped; each event leaves a warning for the UI banner;
 * - one writer (workbench.lock) and one queue of updates, each validated before it is written.
 *
 * The custom adapter is used instead of lowdb's JSONFilePreset, which silently switches to an
 * in-memory adapter when NODE_ENV is "test".
 */
import { mkdir, open, readFile } from 'node:fs/promises';
import path from 'node:path';
import { Low, type Adapter } from 'lowdb';
import { AppFailure } from '../../api/index.js';
import { errorCode, fsyncFolder, removeStaleTemps, writeFileAtomic } from './atomic.js';
import {
  CATALOG_SCHEMA_VERSION,
  CatalogSchema,
  decodeCatalog,
  defaultCatalog,
  describeIssues,
  type CatalogData,
  type CatalogDecoding,
} from './catalog-schema.js';
import { CATALOG_BACKUP_FILE, CATALOG_FILE } from './layout.js';
import { WorkspaceLock } from './lock.js';

export { CATALOG_SCHEMA_VERSION, CatalogSchema, defaultCatalog, migrations } from './catalog-schema.js';
export type { CatalogData } from './catalog-schema.js';

export interface CatalogOpenOptions {
  /**
   * Read without taking the write lock: nothing on disk is created, repaired or rewritten, and
   * {@link Catalog.update} is refused. For looking at a workspace another process is using.
   */
  readOnly?: boolean;
}

/** Changes the draft in place; may be async. Throwing cancels this update only. */
export type CatalogMutator = (draft: CatalogData) => void | Promise<void>;

interface PendingUpdate {
  mutator: CatalogMutator;
  resolve: (data: Readonly<CatalogData>) => void;
  reject: (error: unknown) => void;
}

/** The catalog of one workspace folder. Open with {@link Catalog.open}; one writer per folder. */
export class Catalog {
  /** The workspace folder (absolute). */
  readonly dir: string;
  /** The path of workbench.json. */
  readonly file: string;
  readonly readOnly: boolean;
  /** Things the user should see, e.g. a quarantined file or a taken-over stale lock. */
  readonly warnings: string[];
  readonly #db: Low<CatalogData>;
  readonly #lock: WorkspaceLock | null;
  /** What is on disk; lowdb's `db.data` holds the next state only while it is being written. */
  #committed: Readonly<CatalogData>;
  #pending: PendingUpdate[] = [];
  #draining: Promise<void> | null = null;
  #closed = false;

  private constructor(
    dir: string,
    readOnly: boolean,
    db: Low<CatalogData>,
    lock: WorkspaceLock | null,
    warnings: string[],
  ) {
    this.dir = dir;
    this.file = path.join(dir, CATALOG_FILE);
    this.readOnly = readOnly;
    this.warnings = warnings;
    this.#db = db;
    this.#lock = lock;
    this.#committed = deepFreeze(db.data);
  }

  /**
   * Opens (and if missing creates) `<dir>/workbench.json`: takes the workspace lock, removes
   * temp files left by dead writers, then reads, migrates, validates and if needed repairs the
   * file. Repairs are listed in {@link Catalog.warnings}.
   * @throws AppFailure `workspace_locked`, `catalog_newer_version` (the file is left untouched)
   * or `workspace_unreadable`.
   */
  static async open(dir: string, options: CatalogOpenOptions = {}): Promise<Catalog> {
    const root = path.resolve(dir);
    const readOnly = options.readOnly ?? false;
    const warnings: string[] = [];
    let lock: WorkspaceLock | null = null;
    try {
      if (!readOnly) {
        await mkdir(root, { recursive: true });
        const acquired = await WorkspaceLock.acquire(root);
        lock = acquired.lock;
        if (acquired.warning) warnings.push(acquired.warning);
        await removeStaleTemps(root);
      }
      const adapter = new CatalogFile(root, readOnly);
      const db = new Low<CatalogData>(adapter, defaultCatalog());
      await db.read();
      // One list: warnings the adapter adds later (a failed backup refresh) show up too.
      adapter.warnings.unshift(...warnings);
      return new Catalog(root, readOnly, db, lock, adapter.warnings);
    } catch (error) {
      await lock?.release();
      if (error instanceof AppFailure) throw error;
      throw new AppFailure('workspace_unreadable', `Cannot open the catalog in ${root}: ${(error as Error).message}`, {
        dir: root,
      });
    }
  }

  /** The last committed catalog (what is on disk). Deeply frozen: change it through {@link update}. */
  get data(): Readonly<CatalogData> {
    return this.#committed;
  }

  /**
   * Applies `mutator` to a copy of the data, validates the result and writes it atomically.
   * Updates run one at a time in call order; updates queued while a write is in progress are
   * written together by the next write (each still validated on its own). Resolves with the
   * data after this update once it is durable on disk.
   * @throws AppFailure `catalog_invalid` if the result does not match the schema (nothing is
   * changed); `workspace_locked` if the catalog is read-only; `workspace_unreadable` if the
   * write fails (nothing is changed); whatever the mutator throws.
   */
  update(mutator: CatalogMutator): Promise<Readonly<CatalogData>> {
    if (this.readOnly) {
      return Promise.reject(
        new AppFailure('workspace_locked', `The catalog ${this.file} was opened read-only; it cannot be changed.`),
      );
    }
    if (this.#closed) {
      return Promise.reject(new AppFailure('internal_error', `The catalog ${this.file} is closed.`));
    }
    return new Promise((resolve, reject) => {
      this.#pending.push({ mutator, resolve, reject });
      this.#startDraining();
    });
  }

  /** Finishes queued updates and releases the workspace lock. Further updates are refused. */
  async close(): Promise<void> {
    this.#closed = true;
    while (this.#draining) await this.#draining;
    await this.#lock?.release();
  }

  #startDraining(): void {
    if (this.#draining) return;
    this.#draining = this.#drain().finally(() => {
      this.#draining = null;
      // An update queued after the loop's last check but before this callback ran.
      if (this.#pending.length > 0) this.#startDraining();
    });
  }

  async #drain(): Promise<void> {
    while (this.#pending.length > 0) {
      const batch = this.#pending.splice(0);
      const applied: Array<{ update: PendingUpdate; data: Readonly<CatalogData> }> = [];
      let next = this.#committed;
      for (const update of batch) {
        try {
          const draft = structuredClone(next) as CatalogData;
          await update.mutator(draft);
          // The JSON round trip makes memory equal what a reload would see, and keeps the
          // caller's own objects out of the frozen catalog.
          const parsed = CatalogSchema.safeParse(jsonRoundTrip(draft, this.file));
          if (!parsed.success) {
            throw new AppFailure(
              'catalog_invalid',
              `The change would make ${this.file} invalid: ${describeIssues(parsed.error.issues)}`,
              { issues: parsed.error.issues },
            );
          }
          next = deepFreeze(parsed.data);
          applied.push({ update, data: next });
        } catch (error) {
          update.reject(error);
        }
      }
      if (applied.length === 0) continue;
      this.#db.data = next;
      try {
        await this.#db.write();
      } catch (error) {
        this.#db.data = this.#committed;
        const failure = new AppFailure(
          'workspace_unreadable',
          `Could not write ${this.file}: ${(error as Error).message}`,
          { file: this.file },
        );
        for (const { update } of applied) update.reject(failure);
        continue;
      }
      this.#committed = next;
      for (const { update, data } of applied) update.resolve(data);
    }
  }
}

/**
 * lowdb adapter for workbench.json. `read` validates and repairs (see the file comment) and
 * collects warnings; `write` replaces workbench.json and then workbench.json.bak atomically.
 */
class CatalogFile implements Adapter<CatalogData> {
  readonly file: string;
  readonly backupFile: string;
  readonly readOnly: boolean;
  readonly warnings: string[] = [];

  constructor(dir: string, readOnly: boolean) {
    this.file = path.join(dir, CATALOG_FILE);
    this.backupFile = path.join(dir, CATALOG_BACKUP_FILE);
    this.readOnly = readOnly;
  }

  async read(): Promise<CatalogData> {
    const bytes = await readBytes(this.file);
    if (bytes === null) {
      const data = defaultCatalog();
      if (!this.readOnly) await this.write(data);
      return data;
    }
    const decoded = decodeCatalog(bytes, this.file);
    return decoded.ok ? this.#accept(bytes, decoded) : this.#recover(bytes, decoded.problem);
  }

  async write(data: CatalogData): Promise<void> {
    if (this.readOnly) throw new AppFailure('workspace_locked', `The catalog ${this.file} was opened read-only.`);
    const text = `${JSON.stringify(data, null, 2)}\n`;
    await writeFileAtomic(this.file, text);
    await this.#writeBackup(text);
  }

  /** The write is committed once workbench.json is replaced; a failed backup only warns. */
  async #writeBackup(content: string | Uint8Array): Promise<void> {
    try {
      await writeFileAtomic(this.backupFile, content);
    } catch (error) {
      const warning = `Could not refresh the backup ${this.backupFile}: ${(error as Error).message}`;
      if (!this.warnings.includes(warning)) this.warnings.push(warning);
    }
  }

  async #accept(bytes: Uint8Array, decoded: Extract<CatalogDecoding, { ok: true }>): Promise<CatalogData> {
    const { data, bom, migratedFrom } = decoded;
    if (this.readOnly) {
      if (bom)
        this.warnings.push(`${this.file} starts with a UTF-8 byte order mark; read it and left it as is (read-only).`);
      if (migratedFrom !== null) {
        this.warnings.push(
          `${this.file} uses schema version ${migratedFrom}; upgraded it in memory to ${CATALOG_SCHEMA_VERSION} ` +
            'and left the file as is (read-only).',
        );
      }
      return data;
    }
    if (bom) {
      const kept = await quarantine(this.file, bytes);
      this.warnings.push(
        `${this.file} started with a UTF-8 byte order mark (added by an editor?). Kept its data and rewrote it ` +
          `without the mark; the original bytes are kept as ${kept}.`,
      );
    }
    if (migratedFrom !== null) {
      const original = `${this.file}.v${migratedFrom}.bak`;
      await writeFileAtomic(original, bytes);
      this.warnings.push(
        `${this.file} was upgraded from schema version ${migratedFrom} to ${CATALOG_SCHEMA_VERSION}; ` +
          `the original is kept as ${original}.`,
      );
    }
    if (bom || migratedFrom !== null) await this.write(data);
    else await this.#writeBackup(bytes);
    return data;
  }

  async #recover(bytes: Uint8Array, problem: string): Promise<CatalogData> {
    // Read the backup first: if it is from a newer workbench, that throws before anything is touched.
    const backup = await this.#readBackup();
    const data = backup.ok ? backup.data : defaultCatalog();
    if (this.readOnly) {
      const shown = backup.ok ? `the last good copy from ${this.backupFile}` : 'an empty catalog';
      this.warnings.push(`${this.file} ${problem}. Opened read-only, so it was left in place; showing ${shown}.`);
      return data;
    }
    const kept = await quarantine(this.file, bytes);
    let outcome: string;
    if (backup.ok) {
      outcome = `restored the last good copy from ${this.backupFile}`;
    } else if (backup.bytes) {
      const keptBackup = await quarantine(this.backupFile, backup.bytes);
      outcome = `the backup ${this.backupFile} ${backup.problem} as well (kept as ${keptBackup}), so the catalog starts empty`;
    } else {
      outcome = `there is no backup (${this.backupFile}), so the catalog starts empty`;
    }
    await this.write(data);
    this.warnings.push(`${this.file} ${problem}. The damaged file is kept as ${kept}; ${outcome}.`);
    return data;
  }

  async #readBackup(): Promise<
    { ok: true; data: CatalogData } | { ok: false; problem: string; bytes: Uint8Array | null }
  > {
    let bytes: Uint8Array | null;
    try {
      bytes = await readBytes(this.backupFile);
    } catch (error) {
      return { ok: false, problem: `could not be read (${(error as Error).message})`, bytes: null };
    }
    if (bytes === null) return { ok: false, problem: 'does not exist', bytes: null };
    const decoded = decodeCatalog(bytes, this.backupFile);
    return decoded.ok ? { ok: true, data: decoded.data } : { ok: false, problem: decoded.problem, bytes };
  }
}

/** The file's bytes, or null if it does not exist. */
async function readBytes(file: string): Promise<Uint8Array | null> {
  try {
    return await readFile(file);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return null;
    throw new AppFailure('workspace_unreadable', `Cannot read ${file}: ${(error as Error).message}`, { file });
  }
}

/** Saves `bytes` as `<file>.corrupt-<ISO time>` (never overwriting one) and returns its path. */
async function quarantine(file: string, bytes: Uint8Array): Promise<string> {
  const stamp = new Date().toISOString().replace(/:/g, '-');
  for (let attempt = 1; ; attempt++) {
    const target = `${file}.corrupt-${stamp}${attempt > 1 ? `-${attempt}` : ''}`;
    let handle;
    try {
      handle = await open(target, 'wx');
    } catch (error) {
      if (errorCode(error) === 'EEXIST') continue;
      throw error;
    }
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fsyncFolder(path.dirname(target));
    return target;
  }
}

function jsonRoundTrip(draft: CatalogData, file: string): unknown {
  try {
    return JSON.parse(JSON.stringify(draft));
  } catch (error) {
    throw new AppFailure('catalog_invalid', `The change cannot be stored in ${file}: ${(error as Error).message}`);
  }
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
