import { afterEach, describe, expect, it } from 'vitest';
import type { Tensor, Tensor2D, Tensor4D } from '@tensorflow/tfjs';
import { tf } from '../../../src-main/engine/compute/tf.js';
import {
  attentionBias,
  groupedQueryAttention,
  linear,
  linearTransposedWeight,
  positionIdsFor,
  ropeInverseFrequencies,
} from '../../../src-main/engine/model/layers.js';
import { BACKENDS, maxAbsDifference, recordProducts, useBackend } from './helpers.js';

afterEach(() => {
  expect(tf.memory().numTensors, 'a test left tensors behind').toBe(leftAtStart);
});
let leftAtStart = 0;

describe.each(BACKENDS)('linear layers on %s', (backend) => {
  it('the fast linear gives tf.grad of a plain matMul (with bias) within 1e-5', async () => {
    await useBackend(backend);
    leftAtStart = tf.memory().numTensors;
    tf.tidy(() => {
      const x = tf.randomNormal([24, 16], 0, 1, 'float32', 1) as Tensor2D;
      const weight = tf.randomNormal([16, 40], 0, 1, 'float32', 2) as Tensor2D;
      const bias = tf.randomNormal([40], 0, 1, 'float32', 3) as tf.Tensor1D;
      const readout = tf.randomNormal([24, 40], 0, 1, 'float32', 4);
      const loss = (fn: (a: Tensor2D, w: Tensor2D, b: tf.Tensor1D) => Tensor) => (a: Tensor, w: Tensor, b: Tensor) =>
        fn(a as Tensor2D, w as Tensor2D, b as tf.Tensor1D)
          .mul(readout)
          .sum();
      const fast = tf.grads(loss((a, w, b) => linear(a, w, b)))([x, weight, bias]);
      const plain = tf.grads(loss((a, w, b) => tf.matMul(a, w).add(b)))([x, weight, bias]);
      expect(
        maxAbsDifference(linear(x, weight, bias).dataSync(), tf.matMul(x, weight).add(bias).dataSync()),
      ).toBeLessThan(1e-5);
      for (const [index, name] of ['dX', 'dW', 'dBias'].entries()) {
        expect(fast[index]?.shape, name).toEqual(plain[index]?.shape);
        expect(maxAbsDifference(fast[index]!.dataSync(), plain[index]!.dataSync()), name).toBeLessThan(1e-5);
      }
    });
  });

  it('the transposed-weight linear (tied head) gives tf.grad of x · wᵀ, with or without a kept transpose', async () => {
    await useBackend(backend);
    leftAtStart = tf.memory().numTensors;
    tf.tidy(() => {
      const x = tf.randomNormal([12, 8], 0, 1, 'float32', 5) as Tensor2D;
      const weight = tf.randomNormal([30, 8], 0, 1, 'float32', 6) as Tensor2D; // (vocabulary, d)
      const readout = tf.randomNormal([12, 30], 0, 1, 'float32', 7);
      const kept = tf.transpose(weight) as Tensor2D;
      const plain = tf.grads((a: Tensor, w: Tensor) =>
        tf
          .matMul(a as Tensor2D, w as Tensor2D, false, true)
          .mul(readout)
          .sum(),
      )([x, weight]);
      for (const transposed of [undefined, kept]) {
        const fast = tf.grads((a: Tensor, w: Tensor) =>
          linearTransposedWeight(a as Tensor2D, w as Tensor2D, transposed)
            .mul(readout)
            .sum(),
        )([x, weight]);
        expect(maxAbsDifference(fast[0]!.dataSync(), plain[0]!.dataSync())).toBeLessThan(1e-5);
        expect(maxAbsDifference(fast[1]!.dataSync(), plain[1]!.dataSync())).toBeLessThan(1e-5);
      }
    });
  });
});

describe('products on the wasm fast path', () => {
  it('forward and backward of the fast linears run only untransposed 2-D products; a plain matMul gradient does not', async () => {
    await useBackend('wasm');
    leftAtStart = tf.memory().numTensors;
    const x = tf.randomNormal([32, 16]) as Tensor2D;
    const weight = tf.randomNormal([16, 24]) as Tensor2D;
    const head = tf.randomNormal([50, 24]) as Tensor2D;
    const fast = recordProducts(() =>
      tf.tidy(() => {
        tf.grads((a: Tensor, w: Tensor, h: Tensor) =>
          linearTransposedWeight(linear(a as Tensor2D, w as Tensor2D), h as Tensor2D).sum(),
        )([x, weight, head]);
      }),
    );
    const plain = recordProducts(() =>
      tf.tidy(() => {
        tf.grads((a: Tensor, w: Tensor) => tf.matMul(a as Tensor2D, w as Tensor2D).sum())([x, weight]);
      }),
    );
    tf.dispose([x, weight, head]);
    expect(fast).toHaveLength(6); // 2 forward + 4 backward
    expect(fast.every((call) => call.batch === 1 && !call.transposed)).toBe(true);
    expect(plain.filter((call) => call.transposed)).toHaveLength(2);
  });
});

describe('rotary frequencies', () => {
  // Reference: HF _compute_llama3_parameters, run in numpy float32.
  it('llama3 scaling keeps short wavelengths, divides long ones by the factor and blends between', () => {
    const tiny = ropeInverseFrequencies(8, 500000, {
      type: 'llama3',
      factor: 8,
      lowFreqFactor: 1,
      highFreqFactor: 4,
      originalMaxPositionEmbeddings: 16,
    });
    expectClose(tiny, [0.5760563611984253, 0.004700753837823868, 0.00017677668074611574, 6.647870577580761e-6]);
    const allBranches = ropeInverseFrequencies(16, 10000, {
      type: 'llama3',
      factor: 8,
      lowFreqFactor: 1,
      highFreqFactor: 4,
      originalMaxPositionEmbeddings: 64,
    });
    expectClose(
      allBranches,
      [
        1.0, 0.24438458681106567, 0.013042256236076355, 0.0039528473280370235, 0.0012499999720603228,
        0.00039528473280370235, 0.0001250000059371814, 3.9528473280370235e-5,
      ],
    );
  });

  it('default and linear scaling', () => {
    expectClose(ropeInverseFrequencies(8, 10000, null), [1, 0.1, 0.01, 0.001]);
    expectClose(ropeInverseFrequencies(8, 10000, { type: 'linear', factor: 4 }), [0.25, 0.025, 0.0025, 0.00025]);
  });

  function expectClose(actual: Float32Array, expected: number[]): void {
    expect(actual).toHaveLength(expected.length);
    actual.forEach((value, index) =>
      expect(Math.abs(value - (expected[index] ?? 0)) / (expected[index] ?? 1)).toBeLessThan(1e-6),
    );
  }
});

describe('masks and positions', () => {
  it('positions skip left padding and continue after a cache', async () => {
    await useBackend('wasm');
    leftAtStart = tf.memory().numTensors;
    tf.tidy(() => {
      const mask = tf.tensor2d(
        [
          [0, 0, 1, 1, 1],
          [1, 1, 1, 1, 1],
        ],
        undefined,
        'int32',
      );
      expect(positionIdsFor(mask, 2, 5, 0).arraySync()).toEqual([
        [0, 0, 0, 1, 2],
        [0, 1, 2, 3, 4],
      ]);
      // The last 2 of 5 tokens, 3 of them cached.
      expect(positionIdsFor(mask, 2, 2, 3).arraySync()).toEqual([
        [1, 2],
        [3, 4],
      ]);
      expect(positionIdsFor(undefined, 2, 2, 3).arraySync()).toEqual([
        [3, 4],
        [3, 4],
      ]);
    });
  });

  it('the bias hides future keys and padding', async () => {
    await useBackend('wasm');
    leftAtStart = tf.memory().numTensors;
    tf.tidy(() => {
      const visible = (bias: Tensor) =>
        (bias.arraySync() as number[][][][][]).map((row) =>
          row[0]![0]!.map((keys) => keys.map((value) => (value === 0 ? 1 : 0))),
        );
      // 2 new tokens after 1 cached one: query t sees keys 0 … 1 + t.
      expect(visible(attentionBias(undefined, 2, 1))).toEqual([
        [
          [1, 1, 0],
          [1, 1, 1],
        ],
      ]);
      const mask = tf.tensor2d([[0, 1, 1]], undefined, 'int32');
      expect(visible(attentionBias(mask, 3, 0))).toEqual([
        [
          [0, 0, 0],
          [0, 1, 0],
          [0, 1, 1],
        ],
      ]);
      expect(Math.min(...(attentionBias(mask, 3, 0).dataSync() as Float32Array))).toBe(-1e9);
    });
  });
});

describe.each(BACKENDS)('grouped-query attention on %s', (backend) => {
  it('equals per-head softmax attention with repeated key/value heads (HF repeat_kv)', async () => {
    await useBackend(backend);
    leftAtStart = tf.memory().numTensors;
    tf.tidy(() => {
      const [batch, time, heads, kvHeads, width, past] = [2, 3, 6, 2, 4, 2];
      const keys = past + time;
      const query = tf.randomNormal([batch, time, heads, width], 0, 1, 'float32', 11) as Tensor4D;
      const key = tf.randomNormal([batch, kvHeads, keys, width], 0, 1, 'float32', 12) as Tensor4D;
      const value = tf.randomNormal([batch, kvHeads, keys, width], 0, 1, 'float32', 13) as Tensor4D;
      const mask = tf.tensor2d(
        [
          [1, 1, 1, 1, 1],
          [0, 1, 1, 1, 1],
        ],
        undefined,
        'int32',
      );
      const scale = 1 / Math.sqrt(width);
      const actual = groupedQueryAttention(query, key, value, attentionBias(mask, time, past), scale);

      // Reference: repeat each key/value head G times, then plain batched attention per head.
      const group = heads / kvHeads;
      const repeat = (t: Tensor4D) => t.expandDims(2).tile([1, 1, group, 1, 1]).reshape([batch, heads, keys, width]);
      const q = query.transpose([0, 2, 1, 3]); // (B, H, T, D)
      const scores = tf.matMul(q, repeat(key), false, true).mul(scale); // (B, H, T, S)
      const bias = attentionBias(mask, time, past).reshape([batch, 1, time, keys]);
      const expected = tf
        .matMul(tf.softmax(scores.add(bias)), repeat(value)) // (B, H, T, D)
        .transpose([0, 2, 1, 3])
        .reshape([batch * time, heads * width]);
      expect(actual.shape).toEqual([batch * time, heads * width]);
      expect(maxAbsDifference(actual.dataSync(), expected.dataSync())).toBeLessThan(1e-5);
    });
  });
});
