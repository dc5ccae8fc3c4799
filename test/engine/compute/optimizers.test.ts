import type { Tensor, Variable } from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { AppFailure } from '../../../src-main/api/index.js';
import { tf } from '../../../src-main/engine/compute/tf.js';
import type { OptimizerConfig } from '../../../src-main/engine/compute/optimizers.js';
import { OPTIMIZER_DEFAULTS, clipByGlobalNorm, createOptimizer } from '../../../src-main/engine/compute/optimizers.js';
import { useBackend } from '../model/helpers.js';

beforeAll(async () => {
  await useBackend('wasm');
});

/** Two weights, [1, −2], as one 1-D variable, and the constant gradient [0.5, −1]. */
function twoWeights(): { parameters: Map<string, Variable>; gradient: Map<string, Tensor> } {
  return {
    parameters: new Map([['w', tf.variable(tf.tensor1d([1, -2]))]]),
    gradient: new Map([['w', tf.tensor1d([0.5, -1])]]),
  };
}

function valuesOf(parameters: Map<string, Variable>): number[] {
  return [...(parameters.get('w')?.dataSync() ?? [])];
}

function expectNear(actual: number[], expected: number[], digits = 6): void {
  expected.forEach((value, index) => expect(actual[index]).toBeCloseTo(value, digits));
}

describe('AdamW', () => {
  it('matches two steps of torch.optim.AdamW computed by hand (decoupled decay)', () => {
    const { parameters, gradient } = twoWeights();
    const config: OptimizerConfig = { kind: 'adamw', beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0.01 };
    const optimizer = createOptimizer(config, parameters, 'all');
    // Step 1, lr 0.1: p ← p·(1 − 0.001) = [0.999, −1.998]; m = 0.1·g = [0.05, −0.1]; v = 0.001·g² = [0.00025, 0.001];
    // √v/√(1 − 0.999) = [0.5, 1]; step size lr/(1 − 0.9) = 1; p ← [0.999 − 0.05/0.5, −1.998 + 0.1/1] = [0.899, −1.898].
    optimizer.apply(gradient, 0.1);
    expectNear(valuesOf(parameters), [0.899, -1.898]);
    // Step 2: p ← p·0.999; m = [0.095, −0.19], m̂ = m/0.19 = [0.5, −1]; v = [0.00049975, 0.001999], √(v/0.001999) = [0.5, 1];
    // p ← [0.899·0.999 − 0.1·0.5/0.5, −1.898·0.999 + 0.1·1/1] = [0.798101, −1.796102].
    optimizer.apply(gradient, 0.1);
    expectNear(valuesOf(parameters), [0.798101, -1.796102]);
    expect(optimizer.step).toBe(2);
    optimizer.dispose();
    tf.dispose([...parameters.values(), ...gradient.values()]);
  });

  it('decays only matrices by default (biases and norm gains keep their scale)', () => {
    const vector = tf.variable(tf.tensor1d([1, 1]));
    const matrix = tf.variable(tf.tensor2d([[1, 1]]));
    const parameters = new Map<string, Variable>([
      ['vector', vector],
      ['matrix', matrix],
    ]);
    const optimizer = createOptimizer({ ...OPTIMIZER_DEFAULTS.adamw, weightDecay: 0.5 }, parameters);
    const zeros = new Map<string, Tensor>([
      ['vector', tf.zeros([2])],
      ['matrix', tf.zeros([1, 2])],
    ]);
    optimizer.apply(zeros, 0.1);
    expectNear([...vector.dataSync()], [1, 1]);
    expectNear([...matrix.dataSync()], [0.95, 0.95]);
    optimizer.dispose();
    tf.dispose([vector, matrix, ...zeros.values()]);
  });
});

describe('RMSprop', () => {
  it('matches torch.optim.RMSprop computed by hand, without and with momentum and L2 decay', () => {
    const plain = twoWeights();
    const optimizer = createOptimizer({ ...OPTIMIZER_DEFAULTS.rmsprop }, plain.parameters, 'all');
    // s = 0.01·g² = [0.0025, 0.01]; g/√s = [10, −10]; lr 0.01 → p = [0.9, −1.9].
    optimizer.apply(plain.gradient, 0.01);
    expectNear(valuesOf(plain.parameters), [0.9, -1.9]);
    // s = 0.99·s + 0.01·g² = [0.004975, 0.0199]; g/√s = ±7.088812; p = [0.829112, −1.829112].
    optimizer.apply(plain.gradient, 0.01);
    const scaled = 0.5 / Math.sqrt(0.004975);
    expectNear(valuesOf(plain.parameters), [0.9 - 0.01 * scaled, -1.9 + 0.01 * scaled]);

    const withMomentum = twoWeights();
    const momentum = createOptimizer(
      { kind: 'rmsprop', alpha: 0.99, epsilon: 1e-8, weightDecay: 0, momentum: 0.9 },
      withMomentum.parameters,
      'all',
    );
    momentum.apply(withMomentum.gradient, 0.01);
    momentum.apply(withMomentum.gradient, 0.01);
    // b = 0.9·10 + 7.088812 after step 2.
    const buffer = 0.9 * 10 + scaled;
    expectNear(valuesOf(withMomentum.parameters), [0.9 - 0.01 * buffer, -1.9 + 0.01 * buffer]);

    const decayed = twoWeights();
    const l2 = createOptimizer(
      { kind: 'rmsprop', alpha: 0.99, epsilon: 1e-8, weightDecay: 0.1, momentum: 0 },
      decayed.parameters,
      'all',
    );
    l2.apply(decayed.gradient, 0.01);
    // g' = g + 0.1·p = [0.6, −1.2]; s = 0.01·g'²; g'/√s = [10, −10] again.
    expectNear(valuesOf(decayed.parameters), [0.9, -1.9]);
    for (const run of [plain, withMomentum, decayed])
      tf.dispose([...run.parameters.values(), ...run.gradient.values()]);
    [optimizer, momentum, l2].forEach((each) => each.dispose());
  });
});

describe('optimizer state', () => {
  it('saves and restores exactly: the next update is bit-identical', async () => {
    for (const config of [OPTIMIZER_DEFAULTS.adamw, { ...OPTIMIZER_DEFAULTS.rmsprop, momentum: 0.5 }]) {
      const first = twoWeights();
      const original = createOptimizer(config, first.parameters);
      original.apply(first.gradient, 0.05);
      original.apply(first.gradient, 0.05);
      const state = await original.save();
      const second = {
        parameters: new Map([['w', tf.variable(first.parameters.get('w') as Variable)]]),
      };
      const restored = createOptimizer(config, second.parameters);
      restored.restore(state);
      expect(restored.step).toBe(2);
      const next = new Map<string, Tensor>([['w', tf.tensor1d([-0.25, 0.75])]]);
      original.apply(next, 0.05);
      restored.apply(next, 0.05);
      expect(valuesOf(second.parameters)).toEqual(valuesOf(first.parameters));
      tf.dispose([
        ...first.parameters.values(),
        ...first.gradient.values(),
        ...second.parameters.values(),
        ...next.values(),
      ]);
      original.dispose();
      restored.dispose();
    }
  });

  it('refuses the state of another optimizer', async () => {
    const { parameters, gradient } = twoWeights();
    const adamw = createOptimizer(OPTIMIZER_DEFAULTS.adamw, parameters);
    const state = await adamw.save();
    const rmsprop = createOptimizer(OPTIMIZER_DEFAULTS.rmsprop, parameters);
    let failure: unknown;
    try {
      rmsprop.restore(state);
    } catch (error) {
      failure = error;
    }
    expect(failure).toBeInstanceOf(AppFailure);
    expect((failure as AppFailure).code).toBe('checkpoint_config_mismatch');
    adamw.dispose();
    rmsprop.dispose();
    tf.dispose([...parameters.values(), ...gradient.values()]);
  });
});

describe('clipByGlobalNorm', () => {
  it('scales gradients to the maximum norm (torch clip_grad_norm_) and reports the norm before', async () => {
    const gradients = new Map<string, Tensor>([
      ['a', tf.tensor1d([3])],
      ['b', tf.tensor2d([[4]])],
    ]);
    const clipped = await clipByGlobalNorm(gradients, 1);
    expect(clipped.norm).toBeCloseTo(5, 6);
    expect(clipped.gradients.get('a')?.dataSync()[0]).toBeCloseTo(3 / (5 + 1e-6), 6);
    expect(clipped.gradients.get('b')?.dataSync()[0]).toBeCloseTo(4 / (5 + 1e-6), 6);
    const untouched = await clipByGlobalNorm(gradients, 10);
    expect([...(untouched.gradients.get('a')?.dataSync() ?? [])]).toEqual([3]);
    const off = await clipByGlobalNorm(gradients, 0);
    expect(off.norm).toBeCloseTo(5, 6);
    expect([...(off.gradients.get('b')?.dataSync() ?? [])]).toEqual([4]);
    for (const map of [gradients, clipped.gradients, untouched.gradients, off.gradients]) tf.dispose([...map.values()]);
  });
});
