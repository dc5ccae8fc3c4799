import { spawnSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { AppFailure } from '../../../src-main/api/index.js';
import { Catalog, type LockOwner } from '../../../src-main/engine/workspace/index.js';
import { dataset, deadPid, listFiles, makeTempDir, removeTempDirs } from './helpers.js';

const open: Catalog[] = [];

async function openCatalog(dir: string, options?: { readOnly?: boolean }): Promise<Catalog> {
  const catalog = await Catalog.open(dir, options);
  open.push(catalog);
  return catalog;
}

afterEach(async () => {
  await Promise.all(open.splice(0).map((catalog) => catalog.close()));
  await removeTempDirs();
});

async function openFailure(dir: string): Promise<AppFailure> {
  try {
    await openCatalog(dir);
  } catch (error) {
    if (error instanceof AppFailure) return error;
    throw error;
  }
  throw new Error('expected Catalog.open to fail');
}

function writeLock(dir: string, owner: Partial<LockOwner>): Promise<void> {
  const lock = { pid: 1, hostname: os.hostname(), startedAt: '2025-01-01T00:00:00.000Z', token: 'other', ...owner };
  return writeFile(path.join(dir, 'workbench.lock'), JSON.stringify(lock));
}

describe('the workspace lock', () => {
  it('records its holder and lets no second writer in, even in the same process', async () => {
    const dir = await makeTempDir();
    const first = await openCatalog(dir);
    const holder = JSON.parse(await readFile(path.join(dir, 'workbench.lock'), 'utf8')) as LockOwner;
    expect(holder).toMatchObject({ pid: process.pid, hostname: os.hostname() });
    expect(Date.parse(holder.startedAt)).not.toBeNaN();

    const failure = await openFailure(dir);
    expect(failure.code).toBe('workspace_locked');
    expect(failure.message).toContain(`process ${process.pid}`);

    await first.close();
    expect(await listFiles(dir, /\.lock$/)).toEqual([]);
    const second = await openCatalog(dir);
    expect(second.warnings).toEqual([]);
  });

  it('is refused while a live process on this host holds it', async () => {
    const dir = await makeTempDir();
    await writeLock(dir, { pid: process.ppid });
    const failure = await openFailure(dir);
    expect(failure.code).toBe('workspace_locked');
    expect(failure.message).toContain(`process ${process.ppid}`);
  });

  it('counts a lock from another host as held', async () => {
    const dir = await makeTempDir();
    await writeLock(dir, { hostname: 'some-other-host.invalid', pid: deadPid() });
    const failure = await openFailure(dir);
    expect(failure.code).toBe('workspace_locked');
    expect(failure.message).toContain('some-other-host.invalid');
  });

  it.each([
    ['a dead process', () => ({ pid: deadPid() })],
    ['a pid that cannot exist', () => ({ pid: 2 ** 22 - 1 })],
  ])('takes over a stale lock left by %s, with a warning', async (_name, owner) => {
    const dir = await makeTempDir();
    const stale = owner();
    await writeLock(dir, stale);
    const catalog = await openCatalog(dir);
    expect(catalog.warnings).toHaveLength(1);
    expect(catalog.warnings[0]).toMatch(new RegExp(`process ${stale.pid} .*no longer running`));
    const holder = JSON.parse(await readFile(path.join(dir, 'workbench.lock'), 'utf8')) as LockOwner;
    expect(holder.pid).toBe(process.pid);
    await catalog.update((draft) => void draft.datasets.push(dataset('after-takeover')));
  });

  it('lets a read-only reader in while the workspace is locked, and never writes', async () => {
    const dir = await makeTempDir();
    const writer = await openCatalog(dir);
    await writer.update((draft) => void draft.datasets.push(dataset('d1')));
    const lockBefore = await readFile(path.join(dir, 'workbench.lock'), 'utf8');

    const reader = await openCatalog(dir, { readOnly: true });
    expect(reader.data.datasets.map((entry) => entry.id)).toEqual(['d1']);
    await reader.close();
    expect(await readFile(path.join(dir, 'workbench.lock'), 'utf8')).toBe(lockBefore);
  });

  it('is released when the process exits without closing the catalog', async () => {
    const dir = await makeTempDir();
    const script = fileURLToPath(new URL('./fixtures/open-and-exit.ts', import.meta.url));
    const child = spawnSync(process.execPath, ['--import', 'tsx', script, dir], {
      cwd: fileURLToPath(new URL('../../../', import.meta.url)),
      encoding: 'utf8',
    });
    expect(child.stderr).toBe('');
    expect(child.status).toBe(0);
    expect(await listFiles(dir, /^workbench\./)).toEqual(['workbench.json', 'workbench.json.bak']);
  });

  it('release leaves a lock that is no longer its own in place', async () => {
    const dir = await makeTempDir();
    const catalog = await openCatalog(dir);
    await writeLock(dir, { pid: process.ppid, token: 'someone-else' });
    await catalog.close();
    expect(await listFiles(dir, /\.lock$/)).toEqual(['workbench.lock']);
  });
});
