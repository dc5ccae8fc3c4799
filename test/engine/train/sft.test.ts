import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../../../src-main/engine/compute/tf.js';
import { generate } from '../../../src-main/engine/model/generate.js';
import type { CausalLanguageModel } from '../../../src-main/engine/model/modeling_utils.js';
import { batchGradients } from '../../../src-main/engine/train/loss.js';
import type { GradientExecutor } from '../../../src-main/engine/train/parallel.js';
import { createGradientExecutor } from '../../../src-main/engine/train/parallel.js';
import type { SftHyperparameters } from '../../../src-main/engine/train/sft.js';
import { SftTrainer, resolveHyperparameters } from '../../../src-main/engine/train/sft.js';
import { padBatch } from '../../../src-main/engine/train/data.js';
import { useBackend } from '../model/helpers.js';
import type { TinySetup } from './helpers.js';
import { tinySetup, weightsOf } from './helpers.js';

let setup: TinySetup;
beforeAll(async () => {
  await useBackend('wasm');
  setup = tinySetup(12);
});

async function train(
  model: CausalLanguageModel,
  hyperparameters: Partial<SftHyperparameters>,
  steps: number,
  threads = 1,
): Promise<{ losses: number[]; executor: GradientExecutor }> {
  const executor = await createGradientExecutor(model, { threads });
  const trainer = new SftTrainer(model, setup.examples, resolveHyperparameters(hyperparameters), executor);
  const losses: number[] = [];
  try {
    for (let step = 0; step < steps && !trainer.done; step++) losses.push((await trainer.trainStep()).loss);
  } finally {
    trainer.dispose();
    await executor.close();
  }
  return { losses, executor };
}

describe('SftTrainer', () => {
  it('overfits a tiny task: the loss falls well below where it started', async () => {
    const model = setup.model(1);
    const { losses } = await train(model, { learningRate: 1e-2, batchSize: 4, epochs: 12, seed: 3 }, 36);
    expect(losses).toHaveLength(36);
    const first = losses[0] as number;
    const last = losses.at(-1) as number;
    expect(first).toBeGreaterThan(Math.log(setup.tokenizer.vocabSize) - 1.5);
    expect(last).toBeLessThan(first * 0.5);
    model.dispose();
  });

  it('gives the same loss as the mean cross-entropy over the batch’s assistant tokens', async () => {
    const model = setup.model(2);
    const batch = padBatch(setup.examples.slice(0, 4));
    const { lossSum, gradients } = batchGradients(model, batch);
    tf.dispose([...gradients.values()]);
    // By hand: log-softmax of every position, picked at the targets the mask covers.
    const logits = tf.tidy(() =>
      model
        .forward(tf.tensor2d(batch.inputIds, [batch.rows, batch.length], 'int32'), {
          attentionMask: tf.tensor2d(batch.attentionMask, [batch.rows, batch.length], 'int32'),
        })
        .logits.logSoftmax()
        .arraySync(),
    ) as number[][][];
    let expected = 0;
    for (let row = 0; row < batch.rows; row++) {
      for (let position = 0; position < batch.length; position++) {
        const index = row * batch.length + position;
        if (batch.lossMask[index] === 1) expected -= logits[row]?.[position]?.[batch.targets[index] as number] ?? NaN;
      }
    }
    expect(lossSum).toBeCloseTo(expected, 3);
    model.dispose();
  });

  it('accumulating 2 micro-batches of 2 equals one batch of 4 (within float rounding)', async () => {
    const whole = setup.model(5);
    const accumulated = setup.model(5);
    const common = { learningRate: 1e-2, maxSteps: 3, seed: 11, shards: 1 };
    const a = await train(whole, { ...common, batchSize: 4, gradientAccumulation: 1 }, 3);
    const b = await train(accumulated, { ...common, batchSize: 2, gradientAccumulation: 2 }, 3);
    a.losses.forEach((loss, step) => expect(b.losses[step]).toBeCloseTo(loss, 5));
    const expected = weightsOf(whole);
    for (const [name, values] of weightsOf(accumulated)) {
      const reference = expected.get(name) as Float32Array;
      let worst = 0;
      values.forEach((value, index) => (worst = Math.max(worst, Math.abs(value - (reference[index] as number)))));
      expect(worst, name).toBeLessThan(1e-5);
    }
    whole.dispose();
    accumulated.dispose();
  });

  it('computes shards on two threads with exactly the numbers of one thread', async () => {
    const single = setup.model(7);
    const parallel = setup.model(7);
    // 12 examples in micro-batches of 11: every second step has one example, so one shard and an idle
    // worker, which must still get the new weights for the step after.
    const hyperparameters = { learningRate: 5e-3, batchSize: 11, maxSteps: 4, seed: 2, shards: 2 };
    const one = await train(single, hyperparameters, 4, 1);
    const two = await train(parallel, hyperparameters, 4, 2);
    expect(two.losses).toHaveLength(4);
    expect(two.executor.threads).toBe(2);
    expect(two.executor.note).toBe('');
    expect(two.losses).toEqual(one.losses);
    const expected = weightsOf(single);
    for (const [name, values] of weightsOf(parallel)) expect(values, name).toEqual(expected.get(name));
    single.dispose();
    parallel.dispose();
  });

  it('keeps the number of tensors flat over training steps and generation', async () => {
    const model = setup.model(9);
    const executor = await createGradientExecutor(model, { threads: 1 });
    const trainer = new SftTrainer(
      model,
      setup.examples,
      resolveHyperparameters({ learningRate: 1e-3, batchSize: 3, gradientAccumulation: 2, epochs: 50, shards: 2 }),
      executor,
    );
    const prompt = [setup.examples[0]?.ids.slice(0, 12) as number[]];
    // One step and one generation first: the model caches its tied head's transpose once.
    await trainer.trainStep();
    await generate(model, setup.tokenizer, prompt, { maxNewTokens: 3 });
    const before = tf.memory().numTensors;
    for (let round = 0; round < 8; round++) {
      await trainer.trainStep();
      await generate(model, setup.tokenizer, prompt, { maxNewTokens: 5, seed: round });
      expect(tf.memory().numTensors).toBe(before);
    }
    trainer.dispose();
    await executor.close();
    model.dispose();
  });
});
