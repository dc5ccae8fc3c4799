/**
 * The Conversations and DSAT pairs channels on a mined dataset, through the engine's handlers:
 * listing with facets and search, the conversation reader, decisions (single, bulk, edit, undo)
 * that survive reopening the workspace, freezing versioned pair sets, and export.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dispatch, type Conversation, type Handlers, type PairSetEntry } from '../../../src-main/api/index.js';
import { readPairSet } from '../../../src-main/engine/curation/pairsets.js';
import { openEngine, type Engine } from '../../../src-main/engine/index.js';
import { openWorkspace } from '../../../src-main/engine/workspace/index.js';
import { conversation, writeDataset } from '../signals/helpers.js';

let workspace: string;
let engine: Engine;

const DATASET = 'cur';

const CONVERSATIONS: Conversation[] = [
  conversation('geo', [
    ['system', 'You answer geography questions.'],
    ['user', 'What is the capital of Australia?'],
    ['assistant', 'Sydney.'],
    ['user', "That's wrong."],
    ['assistant', 'Canberra.'],
    ['user', 'Thanks, perfect!'],
  ]),
  conversation('essay', [
    ['user', 'Write an essay about bees.'],
    ['assistant', 'Bees are insects. '.repeat(60)],
    ['user', 'Too long, make it shorter.'],
    ['assistant', 'Bees pollinate flowers.'],
    ['user', 'Now write one about ants.'],
  ]),
  conversation(
    'math-ru',
    [
      ['user', 'Сколько будет 7 умножить на 8?'],
      ['assistant', '54'],
      ['user', 'Неправильно, перепиши ответ.'],
    ],
    { language: 'ru' },
  ),
  conversation(
    'zh',
    [
      ['user', '写一首关于春天的诗'],
      ['assistant', '春天来了。'],
      ['user', '太短了，详细一点'],
      ['assistant', '春风拂面，花开满园……'],
      ['user', '谢谢，太棒了'],
    ],
    { language: 'zh' },
  ),
  conversation('plain', [
    ['user', 'Tell me a joke.'],
    ['assistant', 'Why did the chicken cross the road?'],
  ]),
];

const call = async <T>(channel: Parameters<typeof dispatch>[1], request: unknown): Promise<T> => {
  const result = await dispatch(engine.handlers as unknown as Handlers, channel, request, { validateResponses: true });
  if (!result.ok) throw Object.assign(new Error(result.error.message), { code: result.error.code });
  return result.value as T;
};

interface ListResult {
  total: number;
  all: number;
  items: Array<Record<string, unknown> & { id: string; decision: { status: string; tags: string[] } }>;
  facets: Record<string, Record<string, number> | number[]>;
  stats: { byCategory: Record<string, number>; confidence: number[]; byStatus: Record<string, number> };
  undoable: boolean;
}

beforeAll(async () => {
  workspace = await mkdtemp(join(tmpdir(), 'drift-curation-'));
  await writeDataset(workspace, DATASET, CONVERSATIONS);
  engine = await openEngine({ workspaceDir: workspace, host: 'cli' });
  const job = await engine.runJob('signals.mine', { datasetId: DATASET });
  expect(job.status).toBe('succeeded');
}, 60_000);

afterAll(async () => {
  await engine?.close();
  await rm(workspace, { recursive: true, force: true });
});

describe('conversation:list and conversation:get', () => {
  it('pages through conversations with facets', async () => {
    const page = await call<{
      total: number;
      all: number;
      items: Array<{ id: string; hasDsat: boolean; pairs: number; preview: string }>;
      facets: Record<string, Record<string, number>>;
      mined: boolean;
    }>('conversation:list', { datasetId: DATASET, offset: 1, limit: 2 });
    expect(page).toMatchObject({ total: 5, all: 5, mined: true });
    expect(page.items.map((item) => item.id)).toEqual(['essay', 'math-ru']);
    expect(page.facets['languages']).toEqual({ en: 3, ru: 1, zh: 1 });
    expect(page.facets['hasDsat']).toEqual({ true: 4, false: 1 });
    expect(page.items[0]).toMatchObject({ hasDsat: true, pairs: 1, preview: 'Write an essay about bees.' });
  });

  it('filters by facets and full-text search (words, and Chinese characters)', async () => {
    const withoutDsat = await call<{ items: Array<{ id: string }>; facets: Record<string, Record<string, number>> }>(
      'conversation:list',
      {
        datasetId: DATASET,
        filter: { hasDsat: false },
      },
    );
    expect(withoutDsat.items.map((item) => item.id)).toEqual(['plain']);
    // A facet is counted with the other filters only: languages still count every language.
    expect(withoutDsat.facets['hasDsat']).toEqual({ true: 4, false: 1 });
    const capital = await call<{ items: Array<{ id: string }> }>('conversation:list', {
      datasetId: DATASET,
      filter: { query: 'Capital AUSTRALIA' },
    });
    expect(capital.items.map((item) => item.id)).toEqual(['geo']);
    const spring = await call<{ items: Array<{ id: string }> }>('conversation:list', {
      datasetId: DATASET,
      filter: { query: '春天' },
    });
    expect(spring.items.map((item) => item.id)).toEqual(['zh']);
    const russian = await call<{ total: number }>('conversation:list', {
      datasetId: DATASET,
      filter: { languages: ['ru'], categories: ['factual_error'] },
    });
    expect(russian.total).toBe(1);
    const none = await call<{ total: number }>('conversation:list', { datasetId: DATASET, filter: { query: 'zebra' } });
    expect(none.total).toBe(0);
  });

  it('returns a conversation with its signals (evidence inside the turns) and its pairs', async () => {
    const detail = await call<{
      conversation: Conversation;
      signals: Array<{
        turn: number;
        polarity: string;
        primary?: boolean;
        evidence: Array<{ turn: number; start: number; end: number }>;
      }>;
      pairs: Array<{ id: string; kind: string }>;
    }>('conversation:get', { datasetId: DATASET, id: 'geo' });
    expect(detail.conversation.messages).toHaveLength(6);
    expect(detail.signals.map((signal) => [signal.turn, signal.polarity, signal.primary])).toEqual([
      [3, 'dsat', true],
      [5, 'sat', true],
    ]);
    for (const signal of detail.signals) {
      for (const evidence of signal.evidence) {
        const text = detail.conversation.messages[evidence.turn]!.content;
        expect(evidence.end).toBeLessThanOrEqual(text.length);
      }
    }
    const evidence = detail.signals[0]!.evidence[0]!;
    expect(detail.conversation.messages[3]!.content.slice(evidence.start, evidence.end)).toBe("That's wrong");
    expect(detail.pairs).toHaveLength(1);
    expect(detail.pairs[0]!.kind).toBe('seed');
    await expect(call('conversation:get', { datasetId: DATASET, id: 'missing' })).rejects.toMatchObject({
      code: 'not_found',
    });
    await expect(call('conversation:list', { datasetId: 'no-such-dataset' })).rejects.toMatchObject({
      code: 'not_found',
    });
  });
});

describe('pair:list', () => {
  it('lists every pair with facets and chart data', async () => {
    const list = await call<ListResult>('pair:list', { datasetId: DATASET });
    expect(list.total).toBe(4);
    expect(list.items.map((item) => item['conversationId'])).toEqual(['geo', 'essay', 'math-ru', 'zh']);
    expect(list.facets['languages']).toEqual({ en: 2, ru: 1, zh: 1 });
    expect(list.facets['statuses']).toEqual({ pending: 4 });
    expect(list.facets['kinds']).toEqual({ seed: 2, dsat: 2 });
    expect((list.facets['confidence'] as number[]).reduce((sum, count) => sum + count, 0)).toBe(4);
    expect(list.stats.byCategory['style']).toBe(2);
    expect(list.undoable).toBe(false);
  });

  it('filters by category, kind, language, length, confidence and text, and sorts', async () => {
    const style = await call<ListResult>('pair:list', { datasetId: DATASET, filter: { categories: ['style'] } });
    expect(style.items.map((item) => item['conversationId'])).toEqual(['essay', 'zh']);
    // Facets count with the other filters: the category facet still shows every category.
    expect(Object.keys(style.facets['categories'] as Record<string, number>).length).toBeGreaterThan(1);
    const seeds = await call<ListResult>('pair:list', { datasetId: DATASET, filter: { kinds: ['seed'] } });
    expect(seeds.items.map((item) => item['conversationId'])).toEqual(['geo', 'zh']);
    const long = await call<ListResult>('pair:list', { datasetId: DATASET, filter: { lengthMin: 500 } });
    expect(long.items.map((item) => item['conversationId'])).toEqual(['essay']);
    const text = await call<ListResult>('pair:list', { datasetId: DATASET, filter: { query: 'sydney' } });
    expect(text.items.map((item) => item['conversationId'])).toEqual(['geo']);
    const sorted = await call<ListResult>('pair:list', {
      datasetId: DATASET,
      sort: { by: 'length', direction: 'desc' },
    });
    expect(sorted.items[0]!['conversationId']).toBe('essay');
    const page = await call<ListResult>('pair:list', { datasetId: DATASET, offset: 3, limit: 10 });
    expect(page.items).toHaveLength(1);
  });
});

describe('decisions', () => {
  let ids: string[];
  beforeAll(async () => {
    ids = (await call<ListResult>('pair:list', { datasetId: DATASET })).items.map((item) => item.id);
  });

  it('accepts, tags and notes pairs by id; edits make a DSAT pair a seed pair', async () => {
    const result = await call<{ batch: string; updated: number; decisions: Record<string, { status: string }> }>(
      'pair:decide',
      {
        datasetId: DATASET,
        pairIds: [ids[0], ids[1]],
        status: 'accepted',
        addTags: ['checked'],
        note: 'looks right',
      },
    );
    expect(result.updated).toBe(2);
    expect(result.decisions[ids[0]!]).toMatchObject({ status: 'accepted', tags: ['checked'], note: 'looks right' });
    await call('pair:decide', {
      datasetId: DATASET,
      pairIds: [ids[1]],
      edit: { chosen: 'Bees pollinate flowers and make honey.' },
    });
    const got = await call<{ decision: { edit?: { chosen?: string } } }>('pair:get', {
      datasetId: DATASET,
      id: ids[1],
    });
    expect(got.decision.edit?.chosen).toBe('Bees pollinate flowers and make honey.');
    const list = await call<ListResult>('pair:list', { datasetId: DATASET, filter: { statuses: ['accepted'] } });
    expect(list.items.map((item) => [item.id, item['kind']])).toEqual([
      [ids[0], 'seed'],
      [ids[1], 'seed'],
    ]);
    await expect(
      call('pair:decide', { datasetId: DATASET, pairIds: ['p-unknown'], status: 'accepted' }),
    ).rejects.toMatchObject({
      code: 'not_found',
    });
    await expect(call('pair:decide', { datasetId: DATASET, status: 'accepted' })).rejects.toMatchObject({
      code: 'invalid_request',
    });
  });

  it('rejects every pair of a filter in one bulk batch, and undo restores them', async () => {
    const bulk = await call<{ updated: number }>('pair:decide', {
      datasetId: DATASET,
      filter: { statuses: ['pending'] },
      status: 'rejected',
    });
    expect(bulk.updated).toBe(2);
    let list = await call<ListResult>('pair:list', { datasetId: DATASET });
    expect(list.facets['statuses']).toEqual({ accepted: 2, rejected: 2 });
    expect(list.undoable).toBe(true);
    const undone = await call<{ restored: number }>('pair:undo', { datasetId: DATASET });
    expect(undone.restored).toBe(2);
    list = await call<ListResult>('pair:list', { datasetId: DATASET });
    expect(list.facets['statuses']).toEqual({ accepted: 2, pending: 2 });
  });

  it('survives closing and reopening the workspace, and mining again', async () => {
    await engine.close();
    engine = await openEngine({ workspaceDir: workspace, host: 'cli' });
    let list = await call<ListResult>('pair:list', { datasetId: DATASET, filter: { tags: ['checked'] } });
    expect(list.items.map((item) => item.id)).toEqual([ids[0], ids[1]]);
    expect(list.items[1]!.decision).toMatchObject({ status: 'accepted', note: 'looks right' });
    const job = await engine.runJob('signals.mine', { datasetId: DATASET });
    expect(job.status).toBe('succeeded');
    list = await call<ListResult>('pair:list', { datasetId: DATASET, filter: { statuses: ['accepted'] } });
    expect(list.items.map((item) => item.id)).toEqual([ids[0], ids[1]]);
    // Undo history survives too: the undone bulk batch stays undone, the edit batch is next.
    expect(list.undoable).toBe(true);
  }, 60_000);
});

describe('pair sets', () => {
  let first: PairSetEntry;

  it('freezes the accepted pairs (edits applied) as v1, then v2 with the same contents', async () => {
    first = await call<PairSetEntry>('pairset:freeze', {
      datasetId: DATASET,
      name: 'gold',
      filter: { statuses: ['accepted'] },
    });
    expect(first).toMatchObject({
      id: 'gold@v1',
      name: 'gold',
      version: 1,
      datasetId: DATASET,
      pairs: 2,
      seedPairs: 2,
      path: 'pairsets/gold/v1',
    });
    const second = await call<PairSetEntry>('pairset:freeze', {
      datasetId: DATASET,
      name: 'gold',
      filter: { statuses: ['accepted'] },
    });
    expect(second.id).toBe('gold@v2');
    expect(second.checksum).toBe(first.checksum);
    const v1 = await readFile(join(workspace, 'pairsets', 'gold', 'v1', 'pairs.jsonl'), 'utf8');
    const v2 = await readFile(join(workspace, 'pairsets', 'gold', 'v2', 'pairs.jsonl'), 'utf8');
    expect(v2).toBe(v1);
    const rows = v1
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { status: string; chosen?: { content: string }; edited: boolean });
    expect(rows.map((row) => row.status)).toEqual(['accepted', 'accepted']);
    expect(rows[1]).toMatchObject({ edited: true, chosen: { content: 'Bees pollinate flowers and make honey.' } });
    const listed = await call<PairSetEntry[]>('pairset:list', {});
    expect(listed.map((entry) => entry.id)).toEqual(['gold@v1', 'gold@v2']);
    const got = await call<{
      manifest: { pairIds: string[]; filter: unknown; counts: { byStatus: Record<string, number> } };
    }>('pairset:get', { id: 'gold' });
    expect(got.manifest.filter).toEqual({ statuses: ['accepted'] });
    expect(got.manifest.counts.byStatus).toEqual({ accepted: 2 });
    expect(got.manifest.pairIds).toHaveLength(2);
  });

  it('does not change a frozen version when decisions change later', async () => {
    await call('pair:decide', { datasetId: DATASET, filter: { statuses: ['pending'] }, status: 'accepted' });
    const third = await call<PairSetEntry>('pairset:freeze', {
      datasetId: DATASET,
      name: 'gold',
      filter: { statuses: ['accepted'] },
    });
    expect(third).toMatchObject({ id: 'gold@v3', pairs: 4 });
    expect(third.checksum).not.toBe(first.checksum);
    const rows: unknown[] = [];
    for await (const pair of readPairSet(workspace, first)) rows.push(pair);
    expect(rows).toHaveLength(2);
  });

  it('refuses an empty selection, and a tampered file', async () => {
    await expect(
      call('pairset:freeze', { datasetId: DATASET, name: 'empty', filter: { query: 'zebra' } }),
    ).rejects.toMatchObject({
      code: 'pairset_empty',
    });
    const file = join(workspace, 'pairsets', 'gold', 'v1', 'pairs.jsonl');
    await writeFile(file, (await readFile(file, 'utf8')).replace('accepted', 'rejected'));
    const read = async () => {
      for await (const _pair of readPairSet(workspace, first)) void _pair;
    };
    await expect(read()).rejects.toMatchObject({ code: 'not_found' });
  });

  it('keeps pair sets in the catalog across reopening', async () => {
    await engine.close();
    const opened = await openWorkspace(workspace, { readOnly: true });
    expect(opened.catalog.data.pairSets.map((entry) => entry.id)).toEqual(['gold@v1', 'gold@v2', 'gold@v3']);
    await opened.close();
    engine = await openEngine({ workspaceDir: workspace, host: 'cli' });
  });
});

describe('pair:export', () => {
  it('exports a dataset’s filtered pairs as DRIFT files into a folder it names under the workspace', async () => {
    const result = await call<{ outDir: string; files: Array<{ path: string; rows: number }> }>('pair:export', {
      datasetId: DATASET,
      format: 'drift',
      filter: { categories: ['factual_error'] },
    });
    expect(result.outDir.startsWith(join(workspace, 'exports'))).toBe(true);
    const rows = Object.fromEntries(result.files.map((file) => [file.path.slice(result.outDir.length + 1), file.rows]));
    expect(rows['dsat_data.jsonl']).toBe(2);
    expect(rows['sat_data.jsonl']).toBe(2);
    const dsat = (await readFile(join(result.outDir, 'dsat_data.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(Object.keys(dsat[0]!)).toEqual(['prompt', 'rejected', 'user_preference']);
  });

  it('exports a pair set in TRL format to a chosen folder', async () => {
    const outDir = join(workspace, 'out-trl');
    const result = await call<{ files: Array<{ path: string; rows: number }> }>('pair:export', {
      pairSet: 'gold@v2',
      format: 'trl',
      outDir,
    });
    expect(result.files.map((file) => [file.path, file.rows])).toEqual([
      [join(outDir, 'preference.jsonl'), 2],
      [join(outDir, 'unpaired.jsonl'), 2],
    ]);
    await expect(call('pair:export', { pairSet: 'gold@v2', format: 'trl', outDir })).rejects.toMatchObject({
      code: 'export_target_not_empty',
    });
    await expect(call('pair:export', { pairSet: 'nothing@v1', format: 'trl' })).rejects.toMatchObject({
      code: 'not_found',
    });
  });
});

describe('signals:rubric and classifier:list', () => {
  it('lists the categories with definitions and every rule', async () => {
    const rubric = await call<{ categories: Array<{ id: string }>; rules: Array<{ id: string }> }>(
      'signals:rubric',
      {},
    );
    expect(rubric.categories).toHaveLength(18);
    expect(rubric.rules.length).toBeGreaterThan(200);
    expect(await call('classifier:list', {})).toEqual([]);
  });
});
