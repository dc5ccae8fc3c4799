/**
 * The fused training attention (DriftAttention and its gradient) against the tfjs-op path it
 * replaces (groupedQueryAttention with attentionBias): outputs and the gradients of query, key and
 * value, with grouped key/value heads, left and right padding, head widths on the wasm SIMD loops
 * (multiples of 4) and on the JavaScript loops, on wasm and cpu; and no tensor left behind.
 */
import type { Tensor, Tensor2D, Tensor4D } from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { tf } from '../../../src-main/engine/compute/tf.js';
import { fusedAttention } from '../../../src-main/engine/model/fused-attention.js';
import { attentionBias, groupedQueryAttention } from '../../../src-main/engine/model/layers.js';
import { Random } from '../../../src-main/engine/model/random.js';
import { BACKENDS, maxAbsDifference, useBackend } from './helpers.js';

interface Case {
  name: string;
  batch: number;
  time: number;
  heads: number;
  kvHeads: number;
  width: number;
  /** (B, T) of 0/1, or none. */
  mask?: number[][];
}

const CASES: Case[] = [
  { name: 'no mask, 4 heads of 8', batch: 2, time: 7, heads: 4, kvHeads: 4, width: 8 },
  {
    name: 'GQA (4 query heads on 2), left and right padding',
    batch: 3,
    time: 6,
    heads: 4,
    kvHeads: 2,
    width: 8,
    mask: [
      [0, 0, 1, 1, 1, 1],
      [1, 1, 1, 1, 0, 0],
      [1, 0, 1, 1, 1, 0],
    ],
  },
  {
    name: 'heads 6 wide (JavaScript loops), a fully padded row',
    batch: 2,
    time: 5,
    heads: 2,
    kvHeads: 1,
    width: 6,
    mask: [
      [0, 0, 0, 0, 0],
      [0, 1, 1, 1, 1],
    ],
  },
];

function random(shape: number[], seed: number): Tensor {
  const generator = new Random(seed);
  const size = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(
    Float32Array.from({ length: size }, () => generator.nextFloat() * 2 - 1),
    shape,
  );
}

/** The op path: (B·T, ·) rows → (B, T, H, D) and (B, K, T, D), bias, groupedQueryAttention. */
function reference(
  query: Tensor2D,
  key: Tensor2D,
  value: Tensor2D,
  spec: Case,
  mask: Tensor2D | undefined,
  scale: number,
) {
  const { batch, time, heads, kvHeads, width } = spec;
  const keys = key.reshape([batch, time, kvHeads, width]).transpose([0, 2, 1, 3]) as Tensor4D;
  const values = value.reshape([batch, time, kvHeads, width]).transpose([0, 2, 1, 3]) as Tensor4D;
  const bias = attentionBias(mask, time, 0);
  return groupedQueryAttention(query.reshape([batch, time, heads, width]) as Tensor4D, keys, values, bias, scale);
}

describe.each(BACKENDS)('fused training attention on %s', (backend) => {
  it.each(CASES)('matches the op path and its gradients: $name', async (spec) => {
    await useBackend(backend);
    const { batch, time, heads, kvHeads, width } = spec;
    const scale = 1 / Math.sqrt(width);
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      const query = random([batch * time, heads * width], 1) as Tensor2D;
      const key = random([batch * time, kvHeads * width], 2) as Tensor2D;
      const value = random([batch * time, kvHeads * width], 3) as Tensor2D;
      const mask = spec.mask ? (tf.tensor2d(spec.mask, undefined, 'int32') as Tensor2D) : undefined;
      const upstream = random([batch * time, heads * width], 4);
      // Rows that see no key are left out of the comparison of gradients' upstream (as a loss mask would).
      const options = { batch, heads, kvHeads, headDim: width, scale, ...(mask ? { mask } : {}) };
      const fused = (q: Tensor, k: Tensor, v: Tensor) =>
        fusedAttention(q as Tensor2D, k as Tensor2D, v as Tensor2D, options)
          .mul(upstream)
          .sum();
      const ops = (q: Tensor, k: Tensor, v: Tensor) =>
        reference(q as Tensor2D, k as Tensor2D, v as Tensor2D, spec, mask, scale)
          .mul(upstream)
          .sum();

      const output = fusedAttention(query, key, value, options);
      const expected = reference(query, key, value, spec, mask, scale);
      expect(output.shape).toEqual([batch * time, heads * width]);
      expect(maxAbsDifference(output.dataSync(), expected.dataSync())).toBeLessThan(1e-5);

      const got = tf.grads(fused)([query, key, value]);
      const want = tf.grads(ops)([query, key, value]);
      for (const [index, name] of ['query', 'key', 'value'].entries()) {
        const difference = maxAbsDifference(got[index]!.dataSync(), want[index]!.dataSync());
        expect(difference, name).toBeLessThan(1e-5);
      }
      expect(tf.abs(got[1]!).sum().dataSync()[0]).toBeGreaterThan(0);
    });
    expect(tf.memory().numTensors).toBe(before);
  });

  it('keeps no tensor after a gradient in a loop', async () => {
    await useBackend(backend);
    const query = tf.variable(random([2 * 8, 2 * 8], 5) as Tensor2D);
    const key = tf.variable(random([2 * 8, 8], 6) as Tensor2D);
    const value = tf.variable(random([2 * 8, 8], 7) as Tensor2D);
    const step = () => {
      const { value: loss, grads } = tf.variableGrads(
        () =>
          fusedAttention(query, key, value, { batch: 2, heads: 2, kvHeads: 1, headDim: 8, scale: 0.3 })
            .square()
            .sum() as tf.Scalar,
      );
      loss.dispose();
      tf.dispose(grads);
    };
    step();
    const before = tf.memory().numTensors;
    for (let index = 0; index < 5; index++) step();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([query, key, value]);
  });
});
