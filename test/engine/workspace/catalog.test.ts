import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AppFailure, DEFAULT_SETTINGS } from '../../../src-main/api/index.js';
import {
  Catalog,
  CATALOG_SCHEMA_VERSION,
  defaultCatalog,
  migrations,
  type CatalogData,
} from '../../../src-main/engine/workspace/index.js';
import { dataset, listFiles, makeTempDir, removeTempDirs } from './helpers.js';

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

/** A workspace whose catalog holds dataset "good" and a matching workbench.json.bak. */
async function workspaceWithGoodCopy(): Promise<{ dir: string; file: string }> {
  const dir = await makeTempDir();
  const catalog = await Catalog.open(dir);
  await catalog.update((draft) => {
    draft.datasets.push(dataset('good'));
  });
  await catalog.close();
  return { dir, file: path.join(dir, 'workbench.json') };
}

async function rejection(promise: Promise<unknown>): Promise<AppFailure> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof AppFailure) return error;
    throw error;
  }
  throw new Error('expected a rejection');
}

const GOOD_TEXT = JSON.stringify({ ...defaultCatalog(), datasets: [dataset('good')] });
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

const badFiles: Array<[string, Buffer, RegExp]> = [
  ['empty', Buffer.alloc(0), /is empty/],
  ['whitespace only', Buffer.from('  \n'), /only whitespace/],
  ['truncated', Buffer.from(GOOD_TEXT.slice(0, 60)), /not valid JSON: .*(truncated|position)/],
  ['null', Buffer.from('null'), /holds null at the top level/],
  ['an array', Buffer.from('[]'), /holds an array at the top level/],
  ['a string', Buffer.from('"str"'), /holds a string .* at the top level/],
  ['BOM + invalid JSON', Buffer.concat([BOM, Buffer.from('{"schemaVersion":1,')]), /not valid JSON/],
  [
    'invalid UTF-8',
    Buffer.concat([
      Buffer.from('{"schemaVersion":1,"curation":{"k":"'),
      Buffer.from([0xff, 0xfe, 0x80]),
      Buffer.from('"}}'),
    ]),
    /not valid UTF-8 text \(invalid bytes near offset 36\)/,
  ],
  ['schema-invalid', Buffer.from('{"schemaVersion":1,"datasets":5}'), /does not match the catalog schema: datasets: /],
  [
    'duplicate ids',
    Buffer.from(JSON.stringify({ schemaVersion: 1, runs: [], datasets: [dataset('a'), dataset('a')] })),
    /datasets\.1\.id: duplicate id "a"/,
  ],
  ['a bad schemaVersion', Buffer.from('{"schemaVersion":"1"}'), /schemaVersion "1", which is not a version number/],
];

describe('Catalog.open', () => {
  it('creates workbench.json and its backup with defaults when missing', async () => {
    const dir = await makeTempDir();
    const catalog = await openCatalog(dir);
    expect(catalog.data).toEqual(defaultCatalog());
    expect(catalog.data.settings).toEqual(DEFAULT_SETTINGS);
    expect(catalog.warnings).toEqual([]);
    const onDisk: unknown = JSON.parse(await readFile(path.join(dir, 'workbench.json'), 'utf8'));
    expect(onDisk).toEqual({ ...defaultCatalog(), schemaVersion: CATALOG_SCHEMA_VERSION });
    expect(await readFile(path.join(dir, 'workbench.json.bak'), 'utf8')).toBe(
      await readFile(path.join(dir, 'workbench.json'), 'utf8'),
    );
  });

  it('fills sections an older file lacks, and missing settings key by key', async () => {
    const dir = await makeTempDir();
    await writeFile(path.join(dir, 'workbench.json'), '{"schemaVersion":1,"settings":{"theme":"dark"}}');
    const catalog = await openCatalog(dir);
    expect(catalog.warnings).toEqual([]);
    expect(catalog.data.settings).toEqual({ ...DEFAULT_SETTINGS, theme: 'dark' });
    expect(catalog.data.runs).toEqual([]);
    expect(catalog.data.curation).toEqual({});
  });

  describe.each(badFiles)('a workbench.json that is %s', (_name, bytes, problem) => {
    it('is quarantined byte for byte and the last good copy restored, with a warning', async () => {
      const { dir, file } = await workspaceWithGoodCopy();
      await writeFile(file, bytes);

      const catalog = await openCatalog(dir);
      expect(catalog.data.datasets.map((entry) => entry.id)).toEqual(['good']);

      const quarantined = await listFiles(dir, /^workbench\.json\.corrupt-/);
      expect(quarantined).toHaveLength(1);
      expect(quarantined[0]).not.toContain(':');
      expect(await readFile(path.join(dir, quarantined[0]!))).toEqual(bytes);

      expect(catalog.warnings).toHaveLength(1);
      const warning = catalog.warnings[0]!;
      expect(warning).toContain(file);
      expect(warning).toMatch(problem);
      expect(warning).toContain(path.join(dir, quarantined[0]!));
      expect(warning).toContain('restored the last good copy');

      // The repaired file is valid again: a second open is clean.
      await catalog.close();
      const again = await openCatalog(dir);
      expect(again.warnings).toEqual([]);
      expect(again.data.datasets.map((entry) => entry.id)).toEqual(['good']);
    });
  });

  it('starts from defaults when there is no backup, and says so', async () => {
    const dir = await makeTempDir();
    await writeFile(path.join(dir, 'workbench.json'), '{"schemaVersion":1,"datasets":[');
    const catalog = await openCatalog(dir);
    expect(catalog.data).toEqual(defaultCatalog());
    expect(catalog.warnings).toHaveLength(1);
    expect(catalog.warnings[0]).toMatch(/there is no backup .*starts empty/);
    expect(await listFiles(dir, /^workbench\.json\.corrupt-/)).toHaveLength(1);
  });

  it('quarantines a damaged backup too and starts from defaults', async () => {
    const { dir, file } = await workspaceWithGoodCopy();
    await writeFile(file, 'null');
    await writeFile(path.join(dir, 'workbench.json.bak'), '{"sche');
    const catalog = await openCatalog(dir);
    expect(catalog.data).toEqual(defaultCatalog());
    expect(catalog.warnings[0]).toMatch(/backup .* is not valid JSON.* as well/);
    expect(await listFiles(dir, /^workbench\.json\.corrupt-/)).toHaveLength(1);
    expect(await listFiles(dir, /^workbench\.json\.bak\.corrupt-/)).toHaveLength(1);
  });

  it('keeps the data of a BOM-prefixed valid file, rewrites it without the BOM and keeps the original', async () => {
    const { dir, file } = await workspaceWithGoodCopy();
    const newest = JSON.stringify({ ...defaultCatalog(), datasets: [dataset('good'), dataset('newest')] });
    const original = Buffer.concat([BOM, Buffer.from(newest)]);
    await writeFile(file, original);

    const catalog = await openCatalog(dir);
    expect(catalog.data.datasets.map((entry) => entry.id)).toEqual(['good', 'newest']);
    expect(catalog.warnings).toHaveLength(1);
    expect(catalog.warnings[0]).toMatch(/byte order mark/);

    const rewritten = await readFile(file);
    expect(rewritten[0]).toBe('{'.charCodeAt(0));
    expect((JSON.parse(rewritten.toString('utf8')) as CatalogData).datasets).toHaveLength(2);
    const quarantined = await listFiles(dir, /^workbench\.json\.corrupt-/);
    expect(quarantined).toHaveLength(1);
    expect(await readFile(path.join(dir, quarantined[0]!))).toEqual(original);
    expect(catalog.warnings[0]).toContain(quarantined[0]);
  });

  it('refuses a file from a newer workbench and leaves it untouched', async () => {
    const { dir, file } = await workspaceWithGoodCopy();
    const newer = JSON.stringify({ schemaVersion: CATALOG_SCHEMA_VERSION + 1, datasets: 'a new shape' });
    await writeFile(file, newer);
    const backupBefore = await readFile(path.join(dir, 'workbench.json.bak'));
    const filesBefore = await listFiles(dir, /./);

    const failure = await rejection(Catalog.open(dir));
    expect(failure.code).toBe('catalog_newer_version');
    expect(failure.message).toContain(`schemaVersion ${CATALOG_SCHEMA_VERSION + 1}`);
    expect(await readFile(file, 'utf8')).toBe(newer);
    expect(await readFile(path.join(dir, 'workbench.json.bak'))).toEqual(backupBefore);
    // Nothing quarantined, and the lock was released again.
    expect(await listFiles(dir, /./)).toEqual(filesBefore);
    expect((await rejection(Catalog.open(dir, { readOnly: true }))).code).toBe('catalog_newer_version');
  });

  it('refuses a corrupt file whose backup is from a newer workbench, touching nothing', async () => {
    const { dir, file } = await workspaceWithGoodCopy();
    await writeFile(file, '');
    await writeFile(path.join(dir, 'workbench.json.bak'), JSON.stringify({ schemaVersion: 99 }));
    const filesBefore = await listFiles(dir, /./);
    expect((await rejection(Catalog.open(dir))).code).toBe('catalog_newer_version');
    expect(await listFiles(dir, /./)).toEqual(filesBefore);
    expect(await readFile(file, 'utf8')).toBe('');
  });

  it('read-only: reports a corrupt file but changes nothing on disk', async () => {
    const { dir, file } = await workspaceWithGoodCopy();
    await writeFile(file, '[]');
    const filesBefore = await listFiles(dir, /./);
    const catalog = await openCatalog(dir, { readOnly: true });
    expect(catalog.data.datasets.map((entry) => entry.id)).toEqual(['good']);
    expect(catalog.warnings[0]).toMatch(/read-only/);
    expect(await listFiles(dir, /./)).toEqual(filesBefore);
    expect(await readFile(file, 'utf8')).toBe('[]');
  });
});

describe('migrations', () => {
  const preRelease = {
    datasets: [dataset('d1')],
    experiments: [
      {
        id: 'r1',
        name: 'First run',
        method: 'drift',
        status: 'succeeded',
        createdAt: '2025-01-01T00:00:00.000Z',
        baseModelId: 'm1',
        datasetId: 'd1',
      },
    ],
    settings: { theme: 'light' },
  };

  it('migrates the pre-release shape: experiments become runs', () => {
    expect(migrations[0]!(preRelease)).toEqual({
      datasets: preRelease.datasets,
      runs: preRelease.experiments,
      settings: preRelease.settings,
      schemaVersion: 1,
    });
  });

  it('upgrades a version 0 file on open, keeping the original beside it', async () => {
    const dir = await makeTempDir();
    const file = path.join(dir, 'workbench.json');
    const original = JSON.stringify(preRelease);
    await writeFile(file, original);

    const catalog = await openCatalog(dir);
    expect(catalog.data.schemaVersion).toBe(1);
    expect(catalog.data.runs.map((run) => run.id)).toEqual(['r1']);
    expect(catalog.data.datasets.map((entry) => entry.id)).toEqual(['d1']);
    expect(catalog.data.settings).toEqual({ ...DEFAULT_SETTINGS, theme: 'light' });
    expect(catalog.warnings).toHaveLength(1);
    expect(catalog.warnings[0]).toMatch(/upgraded from schema version 0 to 1/);

    expect(await readFile(path.join(dir, 'workbench.json.v0.bak'), 'utf8')).toBe(original);
    const onDisk = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
    expect(onDisk['schemaVersion']).toBe(1);
    expect(onDisk['experiments']).toBeUndefined();
    expect(await listFiles(dir, /corrupt/)).toEqual([]);
  });
});

describe('Catalog.update', () => {
  it('writes each update durably and returns the new data', async () => {
    const dir = await makeTempDir();
    const catalog = await openCatalog(dir);
    const next = await catalog.update((draft) => {
      draft.datasets.push(dataset('d1'));
      draft.settings.theme = 'dark';
    });
    expect(next.datasets.map((entry) => entry.id)).toEqual(['d1']);
    expect(catalog.data).toBe(next);
    const onDisk = JSON.parse(await readFile(path.join(dir, 'workbench.json'), 'utf8')) as CatalogData;
    expect(onDisk.datasets.map((entry) => entry.id)).toEqual(['d1']);
    expect(onDisk.settings.theme).toBe('dark');
    expect(await readFile(path.join(dir, 'workbench.json.bak'), 'utf8')).toBe(
      await readFile(path.join(dir, 'workbench.json'), 'utf8'),
    );
  });

  it('refuses a change that breaks the schema and changes nothing', async () => {
    const dir = await makeTempDir();
    const catalog = await openCatalog(dir);
    await catalog.update((draft) => {
      draft.datasets.push(dataset('d1'));
    });
    const before = catalog.data;
    const bytesBefore = await readFile(path.join(dir, 'workbench.json'));

    const failure = await rejection(
      catalog.update((draft) => {
        draft.datasets.push(dataset('../escape'));
        (draft as unknown as Record<string, unknown>)['models'] = 5;
      }),
    );
    expect(failure.code).toBe('catalog_invalid');
    expect(failure.message).toMatch(/datasets\.1\.id/);
    expect(failure.message).toMatch(/models/);
    expect(catalog.data).toBe(before);
    expect(await readFile(path.join(dir, 'workbench.json'))).toEqual(bytesBefore);

    await rejection(catalog.update((draft) => void draft.datasets.push(dataset('d1')))).then((duplicate) =>
      expect(duplicate.code).toBe('catalog_invalid'),
    );
    const unstorable = await rejection(
      catalog.update((draft) => {
        draft.curation['pair-1'] = { score: 10n };
      }),
    );
    expect(unstorable.code).toBe('catalog_invalid');
    expect(catalog.data).toBe(before);
    await catalog.update((draft) => void draft.datasets.push(dataset('d2')));
    expect(catalog.data.datasets.map((entry) => entry.id)).toEqual(['d1', 'd2']);
  });

  it('serves an update issued right after the previous one resolved', async () => {
    const dir = await makeTempDir();
    const catalog = await openCatalog(dir);
    for (let index = 0; index < 6; index++) {
      const written = catalog.update((draft) => void draft.datasets.push(dataset(`d${index}`))).then(() => 'written');
      const stalled = new Promise((resolve) => setTimeout(() => resolve('stalled'), 2_000));
      expect(await Promise.race([written, stalled])).toBe('written');
    }
    expect(catalog.data.datasets).toHaveLength(6);
  });

  it('runs queued updates in order; a failing one affects only itself', async () => {
    const dir = await makeTempDir();
    const catalog = await openCatalog(dir);
    const results = await Promise.allSettled(
      Array.from({ length: 12 }, (_, index) =>
        catalog.update(async (draft) => {
          await Promise.resolve();
          if (index === 5) throw new Error('mutator failed');
          draft.datasets.push(dataset(`d${index}`));
        }),
      ),
    );
    expect(results.map((result) => result.status)).toEqual(
      Array.from({ length: 12 }, (_, index) => (index === 5 ? 'rejected' : 'fulfilled')),
    );
    const expected = Array.from({ length: 12 }, (_, index) => `d${index}`).filter((id) => id !== 'd5');
    expect(catalog.data.datasets.map((entry) => entry.id)).toEqual(expected);
    const third = results[2];
    expect(third?.status === 'fulfilled' && third.value.datasets.map((entry) => entry.id)).toEqual(['d0', 'd1', 'd2']);
    await catalog.close();
    const reopened = await openCatalog(dir);
    expect(reopened.data.datasets.map((entry) => entry.id)).toEqual(expected);
  });

  it('changes nothing when workbench.json cannot be replaced', async () => {
    const dir = await makeTempDir();
    const catalog = await openCatalog(dir);
    await catalog.update((draft) => void draft.datasets.push(dataset('d1')));
    const before = catalog.data;
    // A non-empty folder in its place makes the rename fail.
    await rm(path.join(dir, 'workbench.json'));
    await mkdir(path.join(dir, 'workbench.json', 'blocker'), { recursive: true });

    const failure = await rejection(catalog.update((draft) => void draft.datasets.push(dataset('d2'))));
    expect(failure.code).toBe('workspace_unreadable');
    expect(failure.message).toContain(path.join(dir, 'workbench.json'));
    expect(catalog.data).toBe(before);
    expect(await listFiles(dir, /\.tmp$/)).toEqual([]);
  });

  it('commits the update but warns when the backup cannot be refreshed', async () => {
    const dir = await makeTempDir();
    const catalog = await openCatalog(dir);
    await rm(path.join(dir, 'workbench.json.bak'));
    await mkdir(path.join(dir, 'workbench.json.bak', 'blocker'), { recursive: true });

    await catalog.update((draft) => void draft.datasets.push(dataset('d1')));
    expect(catalog.data.datasets.map((entry) => entry.id)).toEqual(['d1']);
    const onDisk = JSON.parse(await readFile(path.join(dir, 'workbench.json'), 'utf8')) as CatalogData;
    expect(onDisk.datasets.map((entry) => entry.id)).toEqual(['d1']);
    expect(catalog.warnings).toHaveLength(1);
    expect(catalog.warnings[0]).toMatch(/Could not refresh the backup .*workbench\.json\.bak/);
  });

  it('keeps committed data frozen and the caller’s objects untouched', async () => {
    const dir = await makeTempDir();
    const catalog = await openCatalog(dir);
    const entry = dataset('d1');
    await catalog.update((draft) => void draft.datasets.push(entry));
    expect(Object.isFrozen(entry)).toBe(false);
    expect(() => (catalog.data.datasets as unknown[]).push(dataset('sneaky'))).toThrow(TypeError);
    expect(() => {
      (catalog.data.settings as { theme: string }).theme = 'dark';
    }).toThrow(TypeError);
  });

  it('is refused on a read-only or closed catalog', async () => {
    const dir = await makeTempDir();
    const writer = await Catalog.open(dir);
    await writer.close();
    expect((await rejection(writer.update(() => undefined))).code).toBe('internal_error');
    const reader = await openCatalog(dir, { readOnly: true });
    expect((await rejection(reader.update(() => undefined))).code).toBe('workspace_locked');
  });
});

describe('prototype pollution', () => {
  it('ignores __proto__ keys from the file', async () => {
    const dir = await makeTempDir();
    const hostile =
      '{"schemaVersion":1,"__proto__":{"polluted":"root"},' +
      '"curation":{"__proto__":{"polluted":"record"},"pair-1":{"decision":"accept"}},' +
      '"settings":{"__proto__":{"polluted":"settings"},"theme":"dark"},' +
      `"datasets":[${JSON.stringify(dataset('d1')).slice(0, -1)},"__proto__":{"polluted":"entry"}}]}`;
    await writeFile(path.join(dir, 'workbench.json'), hostile);

    const catalog = await openCatalog(dir);
    expect(catalog.warnings).toEqual([]);
    const data = catalog.data;
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect((Object.prototype as Record<string, unknown>)['polluted']).toBeUndefined();
    for (const object of [data, data.curation, data.settings, data.datasets[0]!]) {
      expect(Object.getPrototypeOf(object)).toBe(Object.prototype);
      expect((object as Record<string, unknown>)['polluted']).toBeUndefined();
    }
    expect(Object.keys(data.curation)).toEqual(['pair-1']);
    expect(data.settings.theme).toBe('dark');

    await catalog.update((draft) => void draft.datasets.push(dataset('d2')));
    expect(await readFile(path.join(dir, 'workbench.json'), 'utf8')).not.toContain('polluted');
  });
});

describe('backup handling', () => {
  it('refreshes workbench.json.bak on every successful open', async () => {
    const { dir } = await workspaceWithGoodCopy();
    await rm(path.join(dir, 'workbench.json.bak'));
    const catalog = await openCatalog(dir);
    expect(await readFile(path.join(dir, 'workbench.json.bak'), 'utf8')).toBe(
      await readFile(path.join(dir, 'workbench.json'), 'utf8'),
    );
    expect(catalog.warnings).toEqual([]);
  });
});
