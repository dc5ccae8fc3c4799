/** The `signals.mine` job end to end, in a worker, on datasets written here and imported from real data. */
import { existsSync } from 'node:fs';
import { appendFile, readFile, stat } from 'node:fs/promises';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DsatPair,
  MiningReport,
  Signal,
  type Conversation,
  type DatasetEntry,
  type MineResult,
} from '../../../src-main/api/index.js';
import { openEngine, type Engine, type ImportResult } from '../../../src-main/engine/index.js';
import { openWorkspace } from '../../../src-main/engine/workspace/index.js';
import { conversation, writeDataset } from './helpers.js';

const realdata = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..', 'shared', 'realdata');

let workspace: string;
let engine: Engine;

const CONVERSATIONS: Conversation[] = [
  conversation('dsat-then-sat', [
    ['system', 'You are a travel assistant.'],
    ['user', 'What is the capital of Australia?'],
    ['assistant', 'Sydney.'],
    ['user', "That's wrong."],
    ['assistant', 'Canberra.'],
    ['user', 'Thanks, perfect!'],
  ]),
  conversation('labelled', [
    ['user', 'Write a limerick about a cat.'],
    ['assistant', 'There once was a cat...'],
    ['user', 'Make it rhyme better.', { sat: false, dsat: true, judges: 1, categories: ['Revision'] }],
    ['assistant', 'A cat with a hat...'],
    ['user', 'Nice one!', { sat: true, dsat: false, judges: 3 }],
  ]),
  conversation('drift-row', [['user', 'Explain TCP in one line.']], {
    format: 'drift-dsat',
    pair: { rejected: { role: 'assistant', content: 'TCP is a protocol.', turn: 1 } },
    feedback: { role: 'user', content: 'Too vague, be more specific.', turn: 2 },
  }),
  conversation(
    'russian',
    [
      ['user', 'Сколько будет 2+2?'],
      ['assistant', '5'],
      ['user', 'Неправильно, ошибка.'],
    ],
    { language: 'ru' },
  ),
];

async function mine(datasetId: string, params: Record<string, unknown> = {}) {
  const job = await engine.runJob('signals.mine', { datasetId, ...params });
  return job;
}

async function readLines<T>(file: string, parse: (value: unknown) => T): Promise<T[]> {
  const text = await readFile(file, 'utf8');
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => parse(JSON.parse(line)));
}

beforeAll(async () => {
  workspace = await mkdtemp(join(tmpdir(), 'drift-mine-'));
  await writeDataset(workspace, 'hand', CONVERSATIONS);
  await appendFile(join(workspace, 'datasets', 'hand', 'conversations.jsonl'), '{not json\n');
  const opened = await openWorkspace(workspace);
  const entry: DatasetEntry = {
    id: 'hand',
    name: 'hand-made',
    format: 'openai-messages',
    createdAt: new Date().toISOString(),
    conversations: CONVERSATIONS.length,
    sourceFiles: ['test.jsonl'],
  };
  await opened.catalog.update((draft) => {
    draft.datasets.push(entry);
  });
  await opened.close();
  engine = await openEngine({ workspaceDir: workspace, host: 'cli' });
});

afterAll(async () => {
  await engine?.close();
  await rm(workspace, { recursive: true, force: true });
});

describe('signals.mine on a hand-made dataset', () => {
  let result: MineResult;
  beforeAll(async () => {
    const job = await mine('hand');
    expect(job.error).toBeUndefined();
    expect(job.status).toBe('succeeded');
    result = job.result as MineResult;
  }, 60_000);

  it('counts signals, pairs, seed pairs and SAT records', () => {
    expect(result.counts).toMatchObject({
      conversations: 4,
      unreadable: 1,
      // dsat-then-sat: turn 3 DSAT, turn 5 SAT; labelled: turn 2 DSAT, turn 4 SAT; drift: DSAT; russian: DSAT.
      dsat: 4,
      sat: 2,
      pairs: 4,
      seedPairs: 2,
      satRecords: 2,
      conversationsWithDsat: 4,
    });
    expect(result.byCategory['factual_error']).toBe(2);
    expect(result.byCategory['revision']).toBe(1);
    expect(result.labelledTurns).toBe(3);
  });

  it('writes pairs.jsonl, signals.jsonl, sat.jsonl and the mining report', async () => {
    const folder = join(workspace, 'datasets', 'hand');
    const pairs = await readLines(join(folder, 'pairs.jsonl'), (value) => DsatPair.parse(value));
    expect(pairs.map((pair) => [pair.conversationId, pair.kind, pair.source, pair.detector])).toEqual([
      ['dsat-then-sat', 'seed', 'mined', 'rules'],
      ['labelled', 'seed', 'mined', 'labels'],
      ['drift-row', 'dsat', 'drift', 'labels'],
      ['russian', 'dsat', 'mined', 'rules'],
    ]);
    expect(pairs[0]!.context[0]!.role).toBe('system');
    expect(pairs[1]!.categories).toEqual(['revision']);
    expect(pairs[3]!.language).toBe('ru');

    const signals = await readLines(join(folder, 'signals.jsonl'), (value) => Signal.parse(value));
    expect(signals.every((signal) => signal.polarity !== 'neither')).toBe(true);
    // A labelled turn the rules also judged carries both signals; the label is the primary one.
    const turn4 = signals.filter((signal) => signal.conversationId === 'labelled' && signal.turn === 4);
    expect(turn4.map((signal) => [signal.detector, signal.polarity, signal.primary ?? false])).toEqual([
      ['labels', 'sat', true],
      ['rules', 'sat', false],
    ]);
    // The rules saw nothing in "Make it rhyme better.", so only the label's signal is written for turn 2.
    expect(
      signals
        .filter((signal) => signal.conversationId === 'labelled' && signal.turn === 2)
        .map((signal) => signal.detector),
    ).toEqual(['labels']);

    const report = MiningReport.parse(JSON.parse(await readFile(join(folder, 'mining-report.json'), 'utf8')));
    expect(report.detectors).toEqual(['labels', 'rules']);
    expect(report.agreement).toHaveLength(1);
    const rules = report.agreement[0]!;
    expect(rules.detector).toBe('rules');
    expect(rules.turns).toBe(3);
    expect(rules.confusion.matrix.flat().reduce((sum, count) => sum + count, 0)).toBe(3);
    expect(report.pairsBySource).toEqual({ mined: 3, drift: 1 });
  });

  it('records the summary on the dataset’s catalog entry', async () => {
    const [entry] = await engine.handlers['dataset:list']({});
    expect(entry?.mining).toMatchObject({
      dsat: 4,
      sat: 2,
      pairs: 4,
      seedPairs: 2,
      satRecords: 2,
      detectors: ['labels', 'rules'],
    });
    const report = await engine.handlers['signals:report']({ datasetId: 'hand' });
    expect(report?.counts.pairs).toBe(4);
  });

  it('keeps pair ids when mining again, and replaces the files', async () => {
    const file = join(workspace, 'datasets', 'hand', 'pairs.jsonl');
    const before = (await readLines(file, (value) => DsatPair.parse(value))).map((pair) => pair.id);
    const job = await mine('hand', { detectors: ['rules'] });
    expect(job.status).toBe('succeeded');
    const after = await readLines(file, (value) => DsatPair.parse(value));
    // Without the labels detector the labelled "Make it rhyme better." is no DSAT; the DRIFT row's
    // feedback still is, to the rules ("Too vague, be more specific.").
    expect(after.map((pair) => [pair.conversationId, pair.detector])).toEqual([
      ['dsat-then-sat', 'rules'],
      ['drift-row', 'rules'],
      ['russian', 'rules'],
    ]);
    expect(before).toEqual(expect.arrayContaining(after.map((pair) => pair.id)));
    const report = await engine.handlers['signals:report']({ datasetId: 'hand' });
    // Labels still exist, so the rules are still compared with them.
    expect(report?.agreement.map((row) => row.detector)).toEqual(['rules']);
  }, 60_000);

  it('fails with stable codes on bad parameters and unknown datasets', async () => {
    const bad = await mine('hand', { detectors: ['oracle'] });
    expect(bad.status).toBe('failed');
    expect(bad.error?.code).toBe('job_invalid_params');
    const noClassifier = await mine('hand', { detectors: ['classifier'] });
    expect(noClassifier.error?.code).toBe('job_invalid_params');
    const missing = await mine('nope');
    expect(missing.error?.code).toBe('not_found');
    await expect(stat(join(workspace, 'datasets', 'nope'))).rejects.toThrow();
  }, 60_000);
});

const realdataPresent = existsSync(realdata);

describe.skipIf(!realdataPresent)(
  `signals.mine on imported real data${realdataPresent ? '' : ' (skipped: ../shared/realdata is absent)'}`,
  () => {
    async function importFile(file: string): Promise<string> {
      const job = await engine.runJob('dataset.import', { paths: [join(realdata, file)] });
      expect(job.error).toBeUndefined();
      return (job.result as ImportResult).datasetId;
    }

    it('turns KTO labels into DSAT pairs and SAT records (kto_en_demo.json, 150 false / 150 true)', async () => {
      const datasetId = await importFile('kto-binary-feedback/kto_en_demo.json');
      const job = await mine(datasetId);
      expect(job.status).toBe('succeeded');
      const counts = (job.result as MineResult).counts;
      const pairs = await readLines(join(workspace, 'datasets', datasetId, 'pairs.jsonl'), (value) =>
        DsatPair.parse(value),
      );
      const kto = pairs.filter((pair) => pair.source === 'kto');
      expect(kto).toHaveLength(150);
      expect(kto.every((pair) => pair.feedback.metadata?.['generated'] === true)).toBe(true);
      expect(counts.satRecords).toBeGreaterThanOrEqual(150);
    }, 120_000);

    it('turns Chinese preference rows into pairs with the preference adapter (dpo_zh_demo.json)', async () => {
      const datasetId = await importFile('sharegpt-preference/dpo_zh_demo.json');
      const job = await mine(datasetId);
      expect(job.status).toBe('succeeded');
      const pairs = await readLines(join(workspace, 'datasets', datasetId, 'pairs.jsonl'), (value) =>
        DsatPair.parse(value),
      );
      const preference = pairs.filter((pair) => pair.source === 'preference');
      expect(preference.length).toBeGreaterThanOrEqual(290);
      expect(preference.every((pair) => pair.kind === 'seed' && pair.chosen !== undefined)).toBe(true);
      expect(preference.some((pair) => pair.language === 'zh')).toBe(true);
    }, 120_000);
  },
);
