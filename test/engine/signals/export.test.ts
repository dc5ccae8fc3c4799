/** Training files: DRIFT's dsat_data.jsonl / seed-data / sat_data.jsonl rows and TRL's formats. */
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DsatPair, SatRecord } from '../../../src-main/api/index.js';
import {
  driftDsatRow,
  driftSatRow,
  exportPairs,
  preferenceRow,
  unpairedRow,
} from '../../../src-main/engine/signals/export.js';

const dsat: DsatPair = {
  id: 'p-1',
  datasetId: 'ds',
  conversationId: 'c-1',
  kind: 'dsat',
  source: 'mined',
  context: [
    { role: 'system', content: 'Be concise.', turn: 0 },
    { role: 'user', content: 'Capital of Australia?', turn: 1 },
  ],
  rejected: { role: 'assistant', content: 'Sydney.', turn: 2 },
  feedback: { role: 'user', content: 'Wrong, try again.', turn: 3, labels: { dsat: true } },
  categories: ['factual_error'],
  confidence: 0.85,
  detector: 'rules',
  language: 'en',
  lengths: { context: 32, rejected: 7, feedback: 17 },
  evidence: [],
};
const seed: DsatPair = {
  ...dsat,
  id: 'p-2',
  kind: 'seed',
  chosen: { role: 'assistant', content: 'Canberra.', turn: 4 },
  satTurn: 5,
};
const sat: SatRecord = {
  id: 's-1',
  datasetId: 'ds',
  conversationId: 'c-1',
  context: [...dsat.context, dsat.rejected, dsat.feedback],
  response: { role: 'assistant', content: 'Canberra.', turn: 4 },
  feedback: { role: 'user', content: 'Thanks!', turn: 5 },
  categories: ['gratitude'],
  confidence: 0.9,
  detector: 'rules',
  language: 'en',
};

async function* each<T>(items: readonly T[]): AsyncGenerator<T> {
  for (const item of items) yield item;
}

async function readRows(file: string): Promise<unknown[]> {
  const text = await readFile(file, 'utf8');
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as unknown);
}

describe('rows', () => {
  it('writes a dsat_data.jsonl row with exactly prompt, rejected and user_preference (drift-paper.md §4.2)', () => {
    const row = driftDsatRow(dsat);
    expect(Object.keys(row)).toEqual(['prompt', 'rejected', 'user_preference']);
    expect(row).toEqual({
      prompt: [
        { role: 'system', content: 'Be concise.' },
        { role: 'user', content: 'Capital of Australia?' },
      ],
      rejected: [{ role: 'assistant', content: 'Sydney.' }],
      user_preference: { role: 'user', content: 'Wrong, try again.' },
    });
  });

  it('writes seed and TRL preference rows only for pairs with a chosen answer', () => {
    expect(preferenceRow(dsat)).toBeUndefined();
    expect(preferenceRow(seed)).toEqual({
      prompt: [
        { role: 'system', content: 'Be concise.' },
        { role: 'user', content: 'Capital of Australia?' },
      ],
      chosen: [{ role: 'assistant', content: 'Canberra.' }],
      rejected: [{ role: 'assistant', content: 'Sydney.' }],
    });
  });

  it('writes SAT rows and TRL unpaired rows', () => {
    expect(driftSatRow(sat)).toEqual({
      prompt: sat.context.map(({ role, content }) => ({ role, content })),
      chosen: [{ role: 'assistant', content: 'Canberra.' }],
    });
    expect(unpairedRow(dsat.context, dsat.rejected, false)).toEqual({
      prompt: [
        { role: 'system', content: 'Be concise.' },
        { role: 'user', content: 'Capital of Australia?' },
      ],
      completion: [{ role: 'assistant', content: 'Sydney.' }],
      label: false,
    });
  });
});

describe('exportPairs', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'drift-export-'));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('writes DRIFT files: every pair to dsat_data.jsonl, seed pairs split into seed-data/, SAT records', async () => {
    const outDir = join(root, 'drift');
    const seed2 = { ...seed, id: 'p-3' };
    const result = await exportPairs(each([dsat, seed, seed2]), each([sat]), {
      format: 'drift',
      outDir,
      seedTestSize: 1,
      overwrite: false,
    });
    expect(result.files.map((file) => [file.path.slice(outDir.length + 1), file.rows])).toEqual([
      ['dsat_data.jsonl', 3],
      ['seed-data/train.jsonl', 1],
      ['seed-data/test.jsonl', 1],
      ['sat_data.jsonl', 1],
    ]);
    expect(await readRows(join(outDir, 'dsat_data.jsonl'))).toEqual([
      driftDsatRow(dsat),
      driftDsatRow(seed),
      driftDsatRow(seed2),
    ]);
    expect(await readRows(join(outDir, 'seed-data', 'test.jsonl'))).toEqual([preferenceRow(seed)]);
    expect(await readRows(join(outDir, 'sat_data.jsonl'))).toEqual([driftSatRow(sat)]);
    expect((await readdir(outDir)).filter((name) => name.endsWith('.tmp'))).toEqual([]);
  });

  it('writes TRL files: preference pairs and unpaired (KTO) rows', async () => {
    const outDir = join(root, 'trl');
    await exportPairs(each([dsat, seed]), each([sat]), { format: 'trl', outDir, seedTestSize: 0, overwrite: false });
    expect(await readRows(join(outDir, 'preference.jsonl'))).toEqual([preferenceRow(seed)]);
    const unpaired = (await readRows(join(outDir, 'unpaired.jsonl'))) as Array<{ label: boolean }>;
    expect(unpaired.map((row) => row.label)).toEqual([false, false, true]);
  });

  it('refuses a folder that already holds files unless told to overwrite, and relative paths', async () => {
    const outDir = join(root, 'busy');
    await mkdir(outDir);
    await writeFile(join(outDir, 'keep.txt'), 'x');
    await expect(
      exportPairs(each([dsat]), null, { format: 'drift', outDir, seedTestSize: 0, overwrite: false }),
    ).rejects.toMatchObject({
      code: 'export_target_not_empty',
    });
    await expect(
      exportPairs(each([dsat]), null, { format: 'drift', outDir, seedTestSize: 0, overwrite: true }),
    ).resolves.toMatchObject({
      format: 'drift',
    });
    expect(await readFile(join(outDir, 'keep.txt'), 'utf8')).toBe('x');
    await expect(
      exportPairs(each([dsat]), null, { format: 'drift', outDir: 'relative/dir', seedTestSize: 0, overwrite: false }),
    ).rejects.toMatchObject({
      code: 'path_outside_workspace',
    });
  });
});
