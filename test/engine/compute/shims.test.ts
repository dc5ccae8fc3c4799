import { beforeAll, describe, expect, it } from 'vitest';
import type { KernelConfig, Tensor } from '@tensorflow/tfjs';
import { defaultLoaders } from '../../../src-main/engine/backend.js';
import { registerWasmShims } from '../../../src-main/engine/compute/shims.js';
import { tf } from '../../../src-main/engine/compute/tf.js';

/** Runs `compute` on the cpu and the wasm backend; returns both results as nested arrays. */
async function onBothBackends(compute: () => Tensor | Tensor[]): Promise<{ cpu: unknown; wasm: unknown }> {
  const results: Record<string, unknown> = {};
  for (const backend of ['cpu', 'wasm']) {
    await tf.setBackend(backend);
    results[backend] = tf.tidy(() => {
      const output = compute();
      return Array.isArray(output) ? output.map((tensor) => tensor.arraySync()) : output.arraySync();
    });
  }
  return { cpu: results.cpu, wasm: results.wasm };
}

/** Loss of an embedding lookup with repeated ids, differentiated with respect to the table. */
const embeddingGradient = () =>
  tf.grad((table: Tensor) =>
    tf
      .gather(
        table,
        tf.tensor2d(
          [
            [1, 3, 1],
            [0, 1, 3],
          ],
          [2, 3],
          'int32',
        ),
      )
      .mul(tf.range(1, 19).reshape([2, 3, 3]))
      .sum(),
  )(
    tf.tensor2d(
      [...Array(15).keys()].map((value) => value / 10),
      [5, 3],
    ),
  );

beforeAll(async () => {
  await defaultLoaders.wasm();
  await tf.setBackend('wasm');
});

// Runs first: the shims are not registered yet in this test file's process.
describe('the wasm backend before the shims', () => {
  it('lacks UnsortedSegmentSum, so the gradient of gather fails', async () => {
    await tf.setBackend('wasm');
    expect(tf.getKernel('UnsortedSegmentSum', 'wasm')).toBeUndefined();
    expect(() => tf.tidy(embeddingGradient)).toThrow(/Kernel 'UnsortedSegmentSum' not registered for backend 'wasm'/);
  });
});

describe('registerWasmShims', () => {
  it('registers UnsortedSegmentSum once and reports it on every call', () => {
    const kernelsBefore = tf.getKernelsForBackend('wasm').length;
    expect(registerWasmShims()).toEqual(['UnsortedSegmentSum']);
    expect(registerWasmShims()).toEqual(['UnsortedSegmentSum']);
    expect(tf.getKernelsForBackend('wasm').length).toBe(kernelsBefore + 1);
  });

  it('makes the gradient of gather work on wasm, equal to cpu (repeated ids accumulate)', async () => {
    const { cpu, wasm } = await onBothBackends(embeddingGradient);
    expect(wasm).toEqual(cpu);
    // Row 1 is looked up three times, row 4 never.
    expect((wasm as number[][])[1]).toEqual([1 + 7 + 13, 2 + 8 + 14, 3 + 9 + 15]);
    expect((wasm as number[][])[4]).toEqual([0, 0, 0]);
  });

  it('matches cpu on float32 rows of any rank, dropping out-of-range ids', async () => {
    const x = () =>
      tf.tensor3d(
        [...Array(24).keys()].map((value) => value * 0.5 - 3),
        [6, 2, 2],
      );
    const ids = () => tf.tensor1d([2, 0, 2, -1, 4, 0], 'int32');
    const { cpu, wasm } = await onBothBackends(() => tf.unsortedSegmentSum(x(), ids(), 4));
    expect(wasm).toEqual(cpu);
    expect((wasm as number[][][])[3]).toEqual([
      [0, 0],
      [0, 0],
    ]);
  });

  it('matches cpu on int32 input and keeps its dtype', async () => {
    const compute = () =>
      tf.unsortedSegmentSum(tf.tensor2d([1, 2, 3, 4, 5, 6], [3, 2], 'int32'), tf.tensor1d([1, 1, 0], 'int32'), 2);
    const { cpu, wasm } = await onBothBackends(compute);
    expect(wasm).toEqual(cpu);
    expect(wasm).toEqual([
      [5, 6],
      [4, 6],
    ]);
    await tf.setBackend('wasm');
    expect(tf.tidy(() => compute().dtype)).toBe('int32');
  });

  it('trains an embedding + attention + cross-entropy step with Adam on wasm as on cpu', async () => {
    const parametersAfterTraining = () => {
      const embedding = tf.variable(
        tf.tensor2d(
          [...Array(40).keys()].map((value) => Math.sin(value)),
          [10, 4],
        ),
      );
      const query = tf.variable(
        tf.tensor2d(
          [...Array(16).keys()].map((value) => Math.cos(value) / 2),
          [4, 4],
        ),
      );
      const ids = tf.tensor2d(
        [
          [1, 3, 3, 7],
          [2, 1, 1, 9],
        ],
        [2, 4],
        'int32',
      );
      const mask = tf.linalg
        .bandPart(tf.ones([4, 4]), -1, 0)
        .sub(1)
        .mul(1e9);
      const optimizer = tf.train.adam(0.05);
      for (let step = 0; step < 3; step++) {
        optimizer.minimize(() => {
          const x = tf.gather(embedding, ids); // (2, 4, 4)
          const q = tf.matMul(x.reshape([8, 4]), query).reshape([2, 4, 4]);
          const attended = tf.matMul(tf.softmax(tf.matMul(q, x, false, true).add(mask)), x); // (2, 4, 4)
          const logits = tf.matMul(attended.reshape([8, 4]), embedding, false, true); // (8, 10)
          return tf.losses.softmaxCrossEntropy(tf.oneHot(tf.tensor1d([3, 3, 7, 0, 1, 1, 9, 0], 'int32'), 10), logits);
        });
      }
      optimizer.dispose();
      const result = [embedding.clone(), query.clone()];
      tf.dispose([embedding, query]);
      return result;
    };
    const { cpu, wasm } = await onBothBackends(parametersAfterTraining);
    const flatten = (value: unknown) => (value as number[][][]).flat(2);
    const differences = flatten(wasm).map((value, index) => Math.abs(value - (flatten(cpu)[index] ?? Number.NaN)));
    expect(Math.max(...differences)).toBeLessThan(1e-5);
  });

  it('leaves a kernel alone, and does not report it, when the backend already provides one', () => {
    const shim = tf.getKernel('UnsortedSegmentSum', 'wasm') as KernelConfig;
    const provided: KernelConfig = { ...shim, kernelFunc: (...args) => shim.kernelFunc(...args) };
    tf.unregisterKernel('UnsortedSegmentSum', 'wasm');
    tf.registerKernel(provided);
    try {
      expect(registerWasmShims()).toEqual([]);
      expect(tf.getKernel('UnsortedSegmentSum', 'wasm').kernelFunc).toBe(provided.kernelFunc);
    } finally {
      tf.unregisterKernel('UnsortedSegmentSum', 'wasm');
      expect(registerWasmShims()).toEqual(['UnsortedSegmentSum']);
    }
  });
});
