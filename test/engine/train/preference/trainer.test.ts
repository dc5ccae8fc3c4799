import { beforeAll, describe, expect, it } from 'vitest';
import type { PreferenceHyperparameters } from '../../../../src-main/api/index.js';
import { PreferenceHyperparameters as HyperparametersSchema, RunMetricRow } from '../../../../src-main/api/index.js';
import { tf } from '../../../../src-main/engine/compute/tf.js';
import type { CausalLanguageModel } from '../../../../src-main/engine/model/modeling_utils.js';
import type { CompletionLogProbs } from '../../../../src-main/engine/train/preference/logprobs.js';
import { completionLogProbs } from '../../../../src-main/engine/train/preference/logprobs.js';
import {
  PreferenceTrainer,
  PreferenceTrainerStateSchema,
  evaluatePreference,
  lossOptionsOf,
} from '../../../../src-main/engine/train/preference/trainer.js';
import { useBackend } from '../../model/helpers.js';
import { weightsOf } from '../helpers.js';
import type { PreferenceSetup } from './helpers.js';
import { preferenceSetup } from './helpers.js';

let setup: PreferenceSetup;
beforeAll(async () => {
  await useBackend('wasm');
  setup = preferenceSetup(6);
});

function hyperparameters(overrides: Partial<PreferenceHyperparameters>): PreferenceHyperparameters {
  return HyperparametersSchema.parse({ learningRate: 1e-3, warmupRatio: 0, ...overrides });
}

/** A policy and the log-probs of its frozen copy (the reference is the policy's starting point). */
function start(seed: number): { model: CausalLanguageModel; reference: CompletionLogProbs } {
  const model = setup.model(seed);
  return { model, reference: completionLogProbs(model, setup.examples, 4, undefined, setup.padId) };
}

function copyWeights(from: Map<string, Float32Array>, to: CausalLanguageModel): void {
  for (const [name, variable] of to.parameters()) {
    tf.tidy(() => variable.assign(tf.tensor(from.get(name) as Float32Array, variable.shape)));
  }
}

function expectSameWeights(a: Map<string, Float32Array>, b: Map<string, Float32Array>): void {
  expect([...a.keys()]).toEqual([...b.keys()]);
  for (const [name, values] of a) expect(b.get(name), name).toEqual(values);
}

describe('PreferenceTrainer', () => {
  it('learns the toy preference: margins and accuracies rise on the training pairs', async () => {
    const { model, reference } = start(1);
    const settings = hyperparameters({ batchSize: 3, learningRate: 3e-3, rpoAlpha: 0 });
    const evaluate = () =>
      evaluatePreference(model, setup.examples, reference, { ...lossOptionsOf(settings), rpoAlpha: 0, batchSize: 3 });
    const before = evaluate();
    expect(Math.abs(before['rewards/margins'] as number)).toBeLessThan(1e-3);
    expect(before.loss).toBeCloseTo(Math.log(2), 3);
    const trainer = new PreferenceTrainer(model, setup.examples, reference, settings, {
      epochs: 4,
      seed: 7,
      padId: setup.padId,
    });
    expect(trainer.totalSteps).toBe(8);
    const rows = [];
    while (!trainer.done) rows.push(await trainer.trainStep());
    // Every step's numbers make a metrics.jsonl row.
    for (const row of rows) RunMetricRow.parse({ ...row, type: 'train', iteration: 0, time: 'now' });
    expect(rows.map((row) => row.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(rows.at(-1)?.epoch).toBe(4);
    const first = rows[0]!;
    const last = rows.at(-1)!;
    expect(last['rewards/margins']).toBeGreaterThan(first['rewards/margins'] + 0.1);
    expect(last['rewards/accuracies']).toBe(1);
    expect(last.loss).toBeLessThan(first.loss);
    expect(last.gradientWeight.mean).toBeLessThan(first.gradientWeight.mean);
    expect(first.gradientWeight.mean).toBeCloseTo(0.5, 2);
    expect(first.gradientWeight.histogram.reduce((a, b) => a + b, 0)).toBe(3);
    const after = evaluate();
    expect(after['rewards/margins']).toBeGreaterThan(0.1);
    expect(after['rewards/accuracies']).toBe(1);
    expect(after.loss).toBeLessThan(before.loss!);
    expect(after['gradientWeight/mean']).toBeLessThan(0.5);
    trainer.dispose();
    model.dispose();
  });

  it('adds RPO’s α · NLL: the mean per-token cross-entropy of the chosen completions', async () => {
    const losses: number[] = [];
    for (const rpoAlpha of [0, 0.5]) {
      const { model, reference } = start(2);
      const trainer = new PreferenceTrainer(
        model,
        setup.examples,
        reference,
        hyperparameters({ batchSize: 6, rpoAlpha }),
        { epochs: 1, seed: 1, padId: setup.padId },
      );
      losses.push((await trainer.trainStep()).loss);
      trainer.dispose();
      model.dispose();
      if (rpoAlpha === 0) continue;
      // The first step's policy is the reference: NLL = −Σ log π(y⁺) / Σ |y⁺| over all 6 pairs.
      const nll = -reference.chosen.reduce((a, b) => a + b, 0) / reference.chosenTokens.reduce((a, b) => a + b, 0);
      expect(losses[1]! - losses[0]!).toBeCloseTo(rpoAlpha * nll, 3);
    }
    expect(losses[0]).toBeCloseTo(Math.log(2), 3);
  });

  it('resumes from a saved state with the bit-identical next steps', async () => {
    const settings = hyperparameters({
      batchSize: 2,
      gradientAccumulation: 2,
      warmupRatio: 0.2,
      optimizer: 'adamw',
      weightDecay: 0.01,
    });
    const options = { epochs: 3, seed: 5, padId: setup.padId };
    const { model, reference } = start(4);
    const trainer = new PreferenceTrainer(model, setup.examples, reference, settings, options);
    // 3 micro-batches per epoch, 2 per step: steps of 2 and 1 micro-batches, 6 steps in all.
    expect(trainer.totalSteps).toBe(6);
    for (let step = 0; step < 3; step++) await trainer.trainStep();
    const saved = await trainer.save();
    const savedWeights = weightsOf(model);
    const state = PreferenceTrainerStateSchema.parse(JSON.parse(JSON.stringify(saved.trainer)));
    const continued = [await trainer.trainStep(), await trainer.trainStep()];

    const resumedModel = setup.model(99);
    copyWeights(savedWeights, resumedModel);
    const resumed = new PreferenceTrainer(resumedModel, setup.examples, reference, settings, options);
    resumed.restore(state, saved.optimizer);
    expect(resumed.step).toBe(3);
    const again = [await resumed.trainStep(), await resumed.trainStep()];
    for (const [index, row] of again.entries()) {
      const expected = continued[index]!;
      expect({ ...row, seconds: 0 }).toEqual({ ...expected, seconds: 0 });
    }
    expectSameWeights(weightsOf(resumedModel), weightsOf(model));
    expect(() => resumed.restore({ ...state, pairs: 5 }, saved.optimizer)).toThrow(
      expect.objectContaining({ code: 'checkpoint_config_mismatch' }),
    );
    trainer.dispose();
    resumed.dispose();
    model.dispose();
    resumedModel.dispose();
  });

  it('stops between micro-batches on a cancellation, leaving weights and position untouched', async () => {
    const settings = hyperparameters({ batchSize: 2, gradientAccumulation: 3 });
    const { model, reference } = start(6);
    const trainer = new PreferenceTrainer(model, setup.examples, reference, settings, {
      epochs: 2,
      seed: 3,
      padId: setup.padId,
    });
    const before = weightsOf(model);
    const tensors = tf.memory().numTensors;
    const controller = new AbortController();
    // Runs once the first micro-batch is done and the trainer lets the event loop turn.
    setImmediate(() => controller.abort());
    await expect(trainer.trainStep(controller.signal)).rejects.toMatchObject({ code: 'job_cancelled' });
    expect(trainer.step).toBe(0);
    expectSameWeights(weightsOf(model), before);
    expect(tf.memory().numTensors).toBe(tensors);
    // The step taken afterwards is the one an uninterrupted trainer takes first.
    const resumedRow = await trainer.trainStep();
    const { model: twin, reference: twinReference } = start(6);
    const uninterrupted = new PreferenceTrainer(twin, setup.examples, twinReference, settings, {
      epochs: 2,
      seed: 3,
      padId: setup.padId,
    });
    const expectedRow = await uninterrupted.trainStep();
    expect({ ...resumedRow, seconds: 0 }).toEqual({ ...expectedRow, seconds: 0 });
    expectSameWeights(weightsOf(model), weightsOf(twin));
    for (const item of [trainer, uninterrupted, model, twin]) item.dispose();
  });

  it('keeps the number of tensors flat over training steps and evaluation', async () => {
    for (const loss of ['sigmoid', 'ipo', 'kto'] as const) {
      const settings = hyperparameters({ batchSize: 2, gradientAccumulation: 2, loss, rpoAlpha: 0.1 });
      const { model, reference } = start(8);
      const trainer = new PreferenceTrainer(model, setup.examples, reference, settings, {
        epochs: 5,
        seed: 1,
        padId: setup.padId,
      });
      const evaluation = { ...lossOptionsOf(settings), rpoAlpha: 0.1, batchSize: 4 };
      await trainer.trainStep();
      const tensors = tf.memory().numTensors;
      for (let step = 0; step < 5; step++) {
        const row = await trainer.trainStep();
        expect(Number.isFinite(row.loss), loss).toBe(true);
        expect(tf.memory().numTensors).toBe(tensors);
      }
      const metrics = evaluatePreference(model, setup.examples, reference, evaluation);
      expect(Number.isFinite(metrics.loss), loss).toBe(true);
      expect(tf.memory().numTensors).toBe(tensors);
      trainer.dispose();
      model.dispose();
    }
  });
});
