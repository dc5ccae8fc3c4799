/**
 * 100k conversations and 100k pairs: the indexes build by streaming and answer pages, facets,
 * search and a bulk decision. No timing assertions (machines differ); the durations are printed.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Conversation, DsatPair } from '../../../src-main/api/index.js';
import { CurationService } from '../../../src-main/engine/curation/service.js';
import { EngineEvents } from '../../../src-main/engine/events.js';
import { openWorkspace, type Workspace } from '../../../src-main/engine/workspace/index.js';

const COUNT = 100_000;
const LANGUAGES = ['en', 'zh', 'ru', 'es', 'fr'];
const TOPICS = ['river', 'planet', 'invoice', 'poem', 'recipe', 'bicycle', 'contract', 'garden', 'server', 'violin'];
const CATEGORIES = ['revision', 'factual_error', 'style', 'insufficient_detail'] as const;

let root: string;
let workspace: Workspace;

async function writeLines(file: string, count: number, line: (index: number) => string): Promise<void> {
  const stream = createWriteStream(file);
  for (let index = 0; index < count; index++) {
    if (!stream.write(`${line(index)}\n`)) await once(stream, 'drain');
  }
  stream.end();
  await once(stream, 'finish');
}

function conversationOf(index: number): Conversation {
  const topic = TOPICS[index % TOPICS.length]!;
  return {
    id: `c-${index}`,
    source: { file: `part-${index % 4}.jsonl`, line: index + 1, byteOffset: index * 200 },
    format: 'openai-messages',
    language: LANGUAGES[index % LANGUAGES.length]!,
    messages: [
      { role: 'user', content: `Tell me about the ${topic} number ${index}.`, turn: 0 },
      { role: 'assistant', content: `The ${topic} number ${index} is interesting.`, turn: 1 },
      { role: 'user', content: index % 3 === 0 ? "That's wrong." : 'Thanks!', turn: 2 },
    ],
    metadata: {},
  };
}

function pairOf(index: number): DsatPair {
  const item = conversationOf(index);
  return {
    id: `p-${index}`,
    datasetId: 'big',
    conversationId: item.id,
    kind: index % 5 === 0 ? 'seed' : 'dsat',
    source: 'mined',
    context: item.messages.slice(0, 1),
    rejected: item.messages[1]!,
    feedback: item.messages[2]!,
    ...(index % 5 === 0 ? { chosen: { role: 'assistant' as const, content: 'Better answer.', turn: 3 } } : {}),
    categories: [CATEGORIES[index % CATEGORIES.length]!],
    confidence: (index % 10) / 10 + 0.05,
    detector: index % 2 === 0 ? 'rules' : 'labels',
    language: item.language!,
    lengths: { context: 30, rejected: item.messages[1]!.content.length, feedback: item.messages[2]!.content.length },
    evidence: [],
  };
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'drift-scale-'));
  const folder = join(root, 'datasets', 'big');
  await mkdir(folder, { recursive: true });
  await writeLines(join(folder, 'conversations.jsonl'), COUNT, (index) => JSON.stringify(conversationOf(index)));
  await writeLines(join(folder, 'pairs.jsonl'), COUNT, (index) => JSON.stringify(pairOf(index)));
  workspace = await openWorkspace(root);
}, 60_000);

afterAll(async () => {
  await workspace?.close();
  await rm(root, { recursive: true, force: true });
});

describe('100k conversations and pairs', () => {
  it('builds the indexes and pages, filters, searches and decides in bulk', async () => {
    const curation = new CurationService(workspace, new EngineEvents());
    const timings: Record<string, number> = {};
    const timed = async <T>(name: string, work: () => Promise<T>): Promise<T> => {
      const started = performance.now();
      const result = await work();
      timings[name] = Math.round(performance.now() - started);
      return result;
    };

    const conversations = await timed('conversation index + first page', () =>
      curation.listConversations('big', {}, 0, 100),
    );
    expect(conversations.total).toBe(COUNT);
    expect(conversations.items).toHaveLength(100);
    expect(conversations.facets.languages['zh']).toBe(COUNT / 5);
    const deep = await timed('conversation page at 99,900', () => curation.listConversations('big', {}, 99_900, 100));
    expect(deep.items.at(-1)!.id).toBe(`c-${COUNT - 1}`);
    const search = await timed('conversation search', () =>
      curation.listConversations('big', { query: 'violin 4249' }, 0, 50),
    );
    expect(search.items.map((item) => item.id)).toEqual(['c-4249']);
    const topic = await timed('conversation search, one word', () =>
      curation.listConversations('big', { query: 'violin' }, 0, 50),
    );
    expect(topic.total).toBe(COUNT / 10);

    const pairs = await timed('pair index + first page', () =>
      curation.listPairs('big', {}, { by: 'order', direction: 'asc' }, 0, 100),
    );
    expect(pairs.total).toBe(COUNT);
    expect(pairs.facets.kinds).toEqual({ seed: COUNT / 5, dsat: (COUNT * 4) / 5 });
    const filtered = await timed('pair filter + sort by confidence', () =>
      curation.listPairs(
        'big',
        { categories: ['style'], languages: ['ru'] },
        { by: 'confidence', direction: 'desc' },
        0,
        50,
      ),
    );
    expect(filtered.total).toBe(COUNT / 20);
    expect(filtered.items[0]!.confidence).toBeGreaterThanOrEqual(filtered.items.at(-1)!.confidence);
    const text = await timed('pair search', () =>
      curation.listPairs('big', { query: 'river wrong' }, { by: 'order', direction: 'asc' }, 0, 20),
    );
    expect(text.total).toBeGreaterThan(0);

    const bulk = await timed('bulk accept (filter)', () =>
      curation.decide({ datasetId: 'big', filter: { categories: ['revision'] }, status: 'accepted' }),
    );
    expect(bulk.updated).toBe(COUNT / 4);
    const after = await timed('pair list after the decision', () =>
      curation.listPairs('big', { statuses: ['accepted'] }, { by: 'order', direction: 'asc' }, 0, 10),
    );
    expect(after.total).toBe(COUNT / 4);
    const undone = await timed('undo', () => curation.undo('big'));
    expect(undone.restored).toBe(COUNT / 4);

    const frozen = await timed('freeze 25k pairs', () =>
      curation.freeze('big', 'scale', { categories: ['factual_error'] }),
    );
    expect(frozen.pairs).toBe(COUNT / 4);
    console.info('100k timings (ms):', timings);
  }, 120_000);
});
