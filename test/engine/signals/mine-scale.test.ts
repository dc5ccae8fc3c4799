/**
 * Mining 100k conversations in a worker whose heap is capped (engine/job-kinds.ts): the job streams, so it
 * finishes within the cap. No timing assertion; the duration is printed.
 */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MineResult } from '../../../src-main/api/index.js';
import { openEngine, type Engine } from '../../../src-main/engine/index.js';
import { conversation } from './helpers.js';

const COUNT = 100_000;
const TOPICS = ['river', 'planet', 'invoice', 'poem', 'recipe'];
const REACTIONS = ["That's wrong, try again.", 'Thanks, great!', 'Now tell me about something else please.'];

let root: string;
let engine: Engine;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'drift-mine-scale-'));
  const folder = join(root, 'datasets', 'big');
  await mkdir(folder, { recursive: true });
  const stream = createWriteStream(join(folder, 'conversations.jsonl'));
  for (let index = 0; index < COUNT; index++) {
    const topic = TOPICS[index % TOPICS.length]!;
    const item = conversation(`c-${index}`, [
      ['user', `Tell me about the ${topic} number ${index}.`],
      ['assistant', `The ${topic} number ${index} is interesting. Do you want more?`],
      ['user', REACTIONS[index % REACTIONS.length]!],
      ['assistant', 'Here you go.'],
    ]);
    if (!stream.write(`${JSON.stringify(item)}\n`)) await once(stream, 'drain');
  }
  stream.end();
  await once(stream, 'finish');
  engine = await openEngine({ workspaceDir: root, host: 'cli' });
}, 60_000);

afterAll(async () => {
  await engine?.close();
  await rm(root, { recursive: true, force: true });
});

describe('mining 100k conversations', () => {
  it('streams through them within the worker’s heap cap', async () => {
    const started = performance.now();
    const job = await engine.runJob('signals.mine', { datasetId: 'big' });
    console.info(`mined ${COUNT} conversations in ${Math.round(performance.now() - started)} ms`);
    expect(job.error).toBeUndefined();
    const { counts } = job.result as MineResult;
    const third = Math.ceil(COUNT / 3);
    expect(counts).toMatchObject({
      conversations: COUNT,
      judgedTurns: COUNT,
      dsat: third,
      pairs: third,
      satRecords: COUNT - third - Math.floor(COUNT / 3),
    });
    expect((await stat(join(root, 'datasets', 'big', 'pairs.jsonl'))).size).toBeGreaterThan(1_000_000);
  }, 120_000);
});
