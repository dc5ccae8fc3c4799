/** The pair index's building blocks: the term index, curated pairs and stale-file protection. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DsatPair } from '../../../src-main/api/index.js';
import { DecisionStore } from '../../../src-main/engine/curation/decisions.js';
import { curatedPair, PairIndex, StaleIndexError } from '../../../src-main/engine/curation/pair-index.js';
import { TermIndex } from '../../../src-main/engine/curation/search.js';

const pair = (id: string, feedback: string, extra: Partial<DsatPair> = {}): DsatPair => ({
  id,
  datasetId: 'd',
  conversationId: `c-${id}`,
  kind: 'dsat',
  source: 'mined',
  context: [{ role: 'user', content: 'Explain quantum tunnelling.', turn: 0 }],
  rejected: { role: 'assistant', content: 'It is magic.', turn: 1 },
  feedback: { role: 'user', content: feedback, turn: 2 },
  categories: ['insufficient_detail'],
  confidence: 0.8,
  detector: 'rules',
  language: 'en',
  lengths: { context: 27, rejected: 12, feedback: feedback.length },
  evidence: [],
  ...extra,
});

describe('TermIndex', () => {
  it('finds documents holding every query term, folding case and accents, with Chinese bigrams', () => {
    const index = new TermIndex();
    index.addText(0, 'Café au lait, s’il vous plaît');
    index.addText(1, 'The cafe is closed');
    index.addText(2, '我想喝咖啡');
    index.addText(5, 'nothing here');
    expect(Array.from(index.search('CAFE')!)).toEqual([0, 1]);
    expect(Array.from(index.search('cafe closed')!)).toEqual([1]);
    expect(Array.from(index.search('咖啡')!)).toEqual([2]);
    expect(Array.from(index.search('啡')!)).toEqual([2]);
    expect(Array.from(index.search('tea')!)).toEqual([]);
    expect(index.search('  ...  ')).toBeNull();
    expect(() => index.add(3, ['late'])).toThrow();
  });
});

describe('curatedPair', () => {
  it('applies edits and the decision; an edited chosen answer makes a seed pair', () => {
    const curated = curatedPair(pair('p', 'More detail please.'), {
      status: 'accepted',
      tags: ['physics'],
      note: 'fine',
      at: 't',
      edit: { chosen: 'Particles cross barriers they classically could not.', feedback: 'Explain with an example.' },
    });
    expect(curated).toMatchObject({
      status: 'accepted',
      tags: ['physics'],
      note: 'fine',
      edited: true,
      kind: 'seed',
      feedback: { content: 'Explain with an example.', turn: 2 },
      chosen: { role: 'assistant', content: 'Particles cross barriers they classically could not.' },
      rejected: { content: 'It is magic.' },
    });
    expect(curated.lengths).toMatchObject({ feedback: 24, chosen: 52 });
    expect(curatedPair(pair('q', 'x'), { status: 'pending', tags: [], note: '', at: null }).edited).toBe(false);
  });
});

describe('PairIndex', () => {
  let folder: string;
  beforeAll(async () => {
    folder = await mkdtemp(join(tmpdir(), 'drift-pair-index-'));
  });
  afterAll(async () => {
    await rm(folder, { recursive: true, force: true });
  });

  it('indexes pairs.jsonl, skips duplicate ids and broken lines, and refuses to read a replaced file', async () => {
    const file = join(folder, 'pairs.jsonl');
    const lines = [
      pair('a', 'More detail please.'),
      pair('b', 'Too vague.', { language: 'de' }),
      pair('a', 'duplicate'),
    ].map((item) => JSON.stringify(item));
    await writeFile(file, `${lines[0]}\n{broken\n${lines[1]}\n${lines[2]}\n`);
    const decisions = await DecisionStore.open(join(folder, 'decisions.jsonl'));
    const index = await PairIndex.build(file, decisions);
    expect(index.ids).toEqual(['a', 'b']);
    expect((await index.readMany([1, 0])).map((item) => item.feedback.content)).toEqual([
      'Too vague.',
      'More detail please.',
    ]);
    const listed = await index.list({ query: 'vague' }, { by: 'order', direction: 'asc' }, 0, 10);
    expect(listed.items.map((item) => item.id)).toEqual(['b']);
    expect(listed.facets.languages).toEqual({ de: 1 });

    await writeFile(file, `${lines[1]}\n`);
    await expect(index.readMany([0])).rejects.toBeInstanceOf(StaleIndexError);
  });
});
