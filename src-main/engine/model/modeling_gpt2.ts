/**
 * GPT-2 (Radford et al. 2019; HF transformers models/gpt2/modeling_gpt2.py, GPT2LMHeadModel):
 *
 *   x = wte[ids] + wpe[positions]
 *   for each block:  x = x + c_proj(attention(split(c_attn(LayerNorm(x)))))
 *                    x = x + mlp.c_proj(gelu(mlp.c_fc(LayerNorm(x))))
 *   logits = lm_head(LayerNorm(x))      (lm_head = wteᵀ when tied, as in every released GPT-2)
 *
 * GPT-2's Conv1D weights are [in, out] in the HF file already, so they are held as stored; only
 * an untied lm_head (an nn.Linear, [out, in] in the file) is transposed.
 */
import type { Tensor, Tensor1D, Tensor2D, Tensor3D, Tensor4D, Variable } from '@tensorflow/tfjs';
import { AppFailure } from '../../api/index.js';
import { tf } from '../compute/tf.js';
import type { Gpt2Config } from './config.js';
import {
  activate,
  attentionBias,
  groupedQueryAttention,
  layerNorm,
  linear,
  linearTransposedWeight,
  positionIdsFor,
} from './layers.js';
import { cachedAttention, embed, geluTanhFused, residualNorm } from './kernels.js';
import type { ForwardInputs, ForwardOutput, LayerKeyValues, ParameterInit, ParameterSpec } from './modeling_utils.js';
import type { StaticCache } from './modeling_utils.js';
import { PreTrainedModel, appendToCache, asSequence, extendCache, usesFusedAttention } from './modeling_utils.js';
import { fusedAttention } from './fused-attention.js';

const TOKEN_EMBEDDING = 'transformer.wte.weight';
const POSITION_EMBEDDING = 'transformer.wpe.weight';
const HEAD = 'lm_head.weight';

/** The weights of a GPT-2 model, in HF order, with their shapes as held here. */
export function gpt2ParameterSpecs(config: Gpt2Config): ParameterSpec[] {
  const { hiddenSize: width, intermediateSize: inner } = config;
  const normal: ParameterInit = { kind: 'normal', std: config.initializerRange };
  // HF GPT2PreTrainedModel._init_weights: residual projections get std / √(2 · layers) (GPT-2 paper §2.3).
  const residual: ParameterInit = {
    kind: 'normal',
    std: config.initializerRange / Math.sqrt(2 * config.numHiddenLayers),
  };
  const ones: ParameterInit = { kind: 'ones' };
  const zeros: ParameterInit = { kind: 'zeros' };
  const conv1d = (name: string, input: number, output: number, init: ParameterInit): ParameterSpec[] => [
    { name: `${name}.weight`, shape: [input, output], transposed: false, init },
    { name: `${name}.bias`, shape: [output], transposed: false, init: zeros },
  ];
  const norm = (name: string): ParameterSpec[] => [
    { name: `${name}.weight`, shape: [width], transposed: false, init: ones },
    { name: `${name}.bias`, shape: [width], transposed: false, init: zeros },
  ];
  const specs: ParameterSpec[] = [
    { name: TOKEN_EMBEDDING, shape: [config.vocabSize, width], transposed: false, init: normal },
    { name: POSITION_EMBEDDING, shape: [config.maxPositionEmbeddings, width], transposed: false, init: normal },
  ];
  for (let layer = 0; layer < config.numHiddenLayers; layer++) {
    const prefix = `transformer.h.${layer}`;
    specs.push(
      ...norm(`${prefix}.ln_1`),
      ...conv1d(`${prefix}.attn.c_attn`, width, 3 * width, normal),
      ...conv1d(`${prefix}.attn.c_proj`, width, width, residual),
      ...norm(`${prefix}.ln_2`),
      ...conv1d(`${prefix}.mlp.c_fc`, width, inner, normal),
      ...conv1d(`${prefix}.mlp.c_proj`, inner, width, residual),
    );
  }
  specs.push(...norm('transformer.ln_f'));
  if (!config.tieWordEmbeddings) {
    specs.push({ name: HEAD, shape: [width, config.vocabSize], transposed: true, init: normal });
  }
  return specs;
}

interface Conv1dWeights {
  weight: Tensor2D;
  bias: Tensor1D;
}

/** x (N, in) · weight + bias as one kernel (inference only: no fast-path gradient). */
function affine(x: Tensor2D, weights: Conv1dWeights): Tensor2D {
  return tf.fused.matMul({ a: x, b: weights.weight, bias: weights.bias }) as Tensor2D; // (N, out)
}

/** The activations that are GPT-2's tanh GELU. */
const GELU_TANH: ReadonlySet<string> = new Set(['gelu_new', 'gelu_pytorch_tanh', 'gelu_fast']);

interface Gpt2Block {
  norm1: { weight: Tensor1D; bias: Tensor1D };
  attention: Conv1dWeights;
  projection: Conv1dWeights;
  norm2: { weight: Tensor1D; bias: Tensor1D };
  expand: Conv1dWeights;
  contract: Conv1dWeights;
}

/** What every block of one forward call shares. */
interface BlockContext {
  inputs: ForwardInputs;
  /** Additive attention mask (B or 1, 1, 1, T, S); undefined when attention is fused. */
  bias: Tensor | undefined;
  /** Each block's keys and values, cache included, in block order. */
  cache: LayerKeyValues[];
}

/** GPT-2 causal language model (HF GPT2LMHeadModel). */
export class GPT2LMHeadModel extends PreTrainedModel<Gpt2Config> {
  private readonly blocks: Gpt2Block[];
  private readonly finalNorm: { weight: Tensor1D; bias: Tensor1D };

  /** Takes ownership of `variables` (one per {@link gpt2ParameterSpecs} entry). */
  constructor(config: Gpt2Config, variables: ReadonlyMap<string, Variable>) {
    super(config, gpt2ParameterSpecs(config), variables);
    const conv1d = (name: string): Conv1dWeights => ({
      weight: this.weight2d(`${name}.weight`),
      bias: this.weight1d(`${name}.bias`),
    });
    const norm = (name: string) => ({ weight: this.weight1d(`${name}.weight`), bias: this.weight1d(`${name}.bias`) });
    this.blocks = Array.from({ length: config.numHiddenLayers }, (_, index) => {
      const prefix = `transformer.h.${index}`;
      return {
        norm1: norm(`${prefix}.ln_1`),
        attention: conv1d(`${prefix}.attn.c_attn`),
        projection: conv1d(`${prefix}.attn.c_proj`),
        norm2: norm(`${prefix}.ln_2`),
        expand: conv1d(`${prefix}.mlp.c_fc`),
        contract: conv1d(`${prefix}.mlp.c_proj`),
      };
    });
    this.finalNorm = norm('transformer.ln_f');
  }

  protected override checkFamilyInputs(inputs: ForwardInputs): void {
    const end = inputs.past + inputs.time;
    if (inputs.options.positionIds === undefined && end > this.config.maxPositionEmbeddings) {
      throw new AppFailure(
        'model_input_invalid',
        `The sequence reaches position ${end}, past GPT-2's ${this.config.maxPositionEmbeddings} learned positions.`,
      );
    }
  }

  protected run(inputs: ForwardInputs): ForwardOutput {
    const { config } = this;
    const { batch, time, past, options } = inputs;
    const epsilon = config.layerNormEpsilon;
    const mask = options.attentionMask;
    const positions = options.positionIds ?? positionIdsFor(mask, batch, time, past); // (B, T)
    const bias = usesFusedAttention(inputs) ? undefined : attentionBias(mask, time, past); // (B or 1, 1, 1, T, S)
    const context: BlockContext = { inputs, bias, cache: [] };
    const tokens = this.weight2d(TOKEN_EMBEDDING); // (V, d)

    let hidden = tf
      .gather(tokens, inputs.inputIds.reshape([batch * time])) // (B·T, d)
      .add(tf.gather(this.weight2d(POSITION_EMBEDDING), positions.reshape([batch * time]))) as Tensor2D; // (B·T, d)
    const hiddenStates: Tensor3D[] = [];
    for (const [index, block] of this.blocks.entries()) {
      if (options.outputHiddenStates) hiddenStates.push(asSequence(hidden, batch, time));
      const normed = layerNorm(hidden, block.norm1.weight, block.norm1.bias, epsilon); // (B·T, d)
      hidden = hidden.add(this.attention(block, index, normed, context)); // (B·T, d)
      const normedAgain = layerNorm(hidden, block.norm2.weight, block.norm2.bias, epsilon); // (B·T, d)
      hidden = hidden.add(this.mlp(block, normedAgain)); // (B·T, d)
    }
    hidden = layerNorm(hidden, this.finalNorm.weight, this.finalNorm.bias, epsilon); // (B·T, d)
    if (options.outputHiddenStates) hiddenStates.push(asSequence(hidden, batch, time));

    const kept = this.keepLast(hidden, inputs); // (B·n, d)
    const logits = config.tieWordEmbeddings
      ? linearTransposedWeight(kept, tokens, this.transposedHead(tokens)) // (B·n, V)
      : linear(kept, this.weight2d(HEAD)); // (B·n, V)
    return {
      logits: logits.reshape([batch, inputs.keep, config.vocabSize]), // (B, n, V)
      ...extendCache(context.cache, inputs),
      ...(options.outputHiddenStates ? { hiddenStates } : {}),
    };
  }

  /**
   * The forward pass with a static cache (generation): the same blocks with fused kernels between
   * the products, each product with its bias in one kernel, and attention over the cache in place.
   */
  protected runStatic(inputs: ForwardInputs, cache: StaticCache): Tensor3D {
    const { config } = this;
    const { batch, time, past, options } = inputs;
    const epsilon = config.layerNormEpsilon;
    const heads = config.numAttentionHeads;
    const width = config.hiddenSize / heads;
    const positions = options.positionIds ?? positionIdsFor(options.attentionMask, batch, time, past); // (B, T)
    const tokens = this.weight2d(TOKEN_EMBEDDING); // (V, d)
    let hidden = embed(tokens, inputs.inputIds.reshape([batch * time]), {
      table: this.weight2d(POSITION_EMBEDDING),
      ids: positions.reshape([batch * time]),
    }); // (B·T, d)
    let delta: Tensor2D | undefined; // what the previous block adds to hidden (B·T, d)
    for (const [index, block] of this.blocks.entries()) {
      let normed: Tensor2D;
      ({ sum: hidden, normed } = residualNorm(hidden, delta, block.norm1.weight, block.norm1.bias, epsilon, 'layer'));
      const fused = affine(normed, block.attention); // (B·T, 3d): q, k, v
      let scale = config.scaleAttentionWeights ? 1 / Math.sqrt(width) : 1;
      if (config.scaleAttentionByInverseLayerIndex) scale /= index + 1;
      const layer = cache.layers[index] as LayerKeyValues;
      const attended = cachedAttention(
        {
          query: fused,
          key: fused,
          value: fused,
          keyOffset: config.hiddenSize,
          valueOffset: 2 * config.hiddenSize,
          heads,
          kvHeads: heads,
          headDim: width,
          scale,
          ...(options.attentionMask ? { mask: options.attentionMask } : {}),
        },
        layer.key,
        layer.value,
        past,
      ); // (B·T, d)
      ({ sum: hidden, normed } = residualNorm(
        hidden,
        affine(attended, block.projection),
        block.norm2.weight,
        block.norm2.bias,
        epsilon,
        'layer',
      ));
      const expanded = affine(normed, block.expand); // (B·T, I)
      const activated = GELU_TANH.has(config.activation)
        ? geluTanhFused(expanded)
        : activate(expanded, config.activation); // (B·T, I)
      delta = affine(activated, block.contract); // (B·T, d)
    }
    const { normed } = residualNorm(hidden, delta, this.finalNorm.weight, this.finalNorm.bias, epsilon, 'layer');
    const kept = this.keepLast(normed, inputs); // (B·n, d)
    const logits = config.tieWordEmbeddings
      ? tf.matMul(kept, this.transposedHead(tokens)) // (B·n, V)
      : tf.matMul(kept, this.weight2d(HEAD)); // (B·n, V)
    return logits.reshape([batch, inputs.keep, config.vocabSize]); // (B, n, V)
  }

  /** GPT-2's MLP: normed (B·T, d) → c_proj(gelu(c_fc(x))) (B·T, d). */
  private mlp(block: Gpt2Block, normed: Tensor2D): Tensor2D {
    const expanded = linear(normed, block.expand.weight, block.expand.bias); // (B·T, I)
    return linear(activate(expanded, this.config.activation), block.contract.weight, block.contract.bias); // (B·T, d)
  }

  /** Causal self-attention of one block: normed (B·T, d) → (B·T, d); adds its keys and values to the cache. */
  private attention(block: Gpt2Block, index: number, normed: Tensor2D, context: BlockContext): Tensor2D {
    const { config } = this;
    const { batch, time, options } = context.inputs;
    const heads = config.numAttentionHeads;
    const width = config.hiddenSize / heads;
    const projected = linear(normed, block.attention.weight, block.attention.bias); // (B·T, 3d)
    const parts = tf.split(projected, 3, 1) as [Tensor2D, Tensor2D, Tensor2D]; // q, k, v (B·T, d)
    let scale = config.scaleAttentionWeights ? 1 / Math.sqrt(width) : 1;
    if (config.scaleAttentionByInverseLayerIndex) scale /= index + 1;
    if (context.bias === undefined) {
      const mask = options.attentionMask;
      const shape = { batch, heads, kvHeads: heads, headDim: width, scale, ...(mask ? { mask } : {}) };
      const attended = fusedAttention(...parts, shape); // (B·T, d)
      return linear(attended, block.projection.weight, block.projection.bias); // (B·T, d)
    }
    const [query, key, value] = parts.map(
      (part) => part.reshape([batch, time, heads, width]) as Tensor4D, // (B, T, H, D)
    ) as [Tensor4D, Tensor4D, Tensor4D];
    const cached = options.cache?.layers[index];
    const keys = appendToCache(cached?.key, key.transpose([0, 2, 1, 3])); // (B, H, S, D)
    const values = appendToCache(cached?.value, value.transpose([0, 2, 1, 3])); // (B, H, S, D)
    context.cache.push({ key: keys, value: values });
    const attended = groupedQueryAttention(query, keys, values, context.bias, scale); // (B·T, d)
    return linear(attended, block.projection.weight, block.projection.bias); // (B·T, d)
  }
}
