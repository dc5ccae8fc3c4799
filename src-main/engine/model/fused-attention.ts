/**
 * Causal self-attention for training as one tfjs kernel with a gradient (`DriftAttention`,
 * `DriftAttentionGrad`), on the backends whose tensor memory is visible here (wasm, cpu).
 *
 * Why: attention's products are batched (B, H, T, ·) products, which the wasm backend runs in a
 * scalar loop at about 1 GFLOP/s (tfjs-backend-wasm batch_mat_mul_impl.cc; profiled on the bench's
 * training step: 24 such products, 30% of the step, against 60% for all the weight products
 * together). Here each query row's scores and each weighted sum of rows is one call into a small
 * WebAssembly SIMD module working on the backend's own memory, the causal half is never computed,
 * and the softmax, masks and transposes that took kernels of their own are loops in between.
 *
 * Semantics are those of {@link groupedQueryAttention} with {@link attentionBias} and no cache:
 * query t sees keys s ≤ t whose mask is 1; a row that sees no key (left padding before the first
 * token) attends uniformly to all T keys, as the additive −1e9 bias makes it do. Gradients are the
 * softmax's: dS = P ⊙ (dP − Σ P·dP) with dP = dO · Vᵀ; dQ = scale · dS · K, dK = scale · dSᵀ · Q,
 * dV = Pᵀ · dO (summed over the query heads sharing a key/value head).
 */
import type { KernelFunc, NamedAttrMap, Tensor, Tensor2D, TensorInfo } from '@tensorflow/tfjs';
import { tf } from '../compute/tf.js';
import { HOST_BACKENDS, memoryOf, wasmSimdInstance, type HostBackendName } from './kernels.js';

interface AttentionAttrs {
  batch: number;
  time: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  scale: number;
}

/**
 * The two loops, in WebAssembly SIMD (4 float32 lanes) on the wasm backend's memory. Assembled
 * from this source (wabt's wat2wasm, --enable-simd):
 *
 *   (module
 *     (import "env" "memory" (memory 1))
 *     ;; out[i] = Σ_d a[d] · b[i·stride + d] for i < count, d < len (pointers and sizes in bytes; len a multiple of 16)
 *     (func (export "dots") (param $a i32) (param $b i32) (param $count i32) (param $len i32) (param $stride i32) (param $out i32)
 *       (local $d i32) (local $sum v128)
 *       (block $done (br_if $done (i32.eqz (local.get $count)))
 *         (loop $rows
 *           (local.set $sum (v128.const i32x4 0 0 0 0)) (local.set $d (i32.const 0))
 *           (loop $dims
 *             (local.set $sum (f32x4.add (local.get $sum) (f32x4.mul
 *               (v128.load (i32.add (local.get $a) (local.get $d)))
 *               (v128.load (i32.add (local.get $b) (local.get $d))))))
 *             (br_if $dims (i32.lt_u (local.tee $d (i32.add (local.get $d) (i32.const 16))) (local.get $len))))
 *           (f32.store (local.get $out) (f32.add (f32.add (f32.add
 *             (f32x4.extract_lane 0 (local.get $sum)) (f32x4.extract_lane 1 (local.get $sum)))
 *             (f32x4.extract_lane 2 (local.get $sum))) (f32x4.extract_lane 3 (local.get $sum))))
 *           (local.set $out (i32.add (local.get $out) (i32.const 4)))
 *           (local.set $b (i32.add (local.get $b) (local.get $stride)))
 *           (br_if $rows (local.tee $count (i32.sub (local.get $count) (i32.const 1)))))))
 *     ;; out[d] = (accumulate ? out[d] : 0) + Σ_i w[i] · v[i·stride + d] for d < len, i < count
 *     (func (export "weighted") (param $w i32) (param $v i32) (param $count i32) (param $len i32) (param $stride i32) (param $out i32) (param $accumulate i32)
 *       (local $d i32) (local $i i32) (local $sum v128) (local $row i32) (local $weight i32)
 *       (local.set $d (i32.const 0))
 *       (loop $dims
 *         (local.set $sum (v128.const i32x4 0 0 0 0))
 *         (if (local.get $accumulate) (then (local.set $sum (v128.load (i32.add (local.get $out) (local.get $d))))))
 *         (local.set $row (i32.add (local.get $v) (local.get $d)))
 *         (local.set $weight (local.get $w)) (local.set $i (local.get $count))
 *         (block $empty (br_if $empty (i32.eqz (local.get $i)))
 *           (loop $rows
 *             (local.set $sum (f32x4.add (local.get $sum) (f32x4.mul
 *               (f32x4.splat (f32.load (local.get $weight))) (v128.load (local.get $row)))))
 *             (local.set $weight (i32.add (local.get $weight) (i32.const 4)))
 *             (local.set $row (i32.add (local.get $row) (local.get $stride)))
 *             (br_if $rows (local.tee $i (i32.sub (local.get $i) (i32.const 1))))))
 *         (v128.store (i32.add (local.get $out) (local.get $d)) (local.get $sum))
 *         (br_if $dims (i32.lt_u (local.tee $d (i32.add (local.get $d) (i32.const 16))) (local.get $len))))))
 */
const ROWS_SIMD_MODULE =
  'AGFzbQEAAAABFAJgBn9/f39/fwBgB39/f39/f38AAg8BA2VudgZtZW1vcnkCAAEDAwIAAQcTAgRkb3RzAAAId2VpZ2h0ZWQAAQqeAgKHAQIBfwF7AkAgAkUNAANA/QwAAAAAAAAAAAAAAAAAAAAAIQdBACEGA0AgByAAIAZq/QAEACABIAZq/QAEAP3mAf3kASEHIAZBEGoiBiADSQ0ACyAFIAf9HwAgB/0fAZIgB/0fApIgB/0fA5I4AgAgBUEEaiEFIAEgBGohASACQQFrIgINAAsLC5IBAwJ/AXsCf0EAIQcDQP0MAAAAAAAAAAAAAAAAAAAAACEJIAYEQCAFIAdq/QAEACEJCyABIAdqIQogACELIAIhCAJAIAhFDQADQCAJIAsqAgD9EyAK/QAEAP3mAf3kASEJIAtBBGohCyAKIARqIQogCEEBayIIDQALCyAFIAdqIAn9CwQAIAdBEGoiByADSQ0ACws=';

interface SimdRows {
  dots(a: number, b: number, count: number, lenBytes: number, strideBytes: number, out: number): void;
  weighted(
    w: number,
    v: number,
    count: number,
    lenBytes: number,
    strideBytes: number,
    out: number,
    accumulate: number,
  ): void;
}

/** The two loops over rows of float32 arrays; indices and sizes in elements. */
interface RowOps {
  /** out[o + i] = Σ_d a[ai + d] · b[bi + i·stride + d] for i < count, d < len. */
  dots(
    a: Float32Array,
    ai: number,
    b: Float32Array,
    bi: number,
    count: number,
    len: number,
    stride: number,
    out: Float32Array,
    oi: number,
  ): void;
  /** out[oi + d] = (accumulate ? out[oi + d] : 0) + Σ_i w[wi + i] · v[vi + i·stride + d]. */
  weighted(
    w: Float32Array,
    wi: number,
    v: Float32Array,
    vi: number,
    count: number,
    len: number,
    stride: number,
    out: Float32Array,
    oi: number,
    accumulate: boolean,
  ): void;
}

const JS_ROWS: RowOps = {
  dots(a, ai, b, bi, count, len, stride, out, oi) {
    for (let row = 0; row < count; row++) {
      let sum = 0;
      const base = bi + row * stride;
      for (let d = 0; d < len; d++) sum += (a[ai + d] as number) * (b[base + d] as number);
      out[oi + row] = sum;
    }
  },
  weighted(w, wi, v, vi, count, len, stride, out, oi, accumulate) {
    if (!accumulate) out.fill(0, oi, oi + len);
    for (let row = 0; row < count; row++) {
      const weight = w[wi + row] as number;
      if (weight === 0) continue;
      const base = vi + row * stride;
      for (let d = 0; d < len; d++) out[oi + d] = (out[oi + d] as number) + weight * (v[base + d] as number);
    }
  },
};

/** The SIMD loops on views of the wasm memory (a view's byteOffset is its address there). */
function simdRows(simd: SimdRows): RowOps {
  return {
    dots: (a, ai, b, bi, count, len, stride, out, oi) =>
      simd.dots(a.byteOffset + 4 * ai, b.byteOffset + 4 * bi, count, 4 * len, 4 * stride, out.byteOffset + 4 * oi),
    weighted: (w, wi, v, vi, count, len, stride, out, oi, accumulate) =>
      simd.weighted(
        w.byteOffset + 4 * wi,
        v.byteOffset + 4 * vi,
        count,
        4 * len,
        4 * stride,
        out.byteOffset + 4 * oi,
        accumulate ? 1 : 0,
      ),
  };
}

/** What the kernels use of BackendWasm to free their scratch memory. */
interface Disposer {
  disposeData?(dataId: object, force?: boolean): boolean;
}

/**
 * Row loops and scratch memory for one kernel call: SIMD with scratch in the wasm memory where
 * possible, else JavaScript loops with scratch in a plain array.
 */
function rowsFor(backendName: HostBackendName, backend: unknown, headDim: number) {
  const simd =
    backendName === 'wasm' && headDim % 4 === 0
      ? (wasmSimdInstance(backend, ROWS_SIMD_MODULE) as SimdRows | undefined)
      : undefined;
  const memory = memoryOf(backendName, backend);
  return {
    ops: simd === undefined ? JS_ROWS : simdRows(simd),
    /** Scratch for `size` floats: allocate before taking any view (see kernels.ts's Memory). */
    scratch(size: number): { info: TensorInfo | undefined; view: () => Float32Array; free: () => void } {
      if (simd === undefined) {
        const array = new Float32Array(size);
        return { info: undefined, view: () => array, free: () => undefined };
      }
      const info = memory.allocate([size]);
      return {
        info,
        view: () => memory.floats(info),
        free: () => (backend as Disposer).disposeData?.(info.dataId, true),
      };
    },
  };
}

function readAttrs(attrs: NamedAttrMap | undefined): AttentionAttrs {
  if (attrs === undefined) throw new Error('DriftAttention needs its attributes.');
  return attrs as unknown as AttentionAttrs;
}

/** For each batch row, the first key position whose mask is 1 (T if none): rows before it see no key. */
function firstTokens(mask: Int32Array, batch: number, time: number): Int32Array {
  const first = new Int32Array(batch);
  for (let row = 0; row < batch; row++) {
    let at = 0;
    while (at < time && mask[row * time + at] === 0) at++;
    first[row] = at;
  }
  return first;
}

function attentionKernel(backendName: HostBackendName): KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const { query, key, value, mask } = inputs as Record<string, TensorInfo | undefined>;
    if (!query || !key || !value || !mask) throw new Error('DriftAttention needs query, key, value and mask.');
    const { batch, time, heads, kvHeads, headDim: width, scale } = readAttrs(attrs);
    const memory = memoryOf(backendName, backend);
    const rows = rowsFor(backendName, backend, width);
    const outputInfo = memory.allocate([batch * time, heads * width]);
    const probsInfo = memory.allocate([batch, heads, time, time]);
    const output = memory.floats(outputInfo);
    const probs = memory.floats(probsInfo);
    const queries = memory.floats(query);
    const keys = memory.floats(key);
    const values = memory.floats(value);
    const visible = memory.ints(mask);
    const first = firstTokens(visible, batch, time);
    const queryRow = heads * width;
    const kvRow = kvHeads * width;
    const group = heads / kvHeads;
    for (let row = 0; row < batch; row++) {
      const maskAt = row * time;
      for (let head = 0; head < heads; head++) {
        const kvAt = row * time * kvRow + Math.floor(head / group) * width;
        for (let step = 0; step < time; step++) {
          const at = ((row * heads + head) * time + step) * time;
          const queryAt = (row * time + step) * queryRow + head * width;
          let count = step + 1;
          if (step < (first[row] as number)) {
            // No key visible: uniform over all T keys (the −1e9 bias makes every score equal).
            count = time;
            probs.fill(1 / time, at, at + time);
          } else {
            rows.ops.dots(queries, queryAt, keys, kvAt, count, width, kvRow, probs, at);
            let largest = -Infinity;
            for (let slot = 0; slot < count; slot++) {
              if (visible[maskAt + slot] === 0) continue;
              const score = (probs[at + slot] as number) * scale;
              probs[at + slot] = score;
              if (score > largest) largest = score;
            }
            let total = 0;
            for (let slot = 0; slot < count; slot++) {
              if (visible[maskAt + slot] === 0) {
                probs[at + slot] = 0;
                continue;
              }
              const weight = Math.exp((probs[at + slot] as number) - largest);
              probs[at + slot] = weight;
              total += weight;
            }
            const inverse = 1 / total;
            for (let slot = 0; slot < count; slot++) probs[at + slot] = (probs[at + slot] as number) * inverse;
            probs.fill(0, at + count, at + time);
          }
          rows.ops.weighted(probs, at, values, kvAt, count, width, kvRow, output, queryAt, false);
        }
      }
    }
    return [outputInfo, probsInfo];
  };
}

function attentionGradKernel(backendName: HostBackendName): KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const named = inputs as Record<string, TensorInfo | undefined>;
    const { dy, query, key, value, mask, probs: probsInfo } = named;
    if (!dy || !query || !key || !value || !mask || !probsInfo)
      throw new Error('DriftAttentionGrad needs dy, query, key, value, mask and probs.');
    const { batch, time, heads, kvHeads, headDim: width, scale } = readAttrs(attrs);
    const memory = memoryOf(backendName, backend);
    const rows = rowsFor(backendName, backend, width);
    const queryRow = heads * width;
    const kvRow = kvHeads * width;
    const dqInfo = memory.allocate([batch * time, queryRow]);
    const dkInfo = memory.allocate([batch * time, kvRow]);
    const dvInfo = memory.allocate([batch * time, kvRow]);
    // dSᵀ and Pᵀ of one head (T × T each), then one row of dP / dS (T).
    const scratchMemory = rows.scratch(2 * time * time + time);
    try {
      const scratch = scratchMemory.view();
      const dq = memory.floats(dqInfo);
      const dk = memory.floats(dkInfo).fill(0);
      const dv = memory.floats(dvInfo).fill(0);
      const gradients = memory.floats(dy);
      const queries = memory.floats(query);
      const keys = memory.floats(key);
      const values = memory.floats(value);
      const probs = memory.floats(probsInfo);
      const first = firstTokens(memory.ints(mask), batch, time);
      const group = heads / kvHeads;
      const transposedScores = 0;
      const transposedProbs = time * time;
      const rowAt = 2 * time * time;
      for (let row = 0; row < batch; row++) {
        const firstToken = first[row] as number;
        for (let head = 0; head < heads; head++) {
          const kvAt = row * time * kvRow + Math.floor(head / group) * width;
          for (let step = 0; step < time; step++) {
            const at = ((row * heads + head) * time + step) * time;
            const queryAt = (row * time + step) * queryRow + head * width;
            const count = step < firstToken ? time : step + 1;
            rows.ops.dots(gradients, queryAt, values, kvAt, count, width, kvRow, scratch, rowAt); // dP
            let weighted = 0;
            for (let slot = 0; slot < count; slot++)
              weighted += (probs[at + slot] as number) * (scratch[rowAt + slot] as number);
            for (let slot = 0; slot < count; slot++) {
              const probability = probs[at + slot] as number;
              const score = scale * probability * ((scratch[rowAt + slot] as number) - weighted);
              scratch[rowAt + slot] = score;
              scratch[transposedScores + slot * time + step] = score;
              scratch[transposedProbs + slot * time + step] = probability;
            }
            for (let slot = count; slot < time; slot++) {
              scratch[transposedScores + slot * time + step] = 0;
              scratch[transposedProbs + slot * time + step] = 0;
            }
            rows.ops.weighted(scratch, rowAt, keys, kvAt, count, width, kvRow, dq, queryAt, false); // dQ
          }
          // Column s of P and dS is nonzero from row s on (causal), and in the rows that see no key.
          for (let slot = 0; slot < time; slot++) {
            const start = firstToken > 0 ? 0 : slot;
            const from = (row * time + start) * queryRow + head * width;
            const target = (row * time + slot) * kvRow + Math.floor(head / group) * width;
            const count = time - start;
            rows.ops.weighted(scratch, transposedProbs + slot * time + start, gradients, from, count, width, queryRow, dv, target, true); // prettier-ignore
            rows.ops.weighted(scratch, transposedScores + slot * time + start, queries, from, count, width, queryRow, dk, target, true); // prettier-ignore
          }
        }
      }
    } finally {
      scratchMemory.free();
    }
    return [dqInfo, dkInfo, dvInfo];
  };
}

for (const backendName of HOST_BACKENDS) {
  if (tf.getKernel('DriftAttention', backendName) === undefined) {
    tf.registerKernel({ kernelName: 'DriftAttention', backendName, kernelFunc: attentionKernel(backendName) });
    tf.registerKernel({ kernelName: 'DriftAttentionGrad', backendName, kernelFunc: attentionGradKernel(backendName) });
  }
}
if (tf.getGradient('DriftAttention') === undefined) {
  tf.registerGradient({
    kernelName: 'DriftAttention',
    inputsToSave: ['query', 'key', 'value', 'mask'],
    outputsToSave: [false, true],
    gradFunc: (dy, saved, attrs) => {
      const [query, key, value, mask, probs] = saved as Tensor[];
      const output = Array.isArray(dy) ? (dy[0] as Tensor) : dy;
      // All three at once (one pass), outside the per-input scopes the tape calls these in.
      const [dq, dk, dv] = tf
        .engine()
        .runKernel('DriftAttentionGrad', { dy: output, query, key, value, mask, probs } as never, attrs) as Tensor[];
      return {
        query: () => dq as Tensor,
        key: () => dk as Tensor,
        value: () => dv as Tensor,
        mask: () => tf.zerosLike(mask as Tensor),
      };
    },
  });
}

/** Whether {@link fusedAttention} runs on the active backend (wasm and cpu; not native TensorFlow). */
export function fusedAttentionAvailable(): boolean {
  return (HOST_BACKENDS as readonly string[]).includes(tf.getBackend());
}

/**
 * Causal self-attention of T tokens per row, without a cache. query (B·T, H·D), key and value
 * (B·T, K·D) (heads side by side in each row, HF order), mask (B, T) int32 with 0 for padding (all
 * ones when undefined) → (B·T, H·D). Differentiable in query, key and value.
 */
export function fusedAttention(
  query: Tensor2D,
  key: Tensor2D,
  value: Tensor2D,
  options: { batch: number; heads: number; kvHeads: number; headDim: number; scale: number; mask?: Tensor2D },
): Tensor2D {
  const { batch, heads, kvHeads, headDim, scale } = options;
  const time = query.shape[0] / batch;
  return tf.tidy(() => {
    const mask = options.mask?.cast('int32') ?? tf.ones([batch, time], 'int32');
    const attrs: AttentionAttrs = { batch, time, heads, kvHeads, headDim, scale };
    const [output] = tf
      .engine()
      .runKernel('DriftAttention', { query, key, value, mask }, attrs as unknown as NamedAttrMap) as Tensor[];
    return output as Tensor2D;
  });
}
