/** The classifier: learns SAT/DSAT from labels with real gradients, and saves and loads exactly. */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClassifierInfo, Conversation } from '../../../src-main/api/index.js';
import { tf } from '../../../src-main/engine/compute/tf.js';
import type { JobContext } from '../../../src-main/engine/jobs/types.js';
import { ClassifierDetector } from '../../../src-main/engine/signals/classifier/detector.js';
import { featurize } from '../../../src-main/engine/signals/classifier/features.js';
import {
  DSAT_OUTPUT,
  OUTPUT_COUNT,
  predict,
  seededRandom,
  trainClassifier,
  type Example,
} from '../../../src-main/engine/signals/classifier/model.js';
import { listClassifiers, loadClassifier, saveClassifier } from '../../../src-main/engine/signals/classifier/store.js';
import { trainClassifierJob } from '../../../src-main/engine/signals/classifier/train.js';
import { conversation, writeDataset } from './helpers.js';

let workspace: string;
const tensorsBefore = { count: 0 };

beforeAll(async () => {
  await tf.setBackend('cpu');
  tensorsBefore.count = tf.memory().numTensors;
  workspace = await mkdtemp(join(tmpdir(), 'drift-classifier-'));
});
afterAll(async () => {
  await rm(workspace, { recursive: true, force: true });
});

/**
 * A toy labelled set whose cue words are in no lexicon: users answer "zorp" (and friends) when
 * dissatisfied and "blim" when satisfied, among random filler, so only learning can tell them apart.
 */
function toyConversations(count: number, seed: number): Conversation[] {
  const random = seededRandom(seed);
  const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)]!;
  const filler = [
    'the',
    'answer',
    'about',
    'my',
    'report',
    'table',
    'river',
    'seven',
    'blue',
    'window',
    'garden',
    'code',
  ];
  const dsatCues = ['zorp', 'gnarf', 'vexo'];
  const satCues = ['blim', 'quonk', 'dulo'];
  return Array.from({ length: count }, (_, index) => {
    const kind = random() < 0.5 ? 'dsat' : 'sat';
    const words = Array.from({ length: 4 }, () => pick(filler));
    words.splice(Math.floor(random() * 5), 0, pick(kind === 'dsat' ? dsatCues : satCues));
    return conversation(`toy-${index}`, [
      ['user', `Tell me about ${pick(filler)} ${pick(filler)}.`],
      ['assistant', `Here is something about ${pick(filler)}.`],
      ['user', words.join(' '), { sat: kind === 'sat', dsat: kind === 'dsat', judges: 1 }],
    ]);
  });
}

function context(): JobContext {
  const controller = new AbortController();
  return {
    jobId: 'job-test',
    workspaceDir: workspace,
    backend: { name: 'cpu', tfjsVersion: tf.version.tfjs, gpu: false, threads: 1, attempts: [], shims: [] },
    signal: controller.signal,
    progress: () => undefined,
    throwIfCancelled: () => undefined,
    output: () => undefined,
  };
}

describe('trainClassifierJob', () => {
  let info: ClassifierInfo;

  beforeAll(async () => {
    await writeDataset(workspace, 'toy', toyConversations(400, 7));
    info = (await trainClassifierJob(
      { id: 'toy-clf', datasetIds: ['toy'], epochs: 15, bucketsLog2: 12, holdout: 0.25, seed: 3 },
      context(),
    )) as ClassifierInfo;
  }, 120_000);

  it('learns from the labels: held-out accuracy well above always answering the majority class', () => {
    expect(info.examples).toBe(400);
    expect(info.heldOut.examples).toBeGreaterThan(50);
    expect(info.trainExamples + info.heldOut.examples).toBe(400);
    expect(info.heldOut.dsatAccuracy).toBeGreaterThan(0.9);
    expect(info.heldOut.satAccuracy).toBeGreaterThan(0.9);
    expect(info.heldOut.dsatMajority).toBeLessThan(0.7);
    expect(info.categoriesTrained).toBe(false);
    expect(info.judgesFinalAnswers).toBe(false);
    expect(tf.memory().numTensors).toBe(tensorsBefore.count);
  });

  it('is saved in the workspace and listed', async () => {
    const listed = await listClassifiers(workspace);
    expect(listed.map((item) => item.id)).toContain('toy-clf');
    const config = JSON.parse(
      await readFile(join(workspace, 'classifiers', 'toy-clf', 'config.json'), 'utf8'),
    ) as Record<string, unknown>;
    expect(config['weightsSha256']).toMatch(/^[0-9a-f]{64}$/);
  });

  it('detects new conversations, with the cue words as evidence', async () => {
    const detector = new ClassifierDetector(await loadClassifier(workspace, 'toy-clf'));
    const text = 'window zorp garden';
    const [signal] = detector.detect(
      conversation('new', [
        ['user', 'Tell me about rivers.'],
        ['assistant', 'Rivers flow.'],
        ['user', text],
      ]),
    );
    expect(signal).toMatchObject({
      detector: 'classifier',
      polarity: 'dsat',
      turn: 2,
      judgedTurn: 1,
      classifierId: 'toy-clf',
    });
    const top = signal!.evidence[0]!;
    expect(top.feature).toBe('u:zorp');
    expect(text.slice(top.start, top.end)).toBe('zorp');
    expect(top.weight).toBeGreaterThan(0);
  });

  it('refuses to train without both classes', async () => {
    await writeDataset(
      workspace,
      'one-class',
      toyConversations(20, 1).map((item) => ({
        ...item,
        messages: item.messages.map((message) =>
          message.labels ? { ...message, labels: { sat: false, dsat: true, judges: 1 } } : message,
        ),
      })),
    );
    await expect(
      trainClassifierJob({ datasetIds: ['one-class'], epochs: 1, bucketsLog2: 8 }, context()),
    ).rejects.toMatchObject({
      code: 'classifier_untrainable',
    });
  });
});

describe('save and load', () => {
  it('gives bit-identical predictions after a round trip, and the same weights when trained again with the seed', async () => {
    const buckets = 1 << 10;
    const examples: Example[] = toyConversations(120, 11).map((item) => {
      const user = item.messages[2]!;
      const targets = new Float32Array(OUTPUT_COUNT);
      const mask = new Float32Array(OUTPUT_COUNT);
      targets[DSAT_OUTPUT] = user.labels?.dsat ? 1 : 0;
      mask[DSAT_OUTPUT] = 1;
      return {
        features: featurize({ user: user.content, answer: item.messages[1]!.content }, buckets),
        targets,
        mask,
        group: item.id,
      };
    });
    const options = { buckets, epochs: 5, learningRate: 0.1, l2: 0.0001, batchSize: 16, seed: 5 };
    const trained = await trainClassifier(examples, options);
    const again = await trainClassifier(examples, options);
    expect(Array.from(again.weights.weights)).toEqual(Array.from(trained.weights.weights));
    const info: ClassifierInfo = {
      id: 'round-trip',
      createdAt: new Date().toISOString(),
      source: 'labels',
      datasetIds: ['toy'],
      examples: examples.length,
      trainExamples: examples.length,
      heldOut: { examples: 0, satAccuracy: null, dsatAccuracy: null, satMajority: null, dsatMajority: null },
      categoriesTrained: false,
      judgesFinalAnswers: false,
      buckets,
      epochs: 5,
      seed: 5,
      finalLoss: trained.finalLoss,
    };
    await saveClassifier(workspace, info, trained.weights);
    const loaded = await loadClassifier(workspace, 'round-trip');
    expect(loaded.info).toEqual(info);
    for (const example of examples) {
      expect(Array.from(predict(loaded.model, example.features))).toEqual(
        Array.from(predict(trained.weights, example.features)),
      );
    }
  }, 60_000);

  it('refuses damaged weights', async () => {
    const file = join(workspace, 'classifiers', 'round-trip', 'weights.bin');
    const bytes = await readFile(file);
    bytes[0] = (bytes[0] ?? 0) ^ 0xff;
    await writeFile(file, bytes);
    await expect(loadClassifier(workspace, 'round-trip')).rejects.toMatchObject({ code: 'not_found' });
    await expect(loadClassifier(workspace, 'missing')).rejects.toMatchObject({ code: 'not_found' });
  });
});
