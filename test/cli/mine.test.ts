/** `drift-wb mine`, `drift-wb pairs ...` and `drift-wb classifier ...` as a user runs them. */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { conversation, writeDataset } from '../engine/signals/helpers.js';
import { onlyDocument, runCli } from './helpers.js';

let workspace: string;
const runInWorkspace = (args: string[], timeoutMs?: number) => runCli(['--workspace', workspace, ...args], timeoutMs);

beforeAll(async () => {
  workspace = await mkdtemp(join(tmpdir(), 'drift-cli-mine-'));
  await writeDataset(workspace, 'logs', [
    conversation('a', [
      ['user', 'What is the boiling point of water at sea level?'],
      ['assistant', '90 degrees Celsius.'],
      ['user', "That's wrong."],
      ['assistant', '100 degrees Celsius.'],
      ['user', 'Thanks, great!'],
    ]),
    conversation('b', [
      ['user', 'Write a tagline for a bakery.'],
      ['assistant', 'Bread. '.repeat(40)],
      ['user', 'Too long, make it shorter.', { sat: false, dsat: true, judges: 1, categories: ['Style'] }],
    ]),
  ]);
});

afterAll(async () => {
  await rm(workspace, { recursive: true, force: true });
});

describe('drift-wb mine', () => {
  it('--json prints one document with dsat, sat, byCategory, pairs, seedPairs and satRecords', async () => {
    const { code, stdout, stderr } = await runInWorkspace(['mine', '--dataset', 'logs', '--json']);
    expect(code, stderr).toBe(0);
    const summary = onlyDocument(stdout);
    expect(summary).toMatchObject({
      datasetId: 'logs',
      dsat: 2,
      sat: 1,
      pairs: 2,
      seedPairs: 1,
      satRecords: 1,
      conversations: 2,
      labelledTurns: 1,
      detectors: ['labels', 'rules'],
    });
    expect(summary['byCategory']).toMatchObject({ factual_error: 1, style: 1, gratitude: 1 });
    const [agreement] = summary['agreement'] as Array<{ detector: string; turns: number; dsat: { recall: number } }>;
    expect(agreement).toMatchObject({ detector: 'rules', turns: 1 });
    expect(agreement!.dsat.recall).toBe(1);
    // Progress went to stderr, not stdout.
    expect(stderr).toMatch(/signals\.mine/);
  }, 120_000);

  it('prints a readable summary without --json, and refuses unknown detectors and datasets', async () => {
    const human = await runInWorkspace(['mine', '--dataset', 'logs', '--detectors', 'rules']);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toMatch(/^Mined 2 conversations of dataset logs/);
    expect(human.stdout).toMatch(/pairs {7}2 \(1 seed pairs/);
    const unknown = await runInWorkspace(['mine', '--dataset', 'logs', '--detectors', 'oracle', '--json']);
    expect(unknown.code).toBe(2);
    expect(onlyDocument(unknown.stdout)).toMatchObject({ ok: false, error: { code: 'invalid_arguments' } });
    const missing = await runInWorkspace(['mine', '--dataset', 'nope', '--json']);
    expect(missing.code).toBe(1);
    expect(onlyDocument(missing.stdout)).toMatchObject({ ok: false, error: { code: 'not_found' } });
  }, 120_000);
});

describe('drift-wb pairs', () => {
  it('decides, freezes versioned pair sets and exports them', async () => {
    const decided = await runInWorkspace([
      'pairs',
      'decide',
      '--dataset',
      'logs',
      '--category',
      'factual_error',
      '--set',
      'accepted',
      '--json',
    ]);
    expect(decided.code, decided.stderr).toBe(0);
    expect(onlyDocument(decided.stdout)).toMatchObject({ updated: 1 });
    const frozen = await runInWorkspace([
      'pairs',
      'freeze',
      '--dataset',
      'logs',
      '--name',
      'good',
      '--status',
      'accepted',
      '--json',
    ]);
    expect(frozen.code, frozen.stderr).toBe(0);
    expect(onlyDocument(frozen.stdout)).toMatchObject({ id: 'good@v1', pairs: 1, seedPairs: 1 });
    const again = await runInWorkspace([
      'pairs',
      'freeze',
      '--dataset',
      'logs',
      '--name',
      'good',
      '--status',
      'accepted',
    ]);
    expect(again.stdout).toMatch(/^Froze 1 pairs \(1 seed\) as good@v2/);
    const sets = await runInWorkspace(['pairs', 'sets', '--json']);
    expect(onlyDocument<Array<{ id: string }>>(sets.stdout).map((entry) => entry.id)).toEqual(['good@v1', 'good@v2']);

    const out = join(workspace, 'export-drift');
    const exported = await runInWorkspace([
      'pairs',
      'export',
      '--pairset',
      'good@v1',
      '--format',
      'drift',
      '--out',
      out,
      '--json',
    ]);
    expect(exported.code, exported.stderr).toBe(0);
    const row = JSON.parse((await readFile(join(out, 'dsat_data.jsonl'), 'utf8')).trim()) as Record<string, unknown>;
    expect(Object.keys(row)).toEqual(['prompt', 'rejected', 'user_preference']);
    expect(row['user_preference']).toEqual({ role: 'user', content: "That's wrong." });
    const test = JSON.parse((await readFile(join(out, 'seed-data', 'test.jsonl'), 'utf8')).trim()) as {
      chosen: unknown;
    };
    expect(test.chosen).toEqual([{ role: 'assistant', content: '100 degrees Celsius.' }]);

    const trl = await runInWorkspace([
      'pairs',
      'export',
      '--dataset',
      'logs',
      '--format',
      'trl',
      '--out',
      join(workspace, 'export-trl'),
      '--json',
    ]);
    expect(trl.code, trl.stderr).toBe(0);
    const files = onlyDocument<{ files: Array<{ path: string; rows: number }> }>(trl.stdout).files;
    expect(files.map((file) => file.rows)).toEqual([1, 3]);
    const both = await runInWorkspace(['pairs', 'export', '--format', 'trl', '--json']);
    expect(both.code).toBe(2);
  }, 180_000);
});
