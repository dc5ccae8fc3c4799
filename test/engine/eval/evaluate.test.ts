import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EvaluationResult } from '../../../src-main/api/index.js';
import { tf } from '../../../src-main/engine/compute/tf.js';
import { defaultThreads } from '../../../src-main/engine/compute/threads.js';
import type { CheckpointSpec, RewardFunction } from '../../../src-main/engine/eval/index.js';
import { evaluateCheckpoints } from '../../../src-main/engine/eval/index.js';
import { createModel, saveHfModel } from '../../../src-main/engine/model/model.js';
import { useBackend } from '../model/helpers.js';
import { removeTempFolders, tempFolder } from '../train/helpers.js';
import { WORDS, prompt, tinyLlama, toyTokenizer } from './helpers.js';

beforeAll(async () => {
  await useBackend('wasm');
});

afterAll(async () => {
  await removeTempFolders();
});

/** Two tiny checkpoints (different seeds) with the toy tokenizer. */
async function checkpoints(): Promise<CheckpointSpec[]> {
  const tokenizer = toyTokenizer();
  const root = await tempFolder('drift-eval-');
  return Promise.all(
    [1, 2].map(async (seed) => {
      const folder = `${root}/model-${seed}`;
      const model = createModel(tinyLlama(tokenizer.vocabSize), { seed });
      try {
        await saveHfModel(model, folder);
      } finally {
        model.dispose();
      }
      await tokenizer.save(folder);
      return { label: `seed ${seed}`, folder };
    }),
  );
}

/** A deterministic reward: the count of letters e and a, minus a tenth of the length. */
const reward: RewardFunction = async (_prompts, responses) =>
  responses.map((text) => (text.match(/[ea]/g)?.length ?? 0) - text.length / 10);
const gold: RewardFunction = async (_prompts, responses) => responses.map((text) => (text.includes('e') ? 1 : 0));

describe('evaluateCheckpoints', () => {
  it('produces one typed result: rewards, gold, win rates with ties, diversity, the map, progress', async () => {
    const [base, other] = await checkpoints();
    const specs = [base, other, { label: 'base again', folder: (base as CheckpointSpec).folder }] as CheckpointSpec[];
    const prompts = WORDS.slice(0, 3).map(prompt);
    const progress: [number, number][] = [];
    const decoders = new Set<number | undefined>();
    await evaluateCheckpoints({
      checkpoints: [specs[0] as CheckpointSpec],
      prompts: prompts.slice(0, 1),
      reward,
      settings: { samples: 1, sampling: { maxNewTokens: 2 } },
    }); // warm up the backend's caches before counting tensors
    const tensorsBefore = tf.memory().numTensors;
    const result = await evaluateCheckpoints({
      checkpoints: specs,
      prompts,
      reward,
      gold,
      settings: {
        samples: 3,
        sampling: { maxNewTokens: 8, batchSize: 2, temperature: 1 },
        rewardBatchSize: 4,
        highReward: { kind: 'quantile', quantile: 0.5 },
        map: { gridSize: 12 },
        winRate: { bootstrapSamples: 200 },
        seed: 5,
      },
      onProgress: (done, total, phase, threads) => {
        progress.push([done, total]);
        if (phase === 'generating') decoders.add(threads);
      },
    });
    // Every batch decodes on the generation pool: one thread per core (up to 4) here.
    expect([...decoders]).toEqual([defaultThreads()]);
    expect(tf.memory().numTensors).toBe(tensorsBefore);
    expect(EvaluationResult.parse(result)).toEqual(result);

    expect(result.checkpoints.map((checkpoint) => checkpoint.label)).toEqual(['seed 1', 'seed 2', 'base again']);
    for (const checkpoint of result.checkpoints) {
      expect(checkpoint.samples).toHaveLength(9);
      const values = await reward(
        [],
        checkpoint.samples.map((sample) => sample.text),
      );
      checkpoint.samples.forEach((sample, index) => {
        expect(sample.reward).toBeCloseTo(values[index] as number, 12);
        expect(sample.highReward).toBe(sample.reward >= result.highRewardThreshold);
        expect(sample.gold).toBe(sample.text.includes('e') ? 1 : 0);
      });
      expect(checkpoint.rewards.count).toBe(9);
      expect(checkpoint.histogram.reduce((sum, count) => sum + count, 0)).toBe(9);
      expect(checkpoint.highRewardCount).toBe(checkpoint.samples.filter((sample) => sample.highReward).length);
      expect(checkpoint.gold?.successRate).toBeCloseTo(
        checkpoint.samples.filter((sample) => sample.gold === 1).length / 9,
        12,
      );
      expect(checkpoint.diversity.count).toBe(checkpoint.highRewardCount);
    }

    // The same folder with the same seeds samples the same responses: every comparison is a tie.
    const same = result.winRates.find((rate) => rate.checkpoint === 2);
    expect(result.checkpoints[2]?.samples).toEqual(result.checkpoints[0]?.samples);
    expect(same).toMatchObject({
      opponent: 0,
      wins: 0,
      ties: 9,
      losses: 0,
      winRate: 0.5,
      interval: { low: 0.5, high: 0.5 },
    });
    expect(same?.lengthControlled.winRate).toBeCloseTo(0.5, 6);

    // The other checkpoint: the win rate is the paired comparison of sample k of each prompt.
    const versus = result.winRates.find((rate) => rate.checkpoint === 1);
    const baseSamples = result.checkpoints[0]?.samples ?? [];
    let expected = 0;
    for (const sample of result.checkpoints[1]?.samples ?? []) {
      const opponent = baseSamples.find((item) => item.prompt === sample.prompt && item.sample === sample.sample);
      const difference = sample.reward - (opponent?.reward ?? 0);
      expected += difference > 0 ? 1 : difference === 0 ? 0.5 : 0;
    }
    expect(versus?.winRate).toBeCloseTo(expected / 9, 12);
    expect((versus?.wins ?? 0) + (versus?.ties ?? 0) + (versus?.losses ?? 0)).toBe(9);
    expect(versus?.interval.low).toBeLessThanOrEqual(versus?.winRate ?? 0);
    expect(versus?.interval.high).toBeGreaterThanOrEqual(versus?.winRate ?? 1);

    const map = result.map;
    expect(map?.points).toHaveLength(27);
    expect(map?.projection).toBe('umap');
    expect(map?.density).toHaveLength(144);
    expect(map?.density.reduce((sum, value) => sum + value, 0)).toBeCloseTo(1, 9);
    expect(map?.shares).toHaveLength(3);
    // Identical responses share one point (each distinct text is projected once), so the copy of
    // the base lies exactly on it and takes the same share of the region.
    const at = (checkpoint: number) =>
      (map?.points ?? []).filter((point) => point.checkpoint === checkpoint).map(({ x, y }) => [x, y]);
    expect(at(2)).toEqual(at(0));
    expect(map?.shares[2]).toEqual({ ...map?.shares[0], checkpoint: 2 });
    const distinctTexts = new Set(result.checkpoints.flatMap((checkpoint) => checkpoint.samples.map((s) => s.text)));
    expect(new Set((map?.points ?? []).map(({ x, y }) => `${x},${y}`)).size).toBe(distinctTexts.size);
    for (const share of map?.shares ?? []) {
      expect(share.pointShare).toBeGreaterThanOrEqual(0);
      expect(share.coverage).toBeLessThanOrEqual(1);
    }

    const last = progress[progress.length - 1];
    expect(last?.[0]).toBe(last?.[1]);
    expect(last?.[1]).toBe(27 * 3 + 1);
    for (let index = 1; index < progress.length; index++) {
      expect(progress[index]?.[0]).toBeGreaterThan(progress[index - 1]?.[0] as number);
    }
  });

  it('embeds with a model folder when asked, and is deterministic', async () => {
    const [base] = await checkpoints();
    const run = () =>
      evaluateCheckpoints({
        checkpoints: [base as CheckpointSpec],
        prompts: WORDS.slice(0, 2).map(prompt),
        reward,
        settings: {
          samples: 3,
          sampling: { maxNewTokens: 6 },
          embedding: { kind: 'model' },
          projection: 'pca',
          highReward: { kind: 'threshold', value: -100 },
        },
      });
    const first = await run();
    expect(first.map?.embedding).toBe('model');
    expect(first.map?.projection).toBe('pca');
    expect(first.checkpoints[0]?.diversity.count).toBe(6);
    expect(first.checkpoints[0]?.diversity.vendiScore).toBeGreaterThanOrEqual(1);
    const second = await run();
    expect({ ...second, seconds: 0 }).toEqual({ ...first, seconds: 0 });
  });

  it('checks settings and stops between batches when aborted', async () => {
    const [base] = await checkpoints();
    const options = { checkpoints: [base as CheckpointSpec], prompts: [prompt('apple')], reward };
    await expect(evaluateCheckpoints({ ...options, settings: { samples: 0 } })).rejects.toMatchObject({
      code: 'job_invalid_params',
    });
    await expect(evaluateCheckpoints({ ...options, prompts: [] })).rejects.toMatchObject({
      code: 'job_invalid_params',
    });
    const controller = new AbortController();
    controller.abort(new Error('stopped'));
    await expect(evaluateCheckpoints({ ...options, signal: controller.signal })).rejects.toThrow('stopped');
    const broken: RewardFunction = async () => [Number.NaN];
    await expect(
      evaluateCheckpoints({ ...options, reward: broken, settings: { samples: 1, sampling: { maxNewTokens: 2 } } }),
    ).rejects.toMatchObject({ code: 'internal_error' });
  });
});
