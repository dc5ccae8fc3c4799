/**
 * The building blocks of both decoders: linear layers, norms, activations, rotary position
 * embeddings, the attention mask and grouped-query attention. Plain functions of tensors, to be
 * called inside the model's `tf.tidy`; each tensor line says its shape.
 *
 * Shape letters: B batch, T new tokens, S keys (cache + new), N = B·T rows, d model width,
 * H query heads, K key/value heads, G = H / K queries per key/value head, D head width, P = D / 2.
 *
 * Speed on the wasm backend: its matrix product is fast (XNNPACK, ~20 GFLOP/s here) only for 2-D
 * operands with neither transposed; a transposed or batched product runs a scalar loop at ~2 GFLOP/s
 * (tfjs-backend-wasm batch_mat_mul_impl.cc). So every weight product here takes 2-D operands, and
 * {@link linear}'s gradient materialises each transpose before multiplying (tfjs's own gradient of
 * matMul passes transpose flags instead): 7-10× faster forward + backward. Attention's products are
 * batched by nature; {@link groupedQueryAttention} folds the G query heads that share a key/value
 * head into one product (fewer, larger batches) and accepts the batched path, because per-head 2-D
 * products measured 4-6× slower at these sizes (per-op overhead). Passes without a cache (training,
 * scoring) skip it for fused-attention.ts's kernel on wasm and cpu. bench/model-forward.ts measures
 * the products.
 */
import type { GradSaveFunc, Tensor, Tensor1D, Tensor2D, Tensor4D } from '@tensorflow/tfjs';
import { tf } from '../compute/tf.js';
import type { Gpt2Activation, RopeScaling } from './config.js';

/** Additive attention bias for masked positions; exp(−1e9 + s) is exactly 0 in float32. */
const MASKED = -1e9;

// ---------------------------------------------------------------------------------------------
// Linear layers

/**
 * x · w with x (N, in) and w (in, out). Forward and both gradient products are untransposed 2-D
 * products: dX = dY · (wᵀ) and dW = (xᵀ) · dY, each transpose materialised first.
 */
const matMulFast = tf.customGrad((...inputs: (Tensor | GradSaveFunc)[]) => {
  const [x, weight, save] = inputs as [Tensor2D, Tensor2D, GradSaveFunc];
  save([x, weight]);
  return {
    value: tf.matMul(x, weight), // (N, out)
    gradFunc: (dy: Tensor, saved: Tensor[]) => {
      const [savedX, savedWeight] = saved as [Tensor2D, Tensor2D];
      return tf.tidy(() => [
        tf.matMul(dy as Tensor2D, tf.transpose(savedWeight)), // dX (N, in) = dY (N, out) · wᵀ (out, in)
        tf.matMul(tf.transpose(savedX), dy as Tensor2D), // dW (in, out) = xᵀ (in, N) · dY (N, out)
      ]);
    },
  };
});

/**
 * A linear layer on the fast path: x (N, in) · weight (in, out) + bias (out) → (N, out). The
 * weight is held [in, out] (GPT-2's Conv1D layout; torch's nn.Linear stores [out, in]).
 */
export function linear(x: Tensor2D, weight: Tensor2D, bias?: Tensor1D): Tensor2D {
  const product = matMulFast(x, weight) as Tensor2D; // (N, out)
  return bias === undefined ? product : product.add(bias); // (N, out)
}

/**
 * x (N, in) · weightᵀ for a weight held [out, in], as a tied output head reuses the [vocabulary, d]
 * embedding. `transposed` may pass weightᵀ (in, out) computed earlier (a model keeps one while its
 * embedding is unchanged, so generation does not transpose the embedding for every token); the
 * gradient is then still taken with respect to `weight`. Gradients: dX = dY · weight and
 * dW = (dYᵀ) · x, both untransposed 2-D products.
 */
export function linearTransposedWeight(x: Tensor2D, weight: Tensor2D, transposed?: Tensor2D): Tensor2D {
  const product = tf.customGrad((...inputs: (Tensor | GradSaveFunc)[]) => {
    const [input, matrix, save] = inputs as [Tensor2D, Tensor2D, GradSaveFunc];
    save([input, matrix]);
    return {
      value: tf.tidy(() => tf.matMul(input, transposed ?? tf.transpose(matrix))), // (N, out)
      gradFunc: (dy: Tensor, saved: Tensor[]) => {
        const [savedInput, savedMatrix] = saved as [Tensor2D, Tensor2D];
        return tf.tidy(() => [
          tf.matMul(dy as Tensor2D, savedMatrix), // dX (N, in) = dY (N, out) · weight (out, in)
          tf.matMul(tf.transpose(dy as Tensor2D), savedInput), // dW (out, in) = dYᵀ (out, N) · x (N, in)
        ]);
      },
    };
  });
  return product(x, weight) as Tensor2D; // (N, out)
}

// ---------------------------------------------------------------------------------------------
// Norms and activations

/** RMSNorm over the last axis (HF LlamaRMSNorm): x / √(mean(x²) + ε) · weight. */
export function rmsNorm<T extends Tensor>(x: T, weight: Tensor1D, epsilon: number): T {
  const meanSquare = x.square().mean(-1, true); // (…, 1)
  return x.mul(meanSquare.add(epsilon).rsqrt()).mul(weight); // (…, width)
}

/** LayerNorm over the last axis with the biased variance, as torch.nn.LayerNorm. */
export function layerNorm<T extends Tensor>(x: T, weight: Tensor1D, bias: Tensor1D, epsilon: number): T {
  const { mean, variance } = tf.moments(x, -1, true); // (…, 1) each
  return x.sub(mean).mul(variance.add(epsilon).rsqrt()).mul(weight).add(bias); // (…, width)
}

/** x · sigmoid(x) (SiLU, also called swish). */
export function silu<T extends Tensor>(x: T): T {
  return x.mul(tf.sigmoid(x));
}

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

/**
 * GPT-2's GELU, the tanh approximation (HF NewGELUActivation, "gelu_new"):
 * 0.5·x·(1 + tanh(u)) with u = √(2/π)·(x + 0.044715·x³), computed as x·sigmoid(2u), the same
 * function: wasm's Tanh kernel is scalar (≈ 13 ns an element; 6% of a training step of the bench's
 * model) and its sigmoid is XNNPACK's vectorised one. x·x² rather than x.pow(3): wasm's Pow kernel
 * (and its gradient, which takes a log) is slow.
 */
export function geluTanh<T extends Tensor>(x: T): T {
  const doubled = x.add(x.square().mul(x).mul(0.044715)).mul(2 * SQRT_2_OVER_PI); // 2u (…)
  return x.mul(tf.sigmoid(doubled));
}

/** The exact GELU, x · Φ(x) (HF "gelu"). */
export function geluExact<T extends Tensor>(x: T): T {
  return x.mul(0.5).mul(tf.erf(x.mul(Math.SQRT1_2)).add(1));
}

/** GPT-2's MLP activation by its HF name. */
export function activate<T extends Tensor>(x: T, activation: Gpt2Activation): T {
  switch (activation) {
    case 'gelu_new':
    case 'gelu_pytorch_tanh':
    case 'gelu_fast':
      return geluTanh(x);
    case 'gelu':
      return geluExact(x);
    case 'relu':
      return tf.relu(x);
    case 'silu':
    case 'swish':
      return silu(x);
  }
}

// ---------------------------------------------------------------------------------------------
// Rotary position embeddings (RoFormer, arXiv 2104.09864; HF modeling_rope_utils.py)

/**
 * The P = headDim / 2 rotary frequencies θ^(−2i/D), scaled as `scaling` says. Computed in float32
 * steps as HF does (float32 exponent, power and reciprocal), so angles match its to an ulp.
 */
export function ropeInverseFrequencies(headDim: number, theta: number, scaling: RopeScaling | null): Float32Array {
  const frequencies = new Float32Array(headDim / 2);
  for (let index = 0; index < frequencies.length; index++) {
    const exponent = Math.fround((2 * index) / headDim);
    frequencies[index] = Math.fround(1 / Math.fround(theta ** exponent));
  }
  if (scaling === null) return frequencies;
  if (scaling.type === 'linear') return frequencies.map((frequency) => frequency / scaling.factor);
  // Llama 3.1 (HF _compute_llama3_parameters): long wavelengths are slowed by `factor`, short ones
  // kept, and the band between blends the two.
  const lowFrequencyWavelength = scaling.originalMaxPositionEmbeddings / scaling.lowFreqFactor;
  const highFrequencyWavelength = scaling.originalMaxPositionEmbeddings / scaling.highFreqFactor;
  return frequencies.map((frequency) => {
    const wavelength = (2 * Math.PI) / frequency;
    if (wavelength < highFrequencyWavelength) return frequency;
    if (wavelength > lowFrequencyWavelength) return frequency / scaling.factor;
    const smooth =
      (scaling.originalMaxPositionEmbeddings / wavelength - scaling.lowFreqFactor) /
      (scaling.highFreqFactor - scaling.lowFreqFactor);
    return ((1 - smooth) * frequency) / scaling.factor + smooth * frequency;
  });
}

/**
 * cos and sin of the rotation angles position × frequency, shaped to broadcast over heads.
 * positions (B, T) int32, inverseFrequencies (P) → cos, sin (B, T, 1, P), computed in float32 as
 * HF does.
 */
export function rotaryAngles(positions: Tensor2D, inverseFrequencies: Tensor1D): { cos: Tensor4D; sin: Tensor4D } {
  const [batch, time] = positions.shape;
  const angles = positions.cast('float32').reshape([batch, time, 1, 1]).mul(inverseFrequencies); // (B, T, 1, P)
  return { cos: tf.cos(angles) as Tensor4D, sin: tf.sin(angles) as Tensor4D }; // (B, T, 1, P) each
}

/**
 * Rotates each head's pairs (x_i, x_{i+P}) by the position's angles (HF rotate_half convention):
 * x (B, T, heads, D) → (B, T, heads, D).
 */
export function applyRotary(x: Tensor4D, cos: Tensor4D, sin: Tensor4D): Tensor4D {
  const [batch, time, heads, width] = x.shape;
  const half = width / 2;
  const first = x.slice([0, 0, 0, 0], [batch, time, heads, half]); // (B, T, heads, P)
  const second = x.slice([0, 0, 0, half], [batch, time, heads, half]); // (B, T, heads, P)
  return tf.concat(
    [
      first.mul(cos).sub(second.mul(sin)), // (B, T, heads, P)
      second.mul(cos).add(first.mul(sin)), // (B, T, heads, P)
    ],
    3,
  ) as Tensor4D; // (B, T, heads, D)
}

// ---------------------------------------------------------------------------------------------
// Masks, positions, attention

/**
 * The additive attention bias: 0 where query t may attend to key s, −1e9 elsewhere. Causal over the
 * `past` cached keys plus the T new ones (key s is visible to query t when s ≤ past + t), and, with
 * `attentionMask` (B, S) of 1 (token) / 0 (padding), never to padding. → (B or 1, 1, 1, T, S).
 */
export function attentionBias(attentionMask: Tensor2D | undefined, time: number, past: number): Tensor {
  const keys = past + time;
  const causal = tf.linalg.bandPart(tf.ones([time, keys]), -1, past); // (T, S): 1 on and left of the diagonal
  if (attentionMask === undefined) {
    return causal.sub(1).mul(-MASKED).reshape([1, 1, 1, time, keys]); // (1, 1, 1, T, S)
  }
  const batch = attentionMask.shape[0];
  const visible = causal.expandDims(0).mul(attentionMask.cast('float32').expandDims(1)); // (B, T, S)
  return visible.sub(1).mul(-MASKED).reshape([batch, 1, 1, time, keys]); // (B, 1, 1, T, S)
}

/**
 * Positions of the T new tokens. Without a mask: past, past + 1, … (B, T). With `attentionMask`
 * (B, S): each token's count of real tokens before it, so left padding does not shift positions
 * (what HF's generate computes: cumsum(mask) − 1; padding gets 0).
 */
export function positionIdsFor(
  attentionMask: Tensor2D | undefined,
  batch: number,
  time: number,
  past: number,
): Tensor2D {
  if (attentionMask === undefined) {
    return tf
      .range(past, past + time, 1, 'int32')
      .expandDims(0)
      .tile([batch, 1]) as Tensor2D; // (B, T)
  }
  const counts = tf.cumsum(attentionMask.cast('float32'), 1).sub(1); // (B, S)
  const current = counts.slice([0, past], [batch, time]); // (B, T)
  return current.maximum(0).cast('int32') as Tensor2D; // (B, T)
}

/**
 * Scaled dot-product attention with grouped key/value heads (GQA, arXiv 2305.13245). The G query
 * heads that share a key/value head are stacked along the query axis, so each key/value head takes
 * one product for all of them and keys are never repeated.
 *
 * query (B, T, H, D), key and value (B, K, S, D), bias (B or 1, 1, 1, T, S) → (B·T, H·D), heads in
 * HF order (head h uses key/value head ⌊h / G⌋, as repeat_kv).
 */
export function groupedQueryAttention(
  query: Tensor4D,
  key: Tensor4D,
  value: Tensor4D,
  bias: Tensor,
  scale: number,
): Tensor2D {
  const [batch, time, heads, width] = query.shape;
  const [, kvHeads, keys] = key.shape;
  const group = heads / kvHeads;
  const stacked = query
    .mul(scale) // (B, T, H, D)
    .reshape([batch, time, kvHeads, group, width])
    .transpose([0, 2, 3, 1, 4]) // (B, K, G, T, D)
    .reshape([batch, kvHeads, group * time, width]); // (B, K, G·T, D)
  const scores = tf
    .matMul(stacked, key, false, true) // (B, K, G·T, S)
    .reshape([batch, kvHeads, group, time, keys])
    .add(bias); // (B, K, G, T, S)
  const weights = tf.softmax(scores).reshape([batch, kvHeads, group * time, keys]); // (B, K, G·T, S)
  return tf
    .matMul(weights, value) // (B, K, G·T, D)
    .reshape([batch, kvHeads, group, time, width])
    .transpose([0, 3, 1, 2, 4]) // (B, T, K, G, D)
    .reshape([batch * time, heads * width]); // (B·T, H·D)
}
