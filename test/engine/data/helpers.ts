/** Shared helpers for the data import tests: temp folders, fixtures written by the tests, readers. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { SourceFile } from '../../../src-main/api/index.js';
import { openRecords } from '../../../src-main/engine/data/containers/index.js';
import { containerOf } from '../../../src-main/engine/data/files.js';
import { resolveLimits, type ImportLimits } from '../../../src-main/engine/data/limits.js';
import type { ReadItem } from '../../../src-main/engine/data/schema.js';

const created: string[] = [];

/** A new empty folder under the OS temp folder; {@link removeTempDirs} deletes it. */
export async function makeTempDir(prefix = 'drift-data-test-'): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  created.push(dir);
  return dir;
}

export async function removeTempDirs(): Promise<void> {
  await Promise.all(created.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
}

/** Writes `content` to `dir/name` and returns the path. */
export async function writeFixture(dir: string, name: string, content: string | Uint8Array): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, content);
  return file;
}

/** One JSON document per line. */
export function jsonl(records: readonly unknown[]): string {
  return records.map((record) => JSON.stringify(record)).join('\n') + '\n';
}

/** The SourceFile for a path, its container taken from the extension. */
export function sourceFile(file: string, bytes = 0): SourceFile {
  const kind = containerOf(file);
  if (!kind) throw new Error(`no container for ${file}`);
  return { path: file, relative: path.basename(file), ...kind, bytes };
}

/** Every item a container yields for `file`, and the failure that ended it (if any). */
export async function readAll(
  file: string,
  limits: Partial<ImportLimits> = {},
): Promise<{ items: ReadItem[]; failure: { code: string; message: string } | null }> {
  const items: ReadItem[] = [];
  try {
    for await (const batch of openRecords(sourceFile(file), resolveLimits(limits)).items) items.push(...batch);
  } catch (error) {
    const failure = error as { code?: string; message: string };
    return { items, failure: { code: failure.code ?? 'thrown', message: failure.message } };
  }
  return { items, failure: null };
}

export function records(items: readonly ReadItem[]): unknown[] {
  return items.flatMap((item) => (item.kind === 'record' ? [item.value] : []));
}

export function errors(items: readonly ReadItem[]) {
  return items.flatMap((item) => (item.kind === 'error' ? [item.error] : []));
}
