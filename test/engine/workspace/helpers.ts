/** Shared helpers for the workspace tests: fresh temp folders and a pid that is surely dead. */
import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { DatasetEntry } from '../../../src-main/api/index.js';

const created: string[] = [];

/** A new empty folder under the OS temp folder; {@link removeTempDirs} deletes it. */
export async function makeTempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'drift-ws-test-'));
  created.push(dir);
  return dir;
}

export async function removeTempDirs(): Promise<void> {
  await Promise.all(created.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
}

/** The pid of a process that has already exited. */
export function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', '']);
  if (child.pid === undefined) throw new Error('could not spawn node');
  return child.pid;
}

export function dataset(id: string): DatasetEntry {
  return {
    id,
    name: `Dataset ${id}`,
    format: 'jsonl',
    createdAt: '2025-01-01T00:00:00.000Z',
    conversations: 1,
    sourceFiles: [],
  };
}

export async function listFiles(dir: string, pattern: RegExp): Promise<string[]> {
  return (await readdir(dir)).filter((name) => pattern.test(name)).sort();
}
