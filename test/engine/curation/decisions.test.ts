/** The decision log: persistence, undo, torn lines and compaction. */
import { appendFile, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PairDecision } from '../../../src-main/api/index.js';
import { DecisionStore, PENDING } from '../../../src-main/engine/curation/decisions.js';
import { applyDecision } from '../../../src-main/engine/curation/service.js';

let folder: string;
let file: string;

beforeEach(async () => {
  folder = await mkdtemp(join(tmpdir(), 'drift-decisions-'));
  file = join(folder, 'decisions.jsonl');
});
afterEach(async () => {
  await rm(folder, { recursive: true, force: true });
});

const accepted = (note = ''): PairDecision => ({ status: 'accepted', tags: [], note, at: '2025-01-01T00:00:00.000Z' });

describe('DecisionStore', () => {
  it('starts empty without creating a file, and answers pending', async () => {
    const store = await DecisionStore.open(file);
    expect(store.get('p-1')).toEqual(PENDING);
    expect(store.undoable).toBe(false);
    await expect(stat(file)).rejects.toThrow();
  });

  it('persists decisions across reopening, and skips changes that change nothing', async () => {
    const store = await DecisionStore.open(file);
    const first = await store.decide([
      { id: 'p-1', after: accepted('good') },
      { id: 'p-2', after: { ...accepted(), status: 'rejected', tags: ['off-topic'] } },
    ]);
    expect(first.changed).toEqual(['p-1', 'p-2']);
    expect(first.batch).toMatch(/^b-/);
    expect((await store.decide([{ id: 'p-1', after: accepted('good') }])).batch).toBeNull();

    const reopened = await DecisionStore.open(file);
    expect(reopened.get('p-1')).toEqual(accepted('good'));
    expect(reopened.get('p-2')).toMatchObject({ status: 'rejected', tags: ['off-topic'] });
    expect(reopened.get('p-3')).toEqual(PENDING);
    expect([...reopened.entries()].map(([id]) => id).sort()).toEqual(['p-1', 'p-2']);
  });

  it('undoes batches one by one, newest first, and the undo persists', async () => {
    const store = await DecisionStore.open(file);
    const a = await store.decide([{ id: 'p-1', after: accepted('a') }]);
    const b = await store.decide([
      { id: 'p-1', after: accepted('b') },
      { id: 'p-2', after: accepted('b') },
    ]);
    expect(await store.undo()).toEqual({ batch: b.batch, restored: ['p-1', 'p-2'] });
    expect(store.get('p-1').note).toBe('a');
    expect(store.get('p-2')).toEqual(PENDING);
    const reopened = await DecisionStore.open(file);
    expect(reopened.get('p-1').note).toBe('a');
    expect(await reopened.undo()).toEqual({ batch: a.batch, restored: ['p-1'] });
    expect(reopened.get('p-1')).toEqual(PENDING);
    expect(await reopened.undo()).toEqual({ batch: null, restored: [] });
    expect((await DecisionStore.open(file)).get('p-1')).toEqual(PENDING);
  });

  it('writes a bulk batch of many pairs as several lines of one batch, undone as one', async () => {
    const store = await DecisionStore.open(file);
    const ids = Array.from({ length: 2500 }, (_, index) => `p-${index}`);
    const { batch } = await store.decide(ids.map((id) => ({ id, after: accepted() })));
    const lines = (await readFile(file, 'utf8')).trim().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines.every((line) => (JSON.parse(line) as { batch: string }).batch === batch)).toBe(true);
    const reopened = await DecisionStore.open(file);
    expect((await reopened.undo()).restored).toHaveLength(2500);
    expect(reopened.get('p-2499')).toEqual(PENDING);
  });

  it('drops a torn last line (a crash mid-append) and keeps the rest', async () => {
    const store = await DecisionStore.open(file);
    await store.decide([{ id: 'p-1', after: accepted() }]);
    await appendFile(file, '{"v":1,"type":"decide","batch":"b-x","at":"x","changes":[{"id":"p-2"');
    const reopened = await DecisionStore.open(file);
    expect(reopened.get('p-1').status).toBe('accepted');
    expect(reopened.get('p-2')).toEqual(PENDING);
    expect(reopened.warnings.join()).toMatch(/torn|no trailing newline/);
    await reopened.decide([{ id: 'p-3', after: accepted() }]);
    expect((await DecisionStore.open(file)).get('p-3').status).toBe('accepted');
  });

  it('compacts to a snapshot that keeps the state and the recent undo history', async () => {
    const store = await DecisionStore.open(file);
    for (let round = 0; round < 60; round++)
      await store.decide([{ id: `p-${round}`, after: accepted(`round ${round}`) }]);
    await store.undo();
    const before = [...store.entries()];
    await store.compact();
    expect([...store.entries()]).toEqual(before);
    const reopened = await DecisionStore.open(file);
    expect([...reopened.entries()].sort()).toEqual([...before].sort());
    expect(reopened.get('p-59')).toEqual(PENDING);
    // The last 50 batches stay undoable: p-58 was the newest that was not undone.
    expect((await reopened.undo()).restored).toEqual(['p-58']);
    expect(reopened.get('p-58')).toEqual(PENDING);
    expect(reopened.get('p-0').note).toBe('round 0');
    const events = (await readFile(file, 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { type: string });
    expect(events[0]!.type).toBe('snapshot');
  });
});

describe('applyDecision', () => {
  const before: PairDecision = { status: 'accepted', tags: ['a', 'b'], note: 'n', at: null, edit: { chosen: 'X' } };
  it('keeps omitted fields, replaces or adjusts tags, merges and drops edits', () => {
    expect(applyDecision(before, { datasetId: 'd', status: 'rejected' }, 't')).toEqual({
      ...before,
      status: 'rejected',
      at: 't',
    });
    expect(applyDecision(before, { datasetId: 'd', tags: ['c'] }, 't').tags).toEqual(['c']);
    expect(applyDecision(before, { datasetId: 'd', addTags: ['b', 'c'], removeTags: ['a'] }, 't').tags).toEqual([
      'b',
      'c',
    ]);
    expect(applyDecision(before, { datasetId: 'd', edit: { feedback: 'F' } }, 't').edit).toEqual({
      chosen: 'X',
      feedback: 'F',
    });
    expect(applyDecision(before, { datasetId: 'd', edit: null }, 't').edit).toBeUndefined();
    expect(applyDecision(before, { datasetId: 'd', note: '' }, 't').note).toBe('');
  });
});
