/**
 * The `dataset.import` job end to end, through the engine (worker thread, host completion,
 * catalog): a folder of mixed formats and containers, bad rows reported with their location,
 * duplicates, the language facet, personal data counted and redacted, the report stored with
 * the dataset; and failed or cancelled imports leave earlier datasets untouched.
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  dispatch,
  type Conversation,
  type Handlers,
  type ImportReport,
  type Job,
} from '../../../src-main/api/index.js';
import { openEngine, type Engine, type ImportResult } from '../../../src-main/engine/index.js';
import { jsonl, makeTempDir, removeTempDirs, writeFixture } from './helpers.js';

let engine: Engine;
let workspace: string;
let data: string;

beforeAll(async () => {
  workspace = await makeTempDir('drift-import-ws-');
  data = await makeTempDir('drift-import-data-');
  engine = await openEngine({ workspaceDir: workspace, host: 'cli' });
});

afterAll(async () => {
  await engine?.close();
  await removeTempDirs();
});

async function call<T>(channel: string, request: unknown): Promise<T> {
  const result = await dispatch(engine.handlers as unknown as Handlers, channel, request, { validateResponses: true });
  if (!result.ok) throw new Error(`${channel}: ${result.error.code} ${result.error.message}`);
  return result.value as T;
}

async function conversationsOf(datasetId: string): Promise<Conversation[]> {
  const text = await readFile(path.join(workspace, 'datasets', datasetId, 'conversations.jsonl'), 'utf8');
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Conversation);
}

/** sha256 of every file under the datasets folder, to prove an import left them alone. */
async function snapshot(): Promise<Record<string, string>> {
  const root = path.join(workspace, 'datasets');
  const out: Record<string, string> = {};
  for (const entry of await readdir(root, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath, entry.name);
    out[path.relative(root, file)] = createHash('sha256')
      .update(await readFile(file))
      .digest('hex');
  }
  return out;
}

const say = (role: string, content: string) => ({ role, content });

async function writeMixedFolder(): Promise<string> {
  const folder = path.join(data, 'mixed');
  await mkdir(path.join(folder, 'nested'), { recursive: true });
  const chat = jsonl([
    {
      messages: [
        say('user', 'How do I reset my password? Mail me at ana@example.com'),
        say('assistant', 'Use the link.'),
      ],
    },
    {
      messages: [
        say('user', 'Пожалуйста, объясни, как работает рекурсия в программировании.'),
        say('assistant', 'Функция вызывает себя.'),
      ],
    },
    {
      messages: [
        say('user', 'How do I reset my password? Mail me at ana@example.com'),
        say('assistant', 'Use the link.'),
      ],
    },
  ]);
  const bad = Buffer.concat([
    Buffer.from('{"messages": [oops]}\n'),
    Buffer.from('{"messages":[{"role":"user","content":"caf'),
    Buffer.from([0xe9]),
    Buffer.from('"}]}\n'),
    Buffer.from('{"messages":[{"role":"tool","content":"x"}]}\n'),
    Buffer.from('{"messages":[]}\n'),
  ]);
  await writeFile(path.join(folder, 'a-chat.jsonl'), Buffer.concat([Buffer.from(chat), bad]));
  await writeFile(
    path.join(folder, 'b-pairs.json'),
    JSON.stringify([
      {
        conversations: [{ from: 'human', value: 'Write a limerick about a cat.' }],
        chosen: { from: 'gpt', value: 'There once was a cat from Peru...' },
        rejected: { from: 'gpt', value: 'Cats are animals.' },
      },
    ]),
  );
  await writeFile(path.join(folder, 'c-pairs.csv'), 'prompt,chosen,rejected\n"What is 2+2?",4,5\n');
  await writeFile(path.join(folder, 'nested', 'd-prompts.tsv'), 'instruction\toutput\nSay hello in French.\tBonjour\n');
  await writeFile(
    path.join(folder, 'nested', 'e-pairs.parquet'),
    Buffer.from(
      parquetWriteBuffer({
        columnData: [
          { name: 'prompt', data: ['Name a prime number.'], type: 'STRING' },
          { name: 'chosen', data: ['Seven.'], type: 'STRING' },
          { name: 'rejected', data: ['Nine.'], type: 'STRING' },
          { name: 'score_chosen', data: [9], type: 'DOUBLE' },
          { name: 'score_rejected', data: [2], type: 'DOUBLE' },
        ],
      }),
    ),
  );
  await writeFile(
    path.join(folder, 'f-kto.jsonl.gz'),
    gzipSync(jsonl([{ messages: [say('user', 'Is the sky green?'), say('assistant', 'Yes.')], label: false }])),
  );
  await writeFile(path.join(folder, '.hidden.jsonl'), jsonl([{ messages: [say('user', 'secret')] }]));
  await writeFile(path.join(folder, 'notes.txt'), 'not data');
  return folder;
}

describe('dataset.import', () => {
  let first: ImportResult;

  it('imports a folder of mixed formats and containers, reporting every rejected row by location', async () => {
    const folder = await writeMixedFolder();
    const updates: Job[] = [];
    const job = await engine.runJob(
      'dataset.import',
      { paths: [folder], name: 'Mixed logs' },
      { onUpdate: (update) => updates.push(update) },
    );
    expect(job.error).toBeUndefined();
    expect(job.status).toBe('succeeded');
    first = job.result as ImportResult;
    expect(first).toMatchObject({ name: 'Mixed logs', conversations: 8, rejected: 4, duplicates: 1, redacted: false });
    expect(first.datasetId).toMatch(/^mixed-logs-\d{14}-[0-9a-f]{6}$/);
    expect(updates.some((update) => update.progress.phase === 'importing' && update.progress.total > 0)).toBe(true);

    const { entry, report } = await call<{ entry: Record<string, unknown>; report: ImportReport }>('dataset:get', {
      id: first.datasetId,
    });
    expect(entry).toMatchObject({ id: first.datasetId, conversations: 8, rejected: 4, duplicates: 1 });
    expect(report.files.map((file) => [file.relative, file.format, file.conversations])).toEqual([
      ['mixed/a-chat.jsonl', 'openai', 3],
      ['mixed/b-pairs.json', 'sharegpt', 1],
      ['mixed/c-pairs.csv', 'preference', 1],
      ['mixed/f-kto.jsonl.gz', 'kto', 1],
      ['mixed/nested/d-prompts.tsv', 'instruction', 1],
      ['mixed/nested/e-pairs.parquet', 'ultrafeedback-binarized', 1],
    ]);
    expect(report.errors.map((error) => [error.file, error.line, error.code])).toEqual([
      ['mixed/a-chat.jsonl', 4, 'json_invalid'],
      ['mixed/a-chat.jsonl', 5, 'utf8_invalid'],
      ['mixed/a-chat.jsonl', 6, 'role_unknown'],
      ['mixed/a-chat.jsonl', 7, 'conversation_empty'],
    ]);
    expect(report.errorCounts).toEqual({ json_invalid: 1, utf8_invalid: 1, role_unknown: 1, conversation_empty: 1 });
    expect(report.counts).toMatchObject({ files: 6, rows: 12, conversations: 8, rejected: 4, duplicates: 1 });
    expect(report.pii).toEqual({ conversations: 2, counts: { email: 2 } });
    expect(report.languages['en']).toBeGreaterThanOrEqual(5);
    expect(report.languages['ru']).toBe(1);

    const conversations = await conversationsOf(first.datasetId);
    expect(conversations).toHaveLength(8);
    const [original, , duplicate] = conversations;
    expect(duplicate!.duplicateOf).toBe(original!.id);
    expect(original!.source).toEqual({ file: 'mixed/a-chat.jsonl', line: 1, byteOffset: 0 });
    expect(original!.pii?.spans).toEqual([{ target: 0, start: 39, end: 54, kind: 'email' }]);
    expect(original!.messages[0]!.content).toContain('ana@example.com');
    const parquetRow = conversations.find((conversation) => conversation.source.file.endsWith('.parquet'));
    expect(parquetRow?.pair).toMatchObject({ chosen: { content: 'Seven.' }, chosenScore: 9, rejectedScore: 2 });
    const kto = conversations.find((conversation) => conversation.format === 'kto');
    expect(kto?.label).toBe(false);
  });

  it('redacts personal data on request', async () => {
    const file = await writeFixture(
      data,
      'pii.jsonl',
      jsonl([
        {
          messages: [
            say('user', 'I am bob@example.org, card 4111 1111 1111 1111, call +1 415 555 2671'),
            say('assistant', 'Noted.'),
          ],
        },
      ]),
    );
    const job = await engine.runJob('dataset.import', { paths: [file], redact: true });
    expect(job.status).toBe('succeeded');
    const [conversation] = await conversationsOf((job.result as ImportResult).datasetId);
    expect(conversation!.messages[0]!.content).toBe('I am <EMAIL>, card <CARD>, call <PHONE>');
    expect(conversation!.pii).toMatchObject({ redacted: true, counts: { email: 1, card: 1, phone: 1 } });
    expect((job.result as ImportResult).piiCounts).toEqual({ email: 1, card: 1, phone: 1 });
  });

  it('fails an import with nothing valid, leaving earlier datasets and no staging folder', async () => {
    const before = await snapshot();
    const file = await writeFixture(data, 'all-bad.jsonl', '{"messages": [}\nnot json\n');
    const job = await engine.runJob('dataset.import', { paths: [file] });
    expect(job.status).toBe('failed');
    expect(job.error).toMatchObject({ code: 'dataset_empty', message: expect.stringContaining('2 json_invalid') });
    expect(await snapshot()).toEqual(before);
  });

  it('fails on an unrecognised shape with its fields, and imports it with a mapping', async () => {
    const file = await writeFixture(
      data,
      'odd.jsonl',
      jsonl([
        { q: 'Capital of France?', answers: [{ text: 'Paris' }] },
        { q: 'Capital of Italy?', answers: [{ text: 'Rome' }] },
      ]),
    );
    const failed = await engine.runJob('dataset.import', { paths: [file] });
    expect(failed.status).toBe('failed');
    expect(failed.error).toMatchObject({ code: 'format_unrecognised', message: expect.stringContaining('q, answers') });
    const mapped = await engine.runJob('dataset.import', {
      paths: [file],
      map: { prompt: 'q', chosen: 'answers.0.text' },
    });
    expect(mapped.status).toBe('succeeded');
    const report = (
      await call<{ report: ImportReport }>('dataset:get', { id: (mapped.result as ImportResult).datasetId })
    ).report;
    expect(report).toMatchObject({ format: 'preference', mapping: { prompt: 'q', chosen: 'answers.0.text' } });
  });

  it('cancels mid-file without leaving a dataset or touching earlier ones', async () => {
    const before = await snapshot();
    const catalogBefore = await call<unknown[]>('dataset:list', {});
    const rows = Array.from({ length: 60_000 }, (_, index) => ({
      messages: [
        say('user', `Question number ${index} about something long enough to take time.`),
        say('assistant', 'x'.repeat(400)),
      ],
    }));
    const file = await writeFixture(data, 'large.jsonl', jsonl(rows));
    const controller = new AbortController();
    const job = await engine.runJob(
      'dataset.import',
      { paths: [file] },
      {
        signal: controller.signal,
        onUpdate: (update) => {
          if (update.progress.phase === 'importing' && update.progress.done > 0) controller.abort();
        },
      },
    );
    expect(job.status).toBe('cancelled');
    expect(await snapshot()).toEqual(before);
    expect((await readdir(path.join(workspace, 'datasets'))).filter((name) => name.includes('.staging-'))).toEqual([]);
    expect(await call<unknown[]>('dataset:list', {})).toEqual(catalogBefore);
  });

  it('previews a file with dataset:detect and deletes a dataset with dataset:delete', async () => {
    const file = await writeFixture(
      data,
      'preview.json',
      JSON.stringify(
        Array.from({ length: 30 }, (_, index) => ({ instruction: `Task ${index}`, output: `Done ${index}` })),
      ),
    );
    const detected = await call<{
      format: string;
      confidence: number;
      preview: Conversation[];
      fields: { path: string }[];
      sampled: number;
    }>('dataset:detect', { paths: [file] });
    expect(detected).toMatchObject({ format: 'instruction', confidence: 1, sampled: 30 });
    expect(detected.preview).toHaveLength(20);
    expect(detected.fields.map((field) => field.path)).toEqual(['instruction', 'output']);
    const formats = await call<{ name: string }[]>('dataset:formats', {});
    expect(formats.map((format) => format.name)).toContain('drift-dsat');

    expect(await call('dataset:delete', { id: first.datasetId })).toEqual({ deleted: true });
    expect((await readdir(path.join(workspace, 'datasets'))).includes(first.datasetId)).toBe(false);
    const missing = await dispatch(engine.handlers as unknown as Handlers, 'dataset:get', { id: first.datasetId });
    expect(missing).toMatchObject({ ok: false, error: { code: 'not_found' } });
  });
});
