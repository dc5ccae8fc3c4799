/**
 * The Llama-family decoder (HF transformers models/llama/modeling_llama.py; Mistral, Qwen2 and
 * Qwen3 differ from it only by the flags of LlamaConfig: q/k/v bias, q/k RMSNorm):
 *
 *   x = embed_tokens[ids]
 *   for each layer:  x = x + o_proj(attention(RoPE(q_proj(RMSNorm(x))), RoPE(k_proj(…)), v_proj(…)))
 *                    x = x + down_proj(silu(gate_proj(RMSNorm(x))) · up_proj(RMSNorm(x)))
 *   logits = lm_head(RMSNorm(x))        (lm_head = embed_tokensᵀ when tied)
 *
 * Parameters carry the HF tensor names; linear weights are held [in, out] (see ParameterSpec).
 */
import type { Tensor, Tensor1D, Tensor2D, Tensor3D, Tensor4D, Variable } from '@tensorflow/tfjs';
import { tf } from '../compute/tf.js';
import type { LlamaConfig } from './config.js';
import {
  applyRotary,
  attentionBias,
  groupedQueryAttention,
  linear,
  linearTransposedWeight,
  positionIdsFor,
  rmsNorm,
  ropeInverseFrequencies,
  rotaryAngles,
  silu,
} from './layers.js';
import { cachedAttention, embed, residualNorm } from './kernels.js';
import type { ForwardInputs, ForwardOutput, LayerKeyValues, ParameterInit, ParameterSpec } from './modeling_utils.js';
import type { StaticCache } from './modeling_utils.js';
import { PreTrainedModel, appendToCache, asSequence, extendCache, usesFusedAttention } from './modeling_utils.js';
import { fusedAttention } from './fused-attention.js';

const EMBEDDING = 'model.embed_tokens.weight';
const FINAL_NORM = 'model.norm.weight';
const HEAD = 'lm_head.weight';

/** The weights of a Llama-family model, in HF order, with their shapes as held here. */
export function llamaParameterSpecs(config: LlamaConfig): ParameterSpec[] {
  const { hiddenSize: width, intermediateSize: inner, headDim, vocabSize } = config;
  const queryWidth = config.numAttentionHeads * headDim;
  const keyValueWidth = config.numKeyValueHeads * headDim;
  const normal: ParameterInit = { kind: 'normal', std: config.initializerRange };
  const ones: ParameterInit = { kind: 'ones' };
  const zeros: ParameterInit = { kind: 'zeros' };
  const linearSpecs = (name: string, input: number, output: number, bias: boolean): ParameterSpec[] => [
    { name: `${name}.weight`, shape: [input, output], transposed: true, init: normal },
    ...(bias ? [{ name: `${name}.bias`, shape: [output], transposed: false, init: zeros }] : []),
  ];
  const specs: ParameterSpec[] = [{ name: EMBEDDING, shape: [vocabSize, width], transposed: false, init: normal }];
  for (let layer = 0; layer < config.numHiddenLayers; layer++) {
    const prefix = `model.layers.${layer}`;
    specs.push(
      { name: `${prefix}.input_layernorm.weight`, shape: [width], transposed: false, init: ones },
      ...linearSpecs(`${prefix}.self_attn.q_proj`, width, queryWidth, config.attentionQkvBias),
      ...linearSpecs(`${prefix}.self_attn.k_proj`, width, keyValueWidth, config.attentionQkvBias),
      ...linearSpecs(`${prefix}.self_attn.v_proj`, width, keyValueWidth, config.attentionQkvBias),
      ...linearSpecs(`${prefix}.self_attn.o_proj`, queryWidth, width, config.attentionOutputBias),
      ...(config.qkNorm
        ? [
            { name: `${prefix}.self_attn.q_norm.weight`, shape: [headDim], transposed: false, init: ones },
            { name: `${prefix}.self_attn.k_norm.weight`, shape: [headDim], transposed: false, init: ones },
          ]
        : []),
      { name: `${prefix}.post_attention_layernorm.weight`, shape: [width], transposed: false, init: ones },
      ...linearSpecs(`${prefix}.mlp.gate_proj`, width, inner, config.mlpBias),
      ...linearSpecs(`${prefix}.mlp.up_proj`, width, inner, config.mlpBias),
      ...linearSpecs(`${prefix}.mlp.down_proj`, inner, width, config.mlpBias),
    );
  }
  specs.push({ name: FINAL_NORM, shape: [width], transposed: false, init: ones });
  if (!config.tieWordEmbeddings) specs.push(...linearSpecs('lm_head', width, vocabSize, false));
  return specs;
}

/** A linear layer's weight (in, out) and optional bias (out). */
interface LinearWeights {
  weight: Tensor2D;
  bias: Tensor1D | undefined;
}

interface LlamaLayer {
  inputNorm: Tensor1D;
  query: LinearWeights;
  key: LinearWeights;
  value: LinearWeights;
  output: LinearWeights;
  queryNorm: Tensor1D | undefined;
  keyNorm: Tensor1D | undefined;
  postAttentionNorm: Tensor1D;
  gate: LinearWeights;
  up: LinearWeights;
  down: LinearWeights;
}

/** What every layer of one forward call shares. */
interface LayerContext {
  inputs: ForwardInputs;
  /** Rotation angles of the new tokens: (B, T, 1, D/2) each. */
  cos: Tensor4D;
  sin: Tensor4D;
  /** Additive attention mask (B or 1, 1, 1, T, S); undefined when attention is fused. */
  bias: Tensor | undefined;
  /** Each layer's keys and values, cache included, in layer order. */
  cache: LayerKeyValues[];
}

/** x (N, in) · weight [+ bias] as one kernel (inference only: no fast-path gradient). */
function affine(x: Tensor2D, weights: LinearWeights): Tensor2D {
  return weights.bias === undefined
    ? tf.matMul(x, weights.weight) // (N, out)
    : (tf.fused.matMul({ a: x, b: weights.weight, bias: weights.bias }) as Tensor2D); // (N, out)
}

/** Llama, Mistral, Qwen2, Qwen3 and SmolLM causal language model (HF LlamaForCausalLM and kin). */
export class LlamaForCausalLM extends PreTrainedModel<LlamaConfig> {
  private readonly layers: LlamaLayer[];
  /** RoPE frequencies (D / 2). */
  private readonly inverseFrequencies: Tensor1D;

  /** Takes ownership of `variables` (one per {@link llamaParameterSpecs} entry). */
  constructor(config: LlamaConfig, variables: ReadonlyMap<string, Variable>) {
    super(config, llamaParameterSpecs(config), variables);
    const linearWeights = (name: string): LinearWeights => ({
      weight: this.weight2d(`${name}.weight`),
      bias: this.optional1d(`${name}.bias`),
    });
    this.layers = Array.from({ length: config.numHiddenLayers }, (_, index) => {
      const prefix = `model.layers.${index}`;
      return {
        inputNorm: this.weight1d(`${prefix}.input_layernorm.weight`),
        query: linearWeights(`${prefix}.self_attn.q_proj`),
        key: linearWeights(`${prefix}.self_attn.k_proj`),
        value: linearWeights(`${prefix}.self_attn.v_proj`),
        output: linearWeights(`${prefix}.self_attn.o_proj`),
        queryNorm: this.optional1d(`${prefix}.self_attn.q_norm.weight`),
        keyNorm: this.optional1d(`${prefix}.self_attn.k_norm.weight`),
        postAttentionNorm: this.weight1d(`${prefix}.post_attention_layernorm.weight`),
        gate: linearWeights(`${prefix}.mlp.gate_proj`),
        up: linearWeights(`${prefix}.mlp.up_proj`),
        down: linearWeights(`${prefix}.mlp.down_proj`),
      };
    });
    this.inverseFrequencies = tf.tensor1d(ropeInverseFrequencies(config.headDim, config.ropeTheta, config.ropeScaling));
  }

  protected override disposeOwnTensors(): void {
    this.inverseFrequencies.dispose();
  }

  protected run(inputs: ForwardInputs): ForwardOutput {
    const { config } = this;
    const { batch, time, past, options } = inputs;
    const mask = options.attentionMask;
    const positions = options.positionIds ?? positionIdsFor(mask, batch, time, past); // (B, T)
    const context: LayerContext = {
      inputs,
      ...rotaryAngles(positions, this.inverseFrequencies), // cos, sin (B, T, 1, D/2)
      bias: usesFusedAttention(inputs) ? undefined : attentionBias(mask, time, past), // (B or 1, 1, 1, T, S)
      cache: [],
    };
    const embedding = this.weight2d(EMBEDDING); // (V, d)

    let hidden = tf.gather(embedding, inputs.inputIds.reshape([batch * time])) as Tensor2D; // (B·T, d)
    const hiddenStates: Tensor3D[] = [];
    for (const [index, layer] of this.layers.entries()) {
      if (options.outputHiddenStates) hiddenStates.push(asSequence(hidden, batch, time));
      const normed = rmsNorm(hidden, layer.inputNorm, config.rmsNormEps); // (B·T, d)
      hidden = hidden.add(this.attention(layer, index, normed, context)); // (B·T, d)
      const normedAgain = rmsNorm(hidden, layer.postAttentionNorm, config.rmsNormEps); // (B·T, d)
      hidden = hidden.add(this.mlp(layer, normedAgain)); // (B·T, d)
    }
    hidden = rmsNorm(hidden, this.weight1d(FINAL_NORM), config.rmsNormEps); // (B·T, d)
    if (options.outputHiddenStates) hiddenStates.push(asSequence(hidden, batch, time));

    const kept = this.keepLast(hidden, inputs); // (B·n, d)
    const logits = config.tieWordEmbeddings
      ? linearTransposedWeight(kept, embedding, this.transposedHead(embedding)) // (B·n, V)
      : linear(kept, this.weight2d(HEAD)); // (B·n, V)
    return {
      logits: logits.reshape([batch, inputs.keep, config.vocabSize]), // (B, n, V)
      ...extendCache(context.cache, inputs),
      ...(options.outputHiddenStates ? { hiddenStates } : {}),
    };
  }

  /**
   * The forward pass with a static cache (generation): fused norms between the products, and
   * q/k norm, rotation and attention over the cache in place in one kernel.
   */
  protected runStatic(inputs: ForwardInputs, cache: StaticCache): Tensor3D {
    const { config } = this;
    const { batch, time, past, options } = inputs;
    const epsilon = config.rmsNormEps;
    const positions = options.positionIds ?? positionIdsFor(options.attentionMask, batch, time, past); // (B, T)
    const embedding = this.weight2d(EMBEDDING); // (V, d)
    let hidden = embed(embedding, inputs.inputIds.reshape([batch * time])); // (B·T, d)
    let delta: Tensor2D | undefined; // what the previous layer adds to hidden (B·T, d)
    for (const [index, layer] of this.layers.entries()) {
      let normed: Tensor2D;
      ({ sum: hidden, normed } = residualNorm(hidden, delta, layer.inputNorm, undefined, epsilon, 'rms'));
      const cached = cache.layers[index] as LayerKeyValues;
      const attended = cachedAttention(
        {
          query: affine(normed, layer.query), // (B·T, H·D)
          key: affine(normed, layer.key), // (B·T, K·D)
          value: affine(normed, layer.value), // (B·T, K·D)
          heads: config.numAttentionHeads,
          kvHeads: config.numKeyValueHeads,
          headDim: config.headDim,
          scale: 1 / Math.sqrt(config.headDim),
          rotary: { positions, inverseFrequencies: this.inverseFrequencies },
          ...(options.attentionMask ? { mask: options.attentionMask } : {}),
          ...(layer.queryNorm !== undefined && layer.keyNorm !== undefined
            ? { queryKeyNorm: { query: layer.queryNorm, key: layer.keyNorm, epsilon } }
            : {}),
        },
        cached.key,
        cached.value,
        past,
      ); // (B·T, H·D)
      ({ sum: hidden, normed } = residualNorm(
        hidden,
        affine(attended, layer.output),
        layer.postAttentionNorm,
        undefined,
        epsilon,
        'rms',
      ));
      const gate = affine(normed, layer.gate); // (B·T, I)
      delta = affine(gate.mul(tf.sigmoid(gate)).mul(affine(normed, layer.up)), layer.down); // (B·T, d)
    }
    const { normed } = residualNorm(hidden, delta, this.weight1d(FINAL_NORM), undefined, epsilon, 'rms');
    const kept = this.keepLast(normed, inputs); // (B·n, d)
    const logits = config.tieWordEmbeddings
      ? tf.matMul(kept, this.transposedHead(embedding)) // (B·n, V)
      : tf.matMul(kept, this.weight2d(HEAD)); // (B·n, V)
    return logits.reshape([batch, inputs.keep, config.vocabSize]); // (B, n, V)
  }

  /** Self-attention of one layer: normed (B·T, d) → (B·T, d); adds the layer's keys and values to the cache. */
  private attention(layer: LlamaLayer, index: number, normed: Tensor2D, context: LayerContext): Tensor2D {
    const { config } = this;
    const { batch, time, options } = context.inputs;
    const width = config.headDim;
    const project = (weights: LinearWeights, heads: number) =>
      linear(normed, weights.weight, weights.bias).reshape([batch, time, heads, width]) as Tensor4D; // (B, T, heads, D)
    let query = project(layer.query, config.numAttentionHeads); // (B, T, H, D)
    let key = project(layer.key, config.numKeyValueHeads); // (B, T, K, D)
    const value = project(layer.value, config.numKeyValueHeads); // (B, T, K, D)
    if (layer.queryNorm !== undefined && layer.keyNorm !== undefined) {
      query = rmsNorm(query, layer.queryNorm, config.rmsNormEps); // (B, T, H, D)
      key = rmsNorm(key, layer.keyNorm, config.rmsNormEps); // (B, T, K, D)
    }
    query = applyRotary(query, context.cos, context.sin); // (B, T, H, D)
    key = applyRotary(key, context.cos, context.sin); // (B, T, K, D)
    const scale = 1 / Math.sqrt(width);
    if (context.bias === undefined) {
      const rows = batch * time;
      const mask = options.attentionMask;
      const attended = fusedAttention(
        query.reshape([rows, config.numAttentionHeads * width]), // (B·T, H·D)
        key.reshape([rows, config.numKeyValueHeads * width]), // (B·T, K·D)
        value.reshape([rows, config.numKeyValueHeads * width]), // (B·T, K·D)
        {
          batch,
          heads: config.numAttentionHeads,
          kvHeads: config.numKeyValueHeads,
          headDim: width,
          scale,
          ...(mask ? { mask } : {}),
        },
      ); // (B·T, H·D)
      return linear(attended, layer.output.weight, layer.output.bias); // (B·T, d)
    }
    const cached = options.cache?.layers[index];
    const keys = appendToCache(cached?.key, key.transpose([0, 2, 1, 3])); // (B, K, S, D)
    const values = appendToCache(cached?.value, value.transpose([0, 2, 1, 3])); // (B, K, S, D)
    context.cache.push({ key: keys, value: values });
    const attended = groupedQueryAttention(query, keys, values, context.bias, scale); // (B·T, H·D)
    return linear(attended, layer.output.weight, layer.output.bias); // (B·T, d)
  }

  /** SwiGLU MLP: normed (B·T, d) → down(silu(gate(x)) · up(x)) (B·T, d). */
  private mlp(layer: LlamaLayer, normed: Tensor2D): Tensor2D {
    const gate = silu(linear(normed, layer.gate.weight, layer.gate.bias)); // (B·T, I)
    const up = linear(normed, layer.up.weight, layer.up.bias); // (B·T, I)
    return linear(gate.mul(up), layer.down.weight, layer.down.bias); // (B·T, d)
  }
}
