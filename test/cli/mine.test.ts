/** `drift-wb mine`, `drift-wb pairs ...` and `drift-wb classifier ...` as a user runs them. */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { conversation, writeDataset } from '../engine/signals/helpers.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const bin = join(root, 'bin', 'drift-wb.js');
let workspace: string;

interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runCli(args: string[], timeoutMs = 90_000): Promise<Finished> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, '--workspace', workspace, ...args], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`drift-wb ${args.join(' ')} did not finish in ${timeoutMs} ms\n${stderr}`));
    }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

function onlyDocument<T = Record<string, unknown>>(stdout: string): T {
  const lines = stdout.split('\n').filter((line) => line.trim() !== '');
  expect(lines).toHaveLength(1);
  return JSON.parse(lines[0]!) as T;
}

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
    const { code, stdout, stderr } = await runCli(['mine', '--dataset', 'logs', '--json']);
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
    const human = await runCli(['mine', '--dataset', 'logs', '--detectors', 'rules']);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toMatch(/^Mined 2 conversations of dataset logs/);
    expect(human.stdout).toMatch(/pairs {7}2 \(1 seed pairs/);
    const unknown = await runCli(['mine', '--dataset', 'logs', '--detectors', 'oracle', '--json']);
    expect(unknown.code).toBe(2);
    expect(onlyDocument(unknown.stdout)).toMatchObject({ ok: false, error: { code: 'invalid_arguments' } });
    const missing = await runCli(['mine', '--dataset', 'nope', '--json']);
    expect(missing.code).toBe(1);
    expect(onlyDocument(missing.stdout)).toMatchObject({ ok: false, error: { code: 'not_found' } });
  }, 120_000);
});

describe('drift-wb pairs', () => {
  it('decides, freezes versioned pair sets and exports them', async () => {
    const decided = await runCli([
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
    const frozen = await runCli([
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
    const again = await runCli(['pairs', 'freeze', '--dataset', 'logs', '--name', 'good', '--status', 'accepted']);
    expect(again.stdout).toMatch(/^Froze 1 pairs \(1 seed\) as good@v2/);
    const sets = await runCli(['pairs', 'sets', '--json']);
    expect(onlyDocument<Array<{ id: string }>>(sets.stdout).map((entry) => entry.id)).toEqual(['good@v1', 'good@v2']);

    const out = join(workspace, 'export-drift');
    const exported = await runCli([
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

    const trl = await runCli([
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
    const both = await runCli(['pairs', 'export', '--format', 'trl', '--json']);
    expect(both.code).toBe(2);
  }, 180_000);
});
