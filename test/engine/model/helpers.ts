/** Shared pieces of the model tests: fixture paths, backend switching, comparisons. */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { KernelConfig, KernelFunc, NamedAttrMap, Tensor, TensorInfo } from '@tensorflow/tfjs';
import { selectBackend } from '../../../src-main/engine/backend.js';
import { tf } from '../../../src-main/engine/compute/tf.js';

export const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../fixtures/models');
export const TINY_LLAMA = path.join(FIXTURES, 'ferrl-tiny-llama');
export const TINY_QWEN3 = path.join(FIXTURES, 'ferrl-tiny-qwen3');
export const TINY_GPT2 = path.join(FIXTURES, 'loractl-tiny-gpt2');

/** The backends every numeric test runs on: the engine's default here (wasm) and the plain-JS cpu. */
export const BACKENDS = ['wasm', 'cpu'] as const;

/** Makes `name` the active tfjs backend (loading wasm and its shims through the engine's selection). */
export async function useBackend(name: (typeof BACKENDS)[number]): Promise<void> {
  await selectBackend(name);
  if (tf.getBackend() !== name) throw new Error(`backend ${name} is not available`);
}

/** max |a − b| over two equally long number lists. */
export function maxAbsDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let worst = 0;
  for (let index = 0; index < a.length; index++) {
    const difference = Math.abs((a[index] ?? Number.NaN) - (b[index] ?? Number.NaN));
    worst = Number.isNaN(difference) ? Number.POSITIVE_INFINITY : Math.max(worst, difference);
  }
  return worst;
}

/** The values of a tensor, then disposes it. */
export function take(tensor: Tensor): Float32Array {
  const values = tensor.dataSync() as Float32Array;
  tensor.dispose();
  return Float32Array.from(values);
}

/** One BatchMatMul the wasm backend ran: whether it took XNNPACK's fast path (2-D, untransposed). */
export interface ProductCall {
  batch: number;
  transposed: boolean;
}

/**
 * Records every BatchMatMul the wasm backend runs while `work` runs. The wasm kernel takes its fast
 * path only for batch 1 with neither operand transposed (tfjs-backend-wasm batch_mat_mul_impl.cc).
 */
export function recordProducts(work: () => void): ProductCall[] {
  const original = tf.getKernel('BatchMatMul', 'wasm') as KernelConfig;
  const calls: ProductCall[] = [];
  const spy: KernelFunc = (args) => {
    const { a } = args.inputs as { a: TensorInfo };
    const attrs = args.attrs as NamedAttrMap & { transposeA: boolean; transposeB: boolean };
    calls.push({
      batch: a.shape.slice(0, -2).reduce((product, dim) => product * dim, 1),
      transposed: attrs.transposeA || attrs.transposeB,
    });
    return original.kernelFunc(args);
  };
  tf.unregisterKernel('BatchMatMul', 'wasm');
  tf.registerKernel({ ...original, kernelFunc: spy });
  try {
    work();
  } finally {
    tf.unregisterKernel('BatchMatMul', 'wasm');
    tf.registerKernel(original);
  }
  return calls;
}
