/**
 * Fused inference kernels for generation on the backends that keep tensors in JavaScript-visible
 * memory (wasm: the module's heap; cpu: typed arrays). A decode step of a small model is dominated
 * by per-kernel overhead, not arithmetic (one GPT-2 token step of the bench's model ran 318 tfjs
 * kernels, mostly tiny element-wise ones; 104 with these, half of them free reshapes), so the pieces
 * between two matrix products run here as one kernel each, in plain loops over the tensors' memory:
 *
 * - `DriftResidualNorm`: residual addition and LayerNorm or RMSNorm in one pass.
 * - `DriftEmbed`: token (and position) embedding rows (wasm's GatherV2 takes ~80 µs for 16 rows).
 * - `DriftGeluArgument`: the argument of GPT-2's tanh GELU, computed as x · sigmoid(argument).
 * - `DriftCachedAttention`: q/k RMSNorm (Qwen3), rotary embeddings (Llama), writing the new keys and
 *   values into a preallocated cache in place (so the cache never grows by concatenation), and
 *   grouped-query attention over the cache with the causal and padding mask.
 *
 * They have no gradients: models use them only with a {@link StaticCache} (generation), never in
 * training. Arithmetic runs in float64 and is stored as float32, so results equal the tfjs ops'
 * within float32 rounding. Where the active backend has no such kernels (native TensorFlow), the
 * models keep their tfjs-op path; {@link fusedKernelsAvailable} tells which.
 */
import type {
  DataType,
  KernelConfig,
  KernelFunc,
  NamedAttrMap,
  Tensor,
  Tensor1D,
  Tensor2D,
  Tensor4D,
  TensorInfo,
} from '@tensorflow/tfjs';
import { tf } from '../compute/tf.js';

/** The backends whose tensor memory the kernels read and write. */
export const HOST_BACKENDS = ['wasm', 'cpu'] as const;

export type HostBackendName = (typeof HOST_BACKENDS)[number];

/** What the kernels use of tfjs-backend-wasm's BackendWasm. */
interface WasmBackendLike {
  makeOutput(shape: number[], dtype: DataType): TensorInfo;
  typedArrayFromHeap(info: TensorInfo): Float32Array | Int32Array | Uint8Array;
}

/** What the kernels use of tfjs-backend-cpu's MathBackendCPU. */
interface CpuBackendLike {
  data: { get(dataId: object): { values?: unknown } | undefined };
  makeTensorInfo(shape: number[], dtype: DataType, values?: Float32Array): TensorInfo;
}

/**
 * Views of tensor memory on one backend. Outputs must all be allocated before any view is taken: on
 * wasm an allocation can grow the heap, which detaches earlier views.
 */
export interface Memory {
  allocate(shape: number[]): TensorInfo;
  floats(info: TensorInfo): Float32Array;
  ints(info: TensorInfo): Int32Array;
}

export function memoryOf(backendName: HostBackendName, backend: unknown): Memory {
  if (backendName === 'wasm') {
    const wasm = backend as WasmBackendLike;
    return {
      allocate: (shape) => wasm.makeOutput(shape, 'float32'),
      floats: (info) => wasm.typedArrayFromHeap(info) as Float32Array,
      ints: (info) => wasm.typedArrayFromHeap(info) as Int32Array,
    };
  }
  const cpu = backend as CpuBackendLike;
  const values = (info: TensorInfo) => {
    const stored = cpu.data.get(info.dataId)?.values;
    if (!(stored instanceof Float32Array || stored instanceof Int32Array)) {
      throw new Error(`A fused kernel cannot read a ${info.dtype} tensor on the cpu backend.`);
    }
    return stored;
  };
  return {
    allocate: (shape) => cpu.makeTensorInfo(shape, 'float32', new Float32Array(shape.reduce((a, b) => a * b, 1))),
    floats: (info) => values(info) as Float32Array,
    ints: (info) => values(info) as Int32Array,
  };
}

function checkDtype(info: TensorInfo, dtype: DataType, what: string): void {
  if (info.dtype !== dtype) throw new Error(`${what} must be ${dtype}, not ${info.dtype}.`);
}

// ---------------------------------------------------------------------------------------------
// Residual addition and normalisation

interface ResidualNormAttrs {
  epsilon: number;
  /** 'layer': LayerNorm (torch.nn.LayerNorm, biased variance); 'rms': RMSNorm (HF LlamaRMSNorm). */
  kind: 'layer' | 'rms';
}

/**
 * x (N, d) [+ residual (N, d)] → [sum (N, d),] norm(sum) · weight [+ bias]. Without a residual the
 * only output is the normalised x.
 */
function residualNormKernel(backendName: HostBackendName): KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const { x, residual, weight, bias } = inputs as Record<string, TensorInfo | undefined>;
    const { epsilon, kind } = attrs as unknown as ResidualNormAttrs;
    if (x === undefined || weight === undefined) throw new Error('DriftResidualNorm needs x and weight.');
    checkDtype(x, 'float32', 'x');
    const memory = memoryOf(backendName, backend);
    const width = x.shape[x.shape.length - 1] ?? 0;
    const sumInfo = residual === undefined ? undefined : memory.allocate([...x.shape]);
    const normedInfo = memory.allocate([...x.shape]);
    const source = memory.floats(x);
    const added = residual === undefined ? undefined : memory.floats(residual);
    const sum = sumInfo === undefined ? undefined : memory.floats(sumInfo);
    const normed = memory.floats(normedInfo);
    const gamma = memory.floats(weight);
    const beta = bias === undefined ? undefined : memory.floats(bias);
    if (added !== undefined && sum !== undefined) {
      for (let index = 0; index < source.length; index++)
        sum[index] = (source[index] as number) + (added[index] as number);
    }
    normalizeRows(sum ?? source, normed, gamma, beta, width, epsilon, kind === 'layer');
    return sumInfo === undefined ? [normedInfo] : [sumInfo, normedInfo];
  };
}

/** Each row of `values` (rows of `width`), centred when `center`, over √(mean square + ε), times gamma, plus beta. */
function normalizeRows(
  values: Float32Array,
  normed: Float32Array,
  gamma: Float32Array,
  beta: Float32Array | undefined,
  width: number,
  epsilon: number,
  center: boolean,
): void {
  for (let offset = 0; offset < values.length; offset += width) {
    let mean = 0;
    if (center) {
      for (let column = 0; column < width; column++) mean += values[offset + column] as number;
      mean /= width;
    }
    let squares = 0;
    for (let column = 0; column < width; column++) {
      const deviation = (values[offset + column] as number) - mean;
      squares += deviation * deviation;
    }
    const scale = 1 / Math.sqrt(squares / width + epsilon);
    if (beta === undefined) {
      for (let column = 0; column < width; column++)
        normed[offset + column] = ((values[offset + column] as number) - mean) * scale * (gamma[column] as number);
    } else {
      for (let column = 0; column < width; column++)
        normed[offset + column] =
          ((values[offset + column] as number) - mean) * scale * (gamma[column] as number) + (beta[column] as number);
    }
  }
}

/**
 * (hidden + delta, norm(hidden + delta)) in one kernel, or norm(hidden) without a delta. LayerNorm
 * with `bias`, RMSNorm without.
 */
export function residualNorm(
  hidden: Tensor2D,
  delta: Tensor2D | undefined,
  weight: Tensor1D,
  bias: Tensor1D | undefined,
  epsilon: number,
  kind: 'layer' | 'rms',
): { sum: Tensor2D; normed: Tensor2D } {
  const inputs: Record<string, Tensor> = { x: hidden, weight };
  if (delta !== undefined) inputs['residual'] = delta;
  if (bias !== undefined) inputs['bias'] = bias;
  const attrs: ResidualNormAttrs = { epsilon, kind };
  const outputs = tf
    .engine()
    .runKernel('DriftResidualNorm', inputs, attrs as unknown as NamedAttrMap) as unknown as Tensor2D[];
  const [first, second] = outputs as [Tensor2D, Tensor2D | undefined];
  return second === undefined ? { sum: hidden, normed: first } : { sum: first, normed: second };
}

// ---------------------------------------------------------------------------------------------
// GELU

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

/** z = 2·√(2/π)·(x + 0.044715·x³), so that GPT-2's GELU 0.5·x·(1 + tanh(z / 2)) is x · sigmoid(z). */
function geluArgumentKernel(backendName: HostBackendName): KernelFunc {
  return ({ inputs, backend }) => {
    const { x } = inputs as { x: TensorInfo };
    checkDtype(x, 'float32', 'x');
    const memory = memoryOf(backendName, backend);
    const outputInfo = memory.allocate([...x.shape]);
    const source = memory.floats(x);
    const output = memory.floats(outputInfo);
    for (let index = 0; index < source.length; index++) {
      const value = source[index] as number;
      output[index] = 2 * SQRT_2_OVER_PI * (value + 0.044715 * value * value * value);
    }
    return outputInfo;
  };
}

/**
 * GPT-2's GELU, 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))), computed as x · sigmoid(2·√(2/π)·(…)):
 * the same function, in three kernels, with the sigmoid on XNNPACK's vectorised kernel (wasm's Tanh,
 * and V8's Math.tanh and Math.exp, are several times slower).
 */
export function geluTanhFused<T extends Tensor>(x: T): T {
  const argument = tf.engine().runKernel('DriftGeluArgument', { x }, {}) as T;
  return x.mul(tf.sigmoid(argument));
}

// ---------------------------------------------------------------------------------------------
// Embeddings

/** Rows of `table` (V, d) at `ids` (N), plus rows of `positionTable` at `positions` (N) when given → (N, d). */
function embedKernel(backendName: HostBackendName): KernelFunc {
  return ({ inputs, backend }) => {
    const { table, ids, positionTable, positions } = inputs as Record<string, TensorInfo | undefined>;
    if (table === undefined || ids === undefined) throw new Error('DriftEmbed needs table and ids.');
    checkDtype(ids, 'int32', 'ids');
    const [rows = 0, width = 0] = table.shape;
    const count = ids.shape[0] ?? 0;
    const memory = memoryOf(backendName, backend);
    const outputInfo = memory.allocate([count, width]);
    const output = memory.floats(outputInfo);
    const tokens = memory.floats(table);
    const tokenIds = memory.ints(ids);
    const added = positionTable === undefined ? undefined : memory.floats(positionTable);
    const addedIds = positions === undefined ? undefined : memory.ints(positions);
    const addedRows = positionTable?.shape[0] ?? 0;
    for (let row = 0; row < count; row++) {
      const id = tokenIds[row] as number;
      if (id < 0 || id >= rows) throw new Error(`Token id ${id} is outside the table's ${rows} rows.`);
      const from = id * width;
      const to = row * width;
      if (added === undefined || addedIds === undefined) {
        for (let column = 0; column < width; column++) output[to + column] = tokens[from + column] as number;
        continue;
      }
      const position = addedIds[row] as number;
      if (position < 0 || position >= addedRows)
        throw new Error(`Position ${position} is outside the table's ${addedRows} rows.`);
      const at = position * width;
      for (let column = 0; column < width; column++)
        output[to + column] = Math.fround((tokens[from + column] as number) + (added[at + column] as number));
    }
    return outputInfo;
  };
}

/** table[ids] (+ positionTable[positions]) as one kernel: ids and positions (N) int32 → (N, d). */
export function embed(table: Tensor2D, ids: Tensor1D, position?: { table: Tensor2D; ids: Tensor1D }): Tensor2D {
  const inputs: Record<string, Tensor> = { table, ids };
  if (position !== undefined) {
    inputs['positionTable'] = position.table;
    inputs['positions'] = position.ids;
  }
  return tf.engine().runKernel('DriftEmbed', inputs, {}) as Tensor2D;
}

// ---------------------------------------------------------------------------------------------
// Attention over a preallocated cache

interface CachedAttentionAttrs {
  batch: number;
  time: number;
  /** Tokens already in the cache; the new ones go to positions past … past + time − 1. */
  past: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  scale: number;
  /** Where each head block starts in a row of query, key and value (a fused q/k/v product passes one tensor thrice). */
  queryOffset: number;
  keyOffset: number;
  valueOffset: number;
  /** ε of the q/k RMSNorm (used only with queryNorm and keyNorm inputs). */
  normEpsilon: number;
}

/**
 * The two inner loops of attention in WebAssembly SIMD (4 float32 lanes), run on the wasm backend's
 * own memory (the module imports it), so the cache is read where it lies. The bytes are this
 * module, assembled (e.g. by wabt's wat2wasm):
 *
 *   (module
 *     (import "env" "memory" (memory 1))
 *     ;; out[s] = Σ_d query[d] · keys[s·width + d] for s < count (pointers in bytes, width in bytes, a multiple of 16)
 *     (func (export "dots") (param $query i32) (param $keys i32) (param $count i32) (param $width i32) (param $out i32)
 *       (local $d i32) (local $sum v128)
 *       (block $done (br_if $done (i32.eqz (local.get $count)))
 *         (loop $slots
 *           (local.set $sum (v128.const i32x4 0 0 0 0)) (local.set $d (i32.const 0))
 *           (loop $dims
 *             (local.set $sum (f32x4.add (local.get $sum) (f32x4.mul
 *               (v128.load (i32.add (local.get $query) (local.get $d)))
 *               (v128.load (i32.add (local.get $keys) (local.get $d))))))
 *             (br_if $dims (i32.lt_u (local.tee $d (i32.add (local.get $d) (i32.const 16))) (local.get $width))))
 *           (f32.store (local.get $out) (f32.add (f32.add (f32.add
 *             (f32x4.extract_lane 0 (local.get $sum)) (f32x4.extract_lane 1 (local.get $sum)))
 *             (f32x4.extract_lane 2 (local.get $sum))) (f32x4.extract_lane 3 (local.get $sum))))
 *           (local.set $out (i32.add (local.get $out) (i32.const 4)))
 *           (local.set $keys (i32.add (local.get $keys) (local.get $width)))
 *           (br_if $slots (local.tee $count (i32.sub (local.get $count) (i32.const 1)))))))
 *     ;; out[d] = Σ_s weights[s] · values[s·width + d] for d < width
 *     (func (export "weighted") (param $weights i32) (param $values i32) (param $count i32) (param $width i32) (param $out i32)
 *       (local $d i32) (local $s i32) (local $sum v128) (local $value i32) (local $weight i32)
 *       (local.set $d (i32.const 0))
 *       (loop $dims
 *         (local.set $sum (v128.const i32x4 0 0 0 0))
 *         (local.set $value (i32.add (local.get $values) (local.get $d)))
 *         (local.set $weight (local.get $weights)) (local.set $s (local.get $count))
 *         (block $empty (br_if $empty (i32.eqz (local.get $s)))
 *           (loop $slots
 *             (local.set $sum (f32x4.add (local.get $sum) (f32x4.mul
 *               (f32x4.splat (f32.load (local.get $weight))) (v128.load (local.get $value)))))
 *             (local.set $weight (i32.add (local.get $weight) (i32.const 4)))
 *             (local.set $value (i32.add (local.get $value) (local.get $width)))
 *             (br_if $slots (local.tee $s (i32.sub (local.get $s) (i32.const 1))))))
 *         (v128.store (i32.add (local.get $out) (local.get $d)) (local.get $sum))
 *         (br_if $dims (i32.lt_u (local.tee $d (i32.add (local.get $d) (i32.const 16))) (local.get $width))))))
 */
const ATTENTION_SIMD_MODULE =
  'AGFzbQEAAAABCQFgBX9/f39/AAIPAQNlbnYGbWVtb3J5AgABAwMCAAAHEwIEZG90cwAACHdlaWdodGVkAAEKjgIChwECAX8BewJAIAJFDQADQP0MAAAAAAAAAAAAAAAAAAAAACEGQQAhBQNAIAYgACAFav0AAAAgASAFav0AAAD95gH95AEhBiAFQRBqIgUgA0kNAAsgBCAG/R8AIAb9HwGSIAb9HwKSIAb9HwOSOAIAIARBBGohBCABIANqIQEgAkEBayICDQALCwuCAQMCfwF7An9BACEFA0D9DAAAAAAAAAAAAAAAAAAAAAAhByABIAVqIQggACEJIAIhBgJAIAZFDQADQCAHIAkqAgD9EyAI/QAAAP3mAf3kASEHIAlBBGohCSAIIANqIQggBkEBayIGDQALCyAEIAVqIAf9CwAAIAVBEGoiBSADSQ0ACws=';

interface SimdAttention {
  dots(query: number, keys: number, count: number, widthBytes: number, out: number): void;
  weighted(weights: number, values: number, count: number, widthBytes: number, out: number): void;
}

/** What the SIMD path uses of BackendWasm besides {@link WasmBackendLike}. */
interface WasmInternals {
  wasm?: { asm?: { memory?: unknown } };
  getMemoryOffset?(dataId: object): number;
  disposeData?(dataId: object, force?: boolean): boolean;
}

/** The WebAssembly API of the JavaScript engine (not in this project's TypeScript libraries). */
interface WebAssemblyApi {
  Memory: abstract new (...args: never[]) => object;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: object };
  validate(bytes: Uint8Array): boolean;
}

const webAssembly = (globalThis as unknown as { WebAssembly: WebAssemblyApi }).WebAssembly;

const instancesByMemory = new WeakMap<object, Map<string, object | null>>();

/**
 * The exports of a WebAssembly SIMD module (base64) that imports the wasm backend's memory as
 * env.memory, instantiated once per memory, or undefined where it cannot run (no WebAssembly SIMD,
 * or a tfjs-backend-wasm whose internals differ): callers then run their loops in JavaScript.
 */
export function wasmSimdInstance(backend: unknown, moduleBase64: string): object | undefined {
  const internals = backend as WasmInternals;
  const memory = internals.wasm?.asm?.memory;
  if (!(memory instanceof webAssembly.Memory) || !internals.getMemoryOffset || !internals.disposeData) return undefined;
  let byModule = instancesByMemory.get(memory);
  if (byModule === undefined) {
    byModule = new Map();
    instancesByMemory.set(memory, byModule);
  }
  let exports = byModule.get(moduleBase64);
  if (exports === undefined) {
    exports = null;
    const bytes = Buffer.from(moduleBase64, 'base64');
    if (webAssembly.validate(bytes)) {
      exports = new webAssembly.Instance(new webAssembly.Module(bytes), { env: { memory } }).exports;
    }
    byModule.set(moduleBase64, exports);
  }
  return exports ?? undefined;
}

/** The cache attention's SIMD loops bound to the wasm backend's memory (see {@link wasmSimdInstance}). */
function simdFor(backend: unknown): SimdAttention | undefined {
  return wasmSimdInstance(backend, ATTENTION_SIMD_MODULE) as SimdAttention | undefined;
}

function cachedAttentionKernel(backendName: HostBackendName): KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const named = inputs as Record<string, TensorInfo | undefined>;
    const { query, key, value, cacheKey, cacheValue } = named;
    if (!query || !key || !value || !cacheKey || !cacheValue)
      throw new Error('DriftCachedAttention is missing inputs.');
    const settings = attrs as unknown as CachedAttentionAttrs;
    const { batch, time, past, heads, kvHeads, headDim: width, scale } = settings;
    const capacity = cacheKey.shape[2] ?? 0;
    if (past + time > capacity) throw new Error(`The cache holds ${capacity} positions; ${past + time} are needed.`);
    checkDtype(cacheKey, 'float32', 'cacheKey');
    checkDtype(cacheValue, 'float32', 'cacheValue');
    const memory = memoryOf(backendName, backend);
    const simd = backendName === 'wasm' && width % 4 === 0 ? simdFor(backend) : undefined;
    const outputInfo = memory.allocate([batch * time, heads * width]);
    // The SIMD loops' query and scores, in the wasm memory (freed below).
    const scratchInfo = simd === undefined ? undefined : memory.allocate([width + past + time]);
    const output = memory.floats(outputInfo);
    const scratch = scratchInfo === undefined ? undefined : memory.floats(scratchInfo);
    const pointers =
      scratchInfo === undefined
        ? undefined
        : simdPointers(backend, scratchInfo, cacheKey, cacheValue, outputInfo, width);
    const queries = memory.floats(query);
    const newKeys = memory.floats(key);
    const newValues = memory.floats(value);
    const keys = memory.floats(cacheKey);
    const values = memory.floats(cacheValue);
    const mask = named['mask'] === undefined ? undefined : memory.ints(named['mask']);
    const positions = named['positions'] === undefined ? undefined : memory.ints(named['positions']);
    const frequencies =
      named['inverseFrequencies'] === undefined ? undefined : memory.floats(named['inverseFrequencies']);
    const queryNorm = named['queryNorm'] === undefined ? undefined : memory.floats(named['queryNorm']);
    const keyNorm = named['keyNorm'] === undefined ? undefined : memory.floats(named['keyNorm']);
    const queryRow = (query.shape[1] ?? 0) as number;
    const keyRow = (key.shape[1] ?? 0) as number;
    const valueRow = (value.shape[1] ?? 0) as number;
    const keysSeen = past + time;
    const group = heads / kvHeads;
    const half = width / 2;
    const vector = new Float64Array(width);
    const cos = new Float64Array(half);
    const sin = new Float64Array(half);
    const scores = new Float64Array(keysSeen);
    const accumulator = new Float64Array(width);

    const epsilon = settings.normEpsilon;
    const rotate = frequencies !== undefined;
    try {
      for (let row = 0; row < batch; row++) {
        for (let step = 0; step < time; step++) {
          const token = row * time + step;
          const position = past + step;
          if (frequencies !== undefined && positions !== undefined) {
            const at = positions[token] as number;
            for (let index = 0; index < half; index++) {
              const angle = Math.fround(at * (frequencies[index] as number));
              cos[index] = Math.fround(Math.cos(angle));
              sin[index] = Math.fround(Math.sin(angle));
            }
          }
          for (let head = 0; head < kvHeads; head++) {
            const slot = ((row * kvHeads + head) * capacity + position) * width;
            loadHead(
              newKeys,
              token * keyRow + settings.keyOffset + head * width,
              vector,
              keyNorm,
              epsilon,
              rotate,
              cos,
              sin,
            );
            for (let index = 0; index < width; index++) keys[slot + index] = vector[index] as number;
            const from = token * valueRow + settings.valueOffset + head * width;
            for (let index = 0; index < width; index++) values[slot + index] = newValues[from + index] as number;
          }
          // Query `step` sees the cached keys and the new ones up to itself, except padding.
          const visible = position + 1;
          const maskOffset = row * keysSeen;
          for (let head = 0; head < heads; head++) {
            loadHead(
              queries,
              token * queryRow + settings.queryOffset + head * width,
              vector,
              queryNorm,
              epsilon,
              rotate,
              cos,
              sin,
            );
            const base = (row * kvHeads + Math.floor(head / group)) * capacity * width;
            const out = token * heads * width + head * width;
            if (simd !== undefined && pointers !== undefined && scratch !== undefined) {
              attendOneSimd(
                simd,
                pointers,
                scratch,
                vector,
                base,
                out,
                visible,
                width,
                scale,
                mask,
                maskOffset,
                output,
              );
              continue;
            }
            attendOne(vector, keys, values, base, visible, width, scale, mask, maskOffset, scores, accumulator);
            for (let index = 0; index < width; index++) output[out + index] = accumulator[index] as number;
          }
        }
      }
    } finally {
      if (scratchInfo !== undefined) (backend as WasmInternals).disposeData?.(scratchInfo.dataId, true);
    }
    return outputInfo;
  };
}

/** Loads a head's D values from `source` at `offset` into `vector`, RMS-normalised (with `norm`) and rotated (with `rotate`). */
function loadHead(
  source: Float32Array,
  offset: number,
  vector: Float64Array,
  norm: Float32Array | undefined,
  epsilon: number,
  rotate: boolean,
  cos: Float64Array,
  sin: Float64Array,
): void {
  const width = vector.length;
  for (let index = 0; index < width; index++) vector[index] = source[offset + index] as number;
  if (norm !== undefined) {
    let squares = 0;
    for (let index = 0; index < width; index++) squares += (vector[index] as number) * (vector[index] as number);
    const factor = 1 / Math.sqrt(squares / width + epsilon);
    for (let index = 0; index < width; index++)
      vector[index] = Math.fround((vector[index] as number) * factor) * (norm[index] as number);
  }
  if (rotate) {
    const half = width / 2;
    for (let index = 0; index < half; index++) {
      const first = vector[index] as number;
      const second = vector[index + half] as number;
      vector[index] = first * (cos[index] as number) - second * (sin[index] as number);
      vector[index + half] = second * (cos[index] as number) + first * (sin[index] as number);
    }
  }
}

/**
 * One query over `visible` cached positions of one key/value head (starting at `base`): softmax of
 * the scaled dot products (masked slots left out) times the values, into `accumulator` (zeros when
 * every slot is masked). Four slots at a time, with independent sums, for instruction-level
 * parallelism: about twice as fast in V8 as one running sum.
 */
function attendOne(
  query: Float64Array,
  keys: Float32Array,
  values: Float32Array,
  base: number,
  visible: number,
  width: number,
  scale: number,
  mask: Int32Array | undefined,
  maskOffset: number,
  scores: Float64Array,
  accumulator: Float64Array,
): void {
  let slot = 0;
  for (; slot + 4 <= visible; slot += 4) {
    const k0 = base + slot * width;
    const k1 = k0 + width;
    const k2 = k1 + width;
    const k3 = k2 + width;
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    for (let index = 0; index < width; index++) {
      const q = query[index] as number;
      s0 += q * (keys[k0 + index] as number);
      s1 += q * (keys[k1 + index] as number);
      s2 += q * (keys[k2 + index] as number);
      s3 += q * (keys[k3 + index] as number);
    }
    scores[slot] = s0 * scale;
    scores[slot + 1] = s1 * scale;
    scores[slot + 2] = s2 * scale;
    scores[slot + 3] = s3 * scale;
  }
  for (; slot < visible; slot++) {
    const start = base + slot * width;
    let sum = 0;
    for (let index = 0; index < width; index++) sum += (query[index] as number) * (keys[start + index] as number);
    scores[slot] = sum * scale;
  }
  let largest = -Infinity;
  for (slot = 0; slot < visible; slot++) {
    if (mask !== undefined && mask[maskOffset + slot] === 0) scores[slot] = -Infinity;
    else if ((scores[slot] as number) > largest) largest = scores[slot] as number;
  }
  accumulator.fill(0);
  if (largest === -Infinity) return;
  let total = 0;
  for (slot = 0; slot < visible; slot++) {
    const weight = Math.exp((scores[slot] as number) - largest);
    scores[slot] = weight;
    total += weight;
  }
  slot = 0;
  for (; slot + 4 <= visible; slot += 4) {
    const w0 = scores[slot] as number;
    const w1 = scores[slot + 1] as number;
    const w2 = scores[slot + 2] as number;
    const w3 = scores[slot + 3] as number;
    const v0 = base + slot * width;
    const v1 = v0 + width;
    const v2 = v1 + width;
    const v3 = v2 + width;
    for (let index = 0; index < width; index++) {
      accumulator[index] =
        (accumulator[index] as number) +
        w0 * (values[v0 + index] as number) +
        w1 * (values[v1 + index] as number) +
        w2 * (values[v2 + index] as number) +
        w3 * (values[v3 + index] as number);
    }
  }
  for (; slot < visible; slot++) {
    const weight = scores[slot] as number;
    const start = base + slot * width;
    for (let index = 0; index < width; index++)
      accumulator[index] = (accumulator[index] as number) + weight * (values[start + index] as number);
  }
  const inverse = 1 / total;
  for (let index = 0; index < width; index++) accumulator[index] = (accumulator[index] as number) * inverse;
}

/** Byte addresses in the wasm memory of what the SIMD loops read and write. */
interface SimdPointers {
  query: number;
  scores: number;
  keys: number;
  values: number;
  output: number;
}

function simdPointers(
  backend: unknown,
  scratch: TensorInfo,
  cacheKey: TensorInfo,
  cacheValue: TensorInfo,
  output: TensorInfo,
  width: number,
): SimdPointers {
  const offset = (info: TensorInfo) => (backend as Required<WasmInternals>).getMemoryOffset(info.dataId);
  const query = offset(scratch);
  return {
    query,
    scores: query + width * 4,
    keys: offset(cacheKey),
    values: offset(cacheValue),
    output: offset(output),
  };
}

/**
 * {@link attendOne} with the products in WebAssembly SIMD: the query goes to the scratch memory,
 * scores come back from it, the softmax weights go to it, and the weighted values are written to
 * the output at element `out`, then divided by the weights' sum here.
 */
function attendOneSimd(
  simd: SimdAttention,
  pointers: SimdPointers,
  scratch: Float32Array,
  query: Float64Array,
  base: number,
  out: number,
  visible: number,
  width: number,
  scale: number,
  mask: Int32Array | undefined,
  maskOffset: number,
  output: Float32Array,
): void {
  for (let index = 0; index < width; index++) scratch[index] = query[index] as number;
  simd.dots(pointers.query, pointers.keys + base * 4, visible, width * 4, pointers.scores);
  let largest = -Infinity;
  for (let slot = 0; slot < visible; slot++) {
    const at = width + slot;
    if (mask !== undefined && mask[maskOffset + slot] === 0) scratch[at] = -Infinity;
    else {
      const score = (scratch[at] as number) * scale;
      scratch[at] = score;
      if (score > largest) largest = score;
    }
  }
  if (largest === -Infinity) {
    for (let index = 0; index < width; index++) output[out + index] = 0;
    return;
  }
  let total = 0;
  for (let slot = 0; slot < visible; slot++) {
    const weight = Math.exp((scratch[width + slot] as number) - largest);
    scratch[width + slot] = weight;
    total += Math.fround(weight);
  }
  simd.weighted(pointers.scores, pointers.values + base * 4, visible, width * 4, pointers.output + out * 4);
  const inverse = 1 / total;
  for (let index = 0; index < width; index++) output[out + index] = (output[out + index] as number) * inverse;
}

/** The inputs of {@link cachedAttention} besides the cache. */
export interface CachedAttentionInputs {
  /** (B·T, …) rows holding each query head's D values from `queryOffset` on; likewise key and value. */
  query: Tensor2D;
  key: Tensor2D;
  value: Tensor2D;
  queryOffset?: number;
  keyOffset?: number;
  valueOffset?: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  scale: number;
  /** (B, past + T) int32: 0 for padding, never attended to. */
  mask?: Tensor2D;
  /** With rotary embeddings: (B, T) int32 positions and the (D / 2) inverse frequencies. */
  rotary?: { positions: Tensor2D; inverseFrequencies: Tensor1D };
  /** Qwen3's per-head RMSNorm of queries and keys (before the rotation). */
  queryKeyNorm?: { query: Tensor1D; key: Tensor1D; epsilon: number };
}

/**
 * Causal attention of T new tokens per row over `past` cached ones: writes the new keys (normed
 * and rotated as asked) and values into `cacheKey` and `cacheValue` (B, K, capacity, D) at
 * positions past … past + T − 1, in place, and returns (B·T, H·D), heads in HF order.
 */
export function cachedAttention(
  inputs: CachedAttentionInputs,
  cacheKey: Tensor4D,
  cacheValue: Tensor4D,
  past: number,
): Tensor2D {
  const [batch] = cacheKey.shape;
  const time = inputs.query.shape[0] / batch;
  const tensors: Record<string, Tensor> = {
    query: inputs.query,
    key: inputs.key,
    value: inputs.value,
    cacheKey,
    cacheValue,
  };
  if (inputs.mask !== undefined) tensors['mask'] = inputs.mask;
  if (inputs.rotary !== undefined) {
    tensors['positions'] = inputs.rotary.positions;
    tensors['inverseFrequencies'] = inputs.rotary.inverseFrequencies;
  }
  if (inputs.queryKeyNorm !== undefined) {
    tensors['queryNorm'] = inputs.queryKeyNorm.query;
    tensors['keyNorm'] = inputs.queryKeyNorm.key;
  }
  const attrs: CachedAttentionAttrs = {
    batch,
    time,
    past,
    heads: inputs.heads,
    kvHeads: inputs.kvHeads,
    headDim: inputs.headDim,
    scale: inputs.scale,
    queryOffset: inputs.queryOffset ?? 0,
    keyOffset: inputs.keyOffset ?? 0,
    valueOffset: inputs.valueOffset ?? 0,
    normEpsilon: inputs.queryKeyNorm?.epsilon ?? 0,
  };
  return tf.engine().runKernel('DriftCachedAttention', tensors, attrs as unknown as NamedAttrMap) as Tensor2D;
}

// ---------------------------------------------------------------------------------------------
// Registration

const KERNELS: readonly [string, (backendName: HostBackendName) => KernelFunc][] = [
  ['DriftResidualNorm', residualNormKernel],
  ['DriftGeluArgument', geluArgumentKernel],
  ['DriftEmbed', embedKernel],
  ['DriftCachedAttention', cachedAttentionKernel],
];

for (const backendName of HOST_BACKENDS) {
  for (const [kernelName, make] of KERNELS) {
    if (tf.getKernel(kernelName, backendName) === undefined) {
      const config: KernelConfig = { kernelName, backendName, kernelFunc: make(backendName) };
      tf.registerKernel(config);
    }
  }
}

/** Whether the active backend runs the fused kernels (wasm and cpu do; native TensorFlow does not). */
export function fusedKernelsAvailable(): boolean {
  return (HOST_BACKENDS as readonly string[]).includes(tf.getBackend());
}
