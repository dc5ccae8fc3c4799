import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../../../src-main/engine/compute/tf.js';
import type { PreferencePair } from '../../../src-main/engine/eval/bradley-terry.js';
import { trainBradleyTerry } from '../../../src-main/engine/eval/bradley-terry.js';
import { RewardModel } from '../../../src-main/engine/eval/reward-model.js';
import { createModel } from '../../../src-main/engine/model/model.js';
import { useBackend } from '../model/helpers.js';
import { removeTempFolders } from '../train/helpers.js';
import { WORDS, prompt, tinyLlama, toyTokenizer } from './helpers.js';

beforeAll(async () => {
  await useBackend('wasm');
});

afterAll(async () => {
  await removeTempFolders();
});

/** A separable preference: the chosen answer praises, the rejected one dismisses. */
function toyPairs(count: number): PreferencePair[] {
  return Array.from({ length: count }, (_, index) => {
    const word = WORDS[index % WORDS.length] as string;
    const other = WORDS[(index * 3 + 1) % WORDS.length] as string;
    return {
      prompt: prompt(word),
      chosen: index % 2 === 0 ? `${word} is great, thank you!` : `${other} is great, thank you!`,
      rejected: index % 3 === 0 ? `${word} is awful, go away.` : `${other} is awful, go away.`,
    };
  });
}

describe('Bradley–Terry reward model', () => {
  it('learns a separable toy preference quickly (held-out accuracy > 0.9)', async () => {
    const started = performance.now();
    const tokenizer = toyTokenizer();
    const model = RewardModel.create(createModel(tinyLlama(tokenizer.vocabSize), { seed: 1 }), tokenizer, { seed: 2 });
    try {
      const losses: number[] = [];
      const tensorCounts: number[] = [];
      const report = await trainBradleyTerry(model, toyPairs(50), {
        epochs: 4,
        batchSize: 8,
        learningRate: 3e-3,
        seed: 3,
        onStep: (step) => {
          losses.push(step.loss);
          tensorCounts.push(tf.memory().numTensors);
        },
      });
      // No step leaves a tensor behind (the count is measured in the loop: the optimizer is made once).
      expect(new Set(tensorCounts).size).toBe(1);
      expect(report).toMatchObject({ trainPairs: 40, heldOutPairs: 10, steps: 20 });
      expect(report.heldOutAccuracy).toBeGreaterThan(0.9);
      expect(report.trainAccuracy).toBeGreaterThan(0.9);
      expect(losses[0]).toBeGreaterThan(0.4);
      expect(report.finalLoss).toBeLessThan(losses[0] as number);
      expect(performance.now() - started).toBeLessThan(40_000);
    } finally {
      model.dispose();
    }
  });

  it('refuses fewer than two pairs, and stops when aborted', async () => {
    const tokenizer = toyTokenizer();
    const model = RewardModel.create(createModel(tinyLlama(tokenizer.vocabSize), { seed: 1 }), tokenizer);
    try {
      await expect(trainBradleyTerry(model, toyPairs(1))).rejects.toMatchObject({ code: 'training_data_invalid' });
      const controller = new AbortController();
      controller.abort(new Error('stop'));
      await expect(trainBradleyTerry(model, toyPairs(10), { signal: controller.signal })).rejects.toThrow('stop');
    } finally {
      model.dispose();
    }
  });
});
