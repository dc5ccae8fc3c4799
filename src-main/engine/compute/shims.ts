/**
 * Kernels that training needs and the wasm backend (@tensorflow/tfjs-backend-wasm 4.22) lacks.
 *
 * Found by running every op of a transformer training step and its gradient on wasm (embedding
 * gather, matMul, softmax, layer norm, RMSNorm, GELU, SiLU, causal masks, cross-entropy, Adam,
 * RMSprop, global-norm clipping): only `UnsortedSegmentSum` is missing. tfjs writes the gradient of
 * `gather` with it (tfjs-core gradients/GatherV2_grad.ts), so without it no embedding can train.
 * `Einsum` is missing too, but tfjs has no gradient for it on any backend, so training cannot use it.
 */
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { tf } from './tf.js';

/**
 * `UnsortedSegmentSum`: output[s, ...] = sum of x[i, ...] over every i with segmentIds[i] = s; ids
 * outside [0, numSegments) are dropped (TensorFlow's semantics). One pass over x, so the gradient of
 * an embedding costs O(tokens × width), not O(vocabulary × tokens × width) as the cpu backend's
 * one-mask-per-segment version would.
 */
const unsortedSegmentSum: KernelFunc = ({ inputs, backend, attrs }) => {
  const { x, segmentIds } = inputs as { x: TensorInfo; segmentIds: TensorInfo };
  const numSegments = (attrs as { numSegments: number }).numSegments;
  if (x.dtype !== 'float32' && x.dtype !== 'int32') {
    throw new Error(`UnsortedSegmentSum on wasm supports float32 and int32 tensors, not ${x.dtype}`);
  }
  const wasm = backend as BackendWasm;
  const values = wasm.readSync(x.dataId) as Float32Array | Int32Array;
  const ids = wasm.readSync(segmentIds.dataId) as Int32Array;
  // segmentIds covers the leading dimensions of x; each id owns a contiguous row of `rowSize` values.
  const rowSize = ids.length === 0 ? 0 : values.length / ids.length;
  const outputShape = [numSegments, ...x.shape.slice(segmentIds.shape.length)];
  const sums = x.dtype === 'float32' ? new Float32Array(numSegments * rowSize) : new Int32Array(numSegments * rowSize);
  for (let row = 0; row < ids.length; row++) {
    const segment = ids[row] ?? -1;
    if (segment < 0 || segment >= numSegments) continue;
    const from = row * rowSize;
    const to = segment * rowSize;
    for (let column = 0; column < rowSize; column++)
      sums[to + column] = (sums[to + column] ?? 0) + (values[from + column] ?? 0);
  }
  return wasm.makeOutput(outputShape, x.dtype, undefined, sums);
};

const WASM_SHIMS: readonly KernelConfig[] = [
  { kernelName: 'UnsortedSegmentSum', backendName: 'wasm', kernelFunc: unsortedSegmentSum },
];

/**
 * Registers, for the 'wasm' backend, each shim whose kernel the backend does not provide, and returns
 * the names of the shims now in place (also those registered by an earlier call). A kernel that a
 * later tfjs version provides itself is left alone and not listed. Safe to call before or after the
 * wasm package is imported; call it after, so that the check sees the backend's own kernels.
 */
export function registerWasmShims(): string[] {
  const active: string[] = [];
  for (const shim of WASM_SHIMS) {
    const existing = tf.getKernel(shim.kernelName, 'wasm') as KernelConfig | undefined;
    if (existing === undefined) tf.registerKernel(shim);
    if (existing === undefined || existing.kernelFunc === shim.kernelFunc) active.push(shim.kernelName);
  }
  return active;
}
