import { stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { WorkspaceInfo } from '../../../src-main/api/index.js';
import { openWorkspace, type Workspace } from '../../../src-main/engine/workspace/index.js';
import { dataset, deadPid, listFiles, makeTempDir, removeTempDirs } from './helpers.js';

const open: Workspace[] = [];

afterEach(async () => {
  await Promise.all(open.splice(0).map((workspace) => workspace.close()));
  await removeTempDirs();
});

describe('openWorkspace', () => {
  it('creates the folder layout and the catalog', async () => {
    const parent = await makeTempDir();
    const dir = path.join(parent, 'nested', 'ws');
    const workspace = await openWorkspace(dir);
    open.push(workspace);
    expect(workspace.dir).toBe(dir);
    for (const folder of ['datasets', 'models', 'runs', 'reports']) {
      expect((await stat(path.join(dir, folder))).isDirectory()).toBe(true);
    }
    expect((await stat(path.join(dir, 'workbench.json'))).isFile()).toBe(true);
  });

  it('reports path, schema version, warnings and counts matching the api schema', async () => {
    const dir = await makeTempDir();
    await writeFile(path.join(dir, 'workbench.json'), '');
    const workspace = await openWorkspace(dir);
    open.push(workspace);
    await workspace.catalog.update((draft) => {
      draft.datasets.push(dataset('d1'), dataset('d2'));
    });
    const info = workspace.info();
    expect(WorkspaceInfo.parse(info)).toEqual(info);
    expect(info).toMatchObject({
      path: dir,
      schemaVersion: 1,
      counts: { datasets: 2, models: 0, runs: 0, reports: 0, jobs: 0 },
    });
    expect(info.warnings).toHaveLength(1);
    expect(info.warnings[0]).toMatch(/workbench\.json is empty/);
  });

  it('removes temp files of dead writers from the root', async () => {
    const dir = await makeTempDir();
    const stale = `.workbench.json.${deadPid()}.00ff.tmp`;
    await writeFile(path.join(dir, stale), '{"half');
    const workspace = await openWorkspace(dir);
    open.push(workspace);
    expect(await listFiles(dir, /\.tmp$/)).toEqual([]);
  });

  it('read-only creates nothing', async () => {
    const parent = await makeTempDir();
    const dir = path.join(parent, 'absent');
    const workspace = await openWorkspace(dir, { readOnly: true });
    open.push(workspace);
    expect(workspace.info().counts.datasets).toBe(0);
    await expect(stat(dir)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('fails with workspace_unreadable when the folder is a file', async () => {
    const parent = await makeTempDir();
    const file = path.join(parent, 'not-a-folder');
    await writeFile(file, 'x');
    await expect(openWorkspace(file)).rejects.toMatchObject({ code: 'workspace_unreadable' });
  });
});
