/**
 * Gradient check of the current backend: analytic gradients (tfjs autodiff, through every kernel and
 * shim the backend uses) against central finite differences, on a tiny transformer block:
 *
 *   token embedding (gather, repeated ids) → layer norm (gain, bias) → causal 2-head self-attention
 *   (query/key/value/output projections, masked softmax) → residual → loss = Σ output ⊙ R
 *
 * R is a fixed random tensor, so every output entry reaches the loss with its own weight. Repeated
 * token ids make the embedding gradient accumulate several rows into one (UnsortedSegmentSum, the
 * kernel the wasm backend lacks and ./shims.ts supplies).
 */
import type { Tensor } from '@tensorflow/tfjs';
import { tf } from './tf.js';
import { mulberry32 } from './mulberry32.js';

export interface GradCheckOptions {
  /** Seeds the parameters, the token ids and the sampled entries. Default 1. */
  seed?: number;
  /** Called after each checked entry. */
  onProgress?: (done: number, total: number) => void;
  /** Aborting stops the check between entries (throws the signal's reason). */
  signal?: AbortSignal;
  /**
   * Test hook: multiplies the analytic gradient of one parameter by `factor` before comparing, to
   * prove that the check fails when a gradient is wrong.
   */
  corrupt?: { parameter: string; factor: number };
}

export interface ParameterCheck {
  name: string;
  shape: number[];
  /** Entries compared against finite differences. */
  checked: number;
  maxAbsError: number;
  maxRelError: number;
}

export interface GradCheckReport {
  /** The tfjs backend the check ran on (tf.getBackend()). */
  backend: string;
  parameters: ParameterCheck[];
  maxRelError: number;
  tolerance: number;
  /** Finite-difference step. */
  epsilon: number;
  seed: number;
  passed: boolean;
}

// Block size: small enough that the whole check takes well under a second, large enough that every
// part of the block (two heads, masking, several positions, repeated and unused vocabulary rows) is
// exercised.
const VOCABULARY = 13;
const USED_VOCABULARY = 6; // ids are drawn from the first 6 rows: 12 draws from 6 values must repeat
const WIDTH = 8;
const HEADS = 2;
const HEAD_WIDTH = WIDTH / HEADS;
const BATCH = 2;
const CONTEXT = 6;
const ENTRIES_PER_PARAMETER = 6;
const NORM_EPSILON = 1e-5;

/**
 * Finite-difference step. The five-point stencil's truncation error is O(ε⁴) and the float32
 * rounding of the loss (about 1e-6 on a loss of order 10) enters divided by ε, so a fairly large ε
 * wins: measured over 40 seeds, ε = 4e-2 keeps the worst relative error of correct gradients at
 * 1.7e-3 on wasm and 3e-4 on cpu (ε = 1e-2 with the two-point stencil reached 1e-2 on wasm).
 */
const EPSILON = 4e-2;
/**
 * Relative error |a − n| / max(|a| + |n|, FLOOR), passed below TOLERANCE. The block is built so that
 * gradients are of order 0.1 to 1 (unit-scale parameters and read-out), so the floor of 0.1 is small
 * against them; it keeps entries whose true gradient is near zero from turning float32 noise
 * (≈ 5e-5 absolute on wasm) into large relative errors. A gradient off by 5 % measures 2.4e-2, a
 * missing or misplaced contribution far more.
 */
const TOLERANCE = 1e-2;
const FLOOR = 1e-1;

/** Parameter names, in the order the loss function takes them. */
const PARAMETERS = [
  'embedding',
  'norm.gain',
  'norm.bias',
  'attention.query',
  'attention.key',
  'attention.value',
  'attention.output',
] as const;

interface Parameter {
  name: string;
  shape: number[];
  values: Float32Array;
}

/**
 * Compares analytic and finite-difference gradients of every parameter of the tiny block on the
 * current backend. Leaves no tensors behind.
 */
export async function checkGradients(options: GradCheckOptions = {}): Promise<GradCheckReport> {
  const seed = options.seed ?? 1;
  const random = mulberry32(seed);
  const parameters = initialParameters(random);
  const ids = Array.from({ length: BATCH * CONTEXT }, () => Math.floor(random() * USED_VOCABULARY));
  const readout = gaussian(random, BATCH * CONTEXT * WIDTH, 1);
  const samples = parameters.map((parameter) => sampleEntries(parameter, ids, random));
  const total = samples.reduce((sum, entries) => sum + entries.length, 0);

  const constants = {
    ids: tf.tensor2d(ids, [BATCH, CONTEXT], 'int32'),
    readout: tf.tensor3d(readout, [BATCH, CONTEXT, WIDTH]),
    // 0 on and below the diagonal, −1e9 above it: position t attends to positions ≤ t.
    maskBias: tf.tidy(() =>
      tf.linalg
        .bandPart(tf.ones([CONTEXT, CONTEXT]), -1, 0)
        .sub(1)
        .mul(1e9),
    ),
  };
  const loss = (...tensors: Tensor[]): Tensor => blockLoss(tensors, constants);

  try {
    const analytic = await analyticGradients(parameters, loss);
    const factor = (name: string) => (options.corrupt?.parameter === name ? options.corrupt.factor : 1);
    const checks: ParameterCheck[] = [];
    let done = 0;
    for (const [index, parameter] of parameters.entries()) {
      let maxAbsError = 0;
      let maxRelError = 0;
      for (const entry of samples[index] ?? []) {
        options.signal?.throwIfAborted();
        const numeric = await finiteDifference(parameters, index, entry, loss);
        const exact = (analytic[index]?.[entry] ?? Number.NaN) * factor(parameter.name);
        const absError = Math.abs(exact - numeric);
        const relError = absError / Math.max(Math.abs(exact) + Math.abs(numeric), FLOOR);
        // NaN compares false: a NaN gradient must fail, not vanish from the maximum.
        maxAbsError = Number.isNaN(absError) ? Number.POSITIVE_INFINITY : Math.max(maxAbsError, absError);
        maxRelError = Number.isNaN(relError) ? Number.POSITIVE_INFINITY : Math.max(maxRelError, relError);
        options.onProgress?.(++done, total);
        // Lets the worker see a cancel message between entries.
        await new Promise((resolve) => setImmediate(resolve));
      }
      checks.push({
        name: parameter.name,
        shape: parameter.shape,
        checked: samples[index]?.length ?? 0,
        maxAbsError,
        maxRelError,
      });
    }
    const maxRelError = Math.max(...checks.map((check) => check.maxRelError));
    return {
      backend: tf.getBackend(),
      parameters: checks,
      maxRelError,
      tolerance: TOLERANCE,
      epsilon: EPSILON,
      seed,
      passed: maxRelError < TOLERANCE,
    };
  } finally {
    tf.dispose(Object.values(constants));
  }
}

/** The block and its loss; `tensors` are the parameters in PARAMETERS order. */
function blockLoss(tensors: Tensor[], constants: { ids: Tensor; readout: Tensor; maskBias: Tensor }): Tensor {
  const [embedding, gain, bias, query, key, value, output] = tensors as [
    Tensor,
    Tensor,
    Tensor,
    Tensor,
    Tensor,
    Tensor,
    Tensor,
  ];
  const [B, T, C, H, D] = [BATCH, CONTEXT, WIDTH, HEADS, HEAD_WIDTH];
  const x = tf.gather(embedding, constants.ids); // (B, T, C)
  const { mean, variance } = tf.moments(x, -1, true); // (B, T, 1) each
  const normed = x.sub(mean).div(variance.add(NORM_EPSILON).sqrt()).mul(gain).add(bias); // (B, T, C)
  const flat = normed.reshape([B * T, C]); // (B·T, C)
  const heads = (weight: Tensor) => tf.matMul(flat, weight).reshape([B, T, H, D]).transpose([0, 2, 1, 3]); // (B, H, T, D)
  const [q, k, v] = [heads(query), heads(key), heads(value)];
  const scores = tf.matMul(q, k, false, true).div(Math.sqrt(D)).add(constants.maskBias); // (B, H, T, T)
  const attended = tf.matMul(tf.softmax(scores), v); // (B, H, T, D)
  const merged = attended.transpose([0, 2, 1, 3]).reshape([B * T, C]); // (B·T, C)
  const y = x.add(tf.matMul(merged, output).reshape([B, T, C])); // (B, T, C) residual
  return y.mul(constants.readout).sum(); // scalar
}

async function analyticGradients(
  parameters: readonly Parameter[],
  loss: (...tensors: Tensor[]) => Tensor,
): Promise<Float32Array[]> {
  const gradients = tf.tidy(() => {
    const inputs = parameters.map((parameter) => tf.tensor(parameter.values, parameter.shape));
    return tf.grads(loss)(inputs);
  });
  try {
    return await Promise.all(gradients.map(async (gradient) => Float32Array.from(await gradient.data())));
  } finally {
    tf.dispose(gradients);
  }
}

/**
 * The five-point central difference (−L(θ+2ε) + 8L(θ+ε) − 8L(θ−ε) + L(θ−2ε)) / 12ε along one
 * entry: its truncation error is O(ε⁴), so ε can be large enough that float32 rounding of the loss
 * (divided by ε) stays small.
 */
async function finiteDifference(
  parameters: readonly Parameter[],
  index: number,
  entry: number,
  loss: (...tensors: Tensor[]) => Tensor,
): Promise<number> {
  const original = parameters[index]?.values[entry] ?? 0;
  const lossAt = async (offset: number): Promise<number> => {
    const result = tf.tidy(() =>
      loss(
        ...parameters.map((parameter, position) => {
          if (position !== index) return tf.tensor(parameter.values, parameter.shape);
          const values = Float32Array.from(parameter.values);
          values[entry] = original + offset;
          return tf.tensor(values, parameter.shape);
        }),
      ),
    );
    try {
      return (await result.data())[0] ?? Number.NaN;
    } finally {
      result.dispose();
    }
  };
  const [plus2, plus1, minus1, minus2] = [
    await lossAt(2 * EPSILON),
    await lossAt(EPSILON),
    await lossAt(-EPSILON),
    await lossAt(-2 * EPSILON),
  ];
  return (-plus2 + 8 * plus1 - 8 * minus1 + minus2) / (12 * EPSILON);
}

function initialParameters(random: () => number): Parameter[] {
  const projection = () => gaussian(random, WIDTH * WIDTH, 1 / Math.sqrt(WIDTH));
  const values: Record<(typeof PARAMETERS)[number], Float32Array> = {
    embedding: gaussian(random, VOCABULARY * WIDTH, 1),
    'norm.gain': gaussian(random, WIDTH, 0.1).map((deviation) => 1 + deviation),
    'norm.bias': gaussian(random, WIDTH, 0.1),
    'attention.query': projection(),
    'attention.key': projection(),
    'attention.value': projection(),
    'attention.output': projection(),
  };
  return PARAMETERS.map((name) => {
    const vector = name === 'norm.gain' || name === 'norm.bias';
    const rows = name === 'embedding' ? VOCABULARY : WIDTH;
    return { name, shape: vector ? [WIDTH] : [rows, WIDTH], values: values[name] };
  });
}

/**
 * Seeded choice of entries to check. For the embedding: entries of rows that several tokens share
 * (the accumulating case) and one entry of a row no token uses (its gradient must be exactly 0).
 */
function sampleEntries(parameter: Parameter, ids: readonly number[], random: () => number): number[] {
  const pick = (from: readonly number[]) => from[Math.floor(random() * from.length)] ?? 0;
  const chosen = new Set<number>();
  if (parameter.name === 'embedding') {
    const repeated = [...new Set(ids)].filter((id) => ids.indexOf(id) !== ids.lastIndexOf(id));
    const unused = Array.from({ length: VOCABULARY - USED_VOCABULARY }, (_, offset) => USED_VOCABULARY + offset);
    chosen.add(pick(unused) * WIDTH + Math.floor(random() * WIDTH));
    while (chosen.size < ENTRIES_PER_PARAMETER) chosen.add(pick(repeated) * WIDTH + Math.floor(random() * WIDTH));
  } else {
    const size = parameter.values.length;
    while (chosen.size < Math.min(ENTRIES_PER_PARAMETER, size)) chosen.add(Math.floor(random() * size));
  }
  return [...chosen];
}

/** Normal(0, scale²) samples by Box–Muller. */
function gaussian(random: () => number, count: number, scale: number): Float32Array {
  const values = new Float32Array(count);
  for (let index = 0; index < count; index++) {
    const radius = Math.sqrt(-2 * Math.log(1 - random()));
    values[index] = scale * radius * Math.cos(2 * Math.PI * random());
  }
  return values;
}
