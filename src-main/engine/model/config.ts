/**
 * One typed config per architecture family, with its defaults in one place, and the Hugging Face
 * config.json read and written (STYLE.md §7).
 *
 *   LlamaConfig  Llama 2/3 (incl. llama3 RoPE scaling), SmolLM/SmolLM2 (model_type "llama"), Mistral,
 *                Qwen2 (q/k/v bias), Qwen3 (q/k RMSNorm): one decoder, told apart by flags.
 *   Gpt2Config   GPT-2 (learned positions, LayerNorm, GELU MLP, Conv1D weights).
 *
 * Field names are the HF attribute names in camelCase; GPT-2's n_embd, n_layer, n_head, n_positions
 * and n_inner read as hiddenSize, numHiddenLayers, numAttentionHeads, maxPositionEmbeddings and
 * intermediateSize, as HF's own GPT2Config.attribute_map does, so code that only needs sizes can
 * ignore the family.
 *
 * Defaults are those of transformers' configuration_{llama,mistral,qwen2,qwen3,gpt2}.py; readHfConfig
 * also accepts both the transformers-5 keys (`rope_parameters`, `dtype`) and the legacy ones
 * (`rope_theta`, `rope_scaling`, `torch_dtype`).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { AppFailure } from '../../api/index.js';
import { errorCode } from '../workspace/atomic.js';

export type ModelFamily = 'llama' | 'gpt2';

/** The HF model_type values the Llama-family decoder runs. SmolLM and SmolLM2 are "llama". */
export type LlamaModelType = 'llama' | 'mistral' | 'qwen2' | 'qwen3';

/**
 * RoPE frequency scaling (HF modeling_rope_utils.py). `null` in a config means the default
 * rotary embedding with `ropeTheta`.
 */
export type RopeScaling =
  | { type: 'linear'; factor: number }
  | {
      type: 'llama3';
      factor: number;
      lowFreqFactor: number;
      highFreqFactor: number;
      originalMaxPositionEmbeddings: number;
    };

interface CommonConfig {
  vocabSize: number;
  hiddenSize: number;
  numHiddenLayers: number;
  numAttentionHeads: number;
  /** Width of the MLP's hidden layer. */
  intermediateSize: number;
  /** The longest sequence the model was trained for (GPT-2: the size of its position table). */
  maxPositionEmbeddings: number;
  /** The output head reuses the token embedding matrix (no separate lm_head.weight). */
  tieWordEmbeddings: boolean;
  /** Standard deviation of the normal initialisation of weight matrices. */
  initializerRange: number;
  bosTokenId: number | null;
  eosTokenId: number | number[] | null;
  padTokenId: number | null;
  /**
   * config.json keys the workbench does not interpret (dropout rates, sliding_window, use_cache,
   * generation settings, ...), written back unchanged by {@link toHfConfig}.
   */
  extra: Readonly<Record<string, unknown>>;
}

/** Llama-family decoder: RMSNorm, RoPE, grouped-query attention, SwiGLU MLP. */
export interface LlamaConfig extends CommonConfig {
  family: 'llama';
  modelType: LlamaModelType;
  /** Key/value heads; numAttentionHeads is a multiple of it (grouped-query attention). */
  numKeyValueHeads: number;
  /** Width of one attention head (Qwen3's can differ from hiddenSize / numAttentionHeads). */
  headDim: number;
  rmsNormEps: number;
  ropeTheta: number;
  ropeScaling: RopeScaling | null;
  /** Bias on q_proj, k_proj and v_proj: Qwen2 always; Llama and Qwen3 when attention_bias is set. */
  attentionQkvBias: boolean;
  /** Bias on o_proj: Llama and Qwen3 when attention_bias is set. */
  attentionOutputBias: boolean;
  /** Bias on gate_proj, up_proj and down_proj (Llama's mlp_bias). */
  mlpBias: boolean;
  /** RMSNorm over each head's queries and keys before RoPE (Qwen3's q_norm and k_norm). */
  qkNorm: boolean;
}

/** HF activation_function values GPT-2 runs with. The three tanh forms compute the same function. */
export type Gpt2Activation = 'gelu_new' | 'gelu_pytorch_tanh' | 'gelu_fast' | 'gelu' | 'relu' | 'silu' | 'swish';

/** GPT-2: learned positions, pre-LayerNorm blocks, fused q/k/v projection, GELU MLP. */
export interface Gpt2Config extends CommonConfig {
  family: 'gpt2';
  modelType: 'gpt2';
  activation: Gpt2Activation;
  layerNormEpsilon: number;
  /** Divide attention scores by √headDim (HF scale_attn_weights, true in every released GPT-2). */
  scaleAttentionWeights: boolean;
  /** Also divide attention scores of layer i by i + 1 (HF scale_attn_by_inverse_layer_idx). */
  scaleAttentionByInverseLayerIndex: boolean;
}

export type ModelConfig = LlamaConfig | Gpt2Config;

// ---------------------------------------------------------------------------------------------
// Defaults (transformers' configuration_*.py), the one place they live.

interface LlamaTypeDefaults {
  architecture: string;
  numKeyValueHeads: 'same_as_heads' | number;
  headDim: 'hidden_over_heads' | number;
  maxPositionEmbeddings: number;
  rmsNormEps: number;
  ropeTheta: number;
  tieWordEmbeddings: boolean;
  bosTokenId: number | null;
  eosTokenId: number | null;
}

const LLAMA_TYPES: Readonly<Record<LlamaModelType, LlamaTypeDefaults>> = {
  llama: {
    architecture: 'LlamaForCausalLM',
    numKeyValueHeads: 'same_as_heads',
    headDim: 'hidden_over_heads',
    maxPositionEmbeddings: 2048,
    rmsNormEps: 1e-6,
    ropeTheta: 10000,
    tieWordEmbeddings: false,
    bosTokenId: 1,
    eosTokenId: 2,
  },
  mistral: {
    architecture: 'MistralForCausalLM',
    numKeyValueHeads: 8,
    headDim: 'hidden_over_heads',
    maxPositionEmbeddings: 4096 * 32,
    rmsNormEps: 1e-6,
    ropeTheta: 10000,
    tieWordEmbeddings: false,
    bosTokenId: 1,
    eosTokenId: 2,
  },
  qwen2: {
    architecture: 'Qwen2ForCausalLM',
    numKeyValueHeads: 'same_as_heads',
    headDim: 'hidden_over_heads',
    maxPositionEmbeddings: 32768,
    rmsNormEps: 1e-6,
    ropeTheta: 10000,
    tieWordEmbeddings: false,
    bosTokenId: null,
    eosTokenId: null,
  },
  qwen3: {
    architecture: 'Qwen3ForCausalLM',
    numKeyValueHeads: 'same_as_heads',
    headDim: 128,
    maxPositionEmbeddings: 32768,
    rmsNormEps: 1e-6,
    ropeTheta: 10000,
    tieWordEmbeddings: false,
    bosTokenId: null,
    eosTokenId: null,
  },
};

const GPT2_ARCHITECTURE = 'GPT2LMHeadModel';

const GPT2_DEFAULTS = {
  maxPositionEmbeddings: 1024,
  activation: 'gelu_new',
  layerNormEpsilon: 1e-5,
  scaleAttentionWeights: true,
  scaleAttentionByInverseLayerIndex: false,
  // PretrainedConfig's default; GPT2Config does not override it.
  tieWordEmbeddings: true,
  bosTokenId: 50256,
  eosTokenId: 50256,
} as const;

const INITIALIZER_RANGE = 0.02;

const GPT2_ACTIVATIONS: readonly Gpt2Activation[] = [
  'gelu_new',
  'gelu_pytorch_tanh',
  'gelu_fast',
  'gelu',
  'relu',
  'silu',
  'swish',
];

// ---------------------------------------------------------------------------------------------
// Typed builders: what code (training from scratch, tests) uses to make a config.

/** What {@link llamaConfig} needs; everything not given takes the model type's HF default. */
export interface LlamaConfigOptions {
  modelType?: LlamaModelType;
  vocabSize: number;
  hiddenSize: number;
  intermediateSize: number;
  numHiddenLayers: number;
  numAttentionHeads: number;
  numKeyValueHeads?: number;
  headDim?: number;
  maxPositionEmbeddings?: number;
  rmsNormEps?: number;
  ropeTheta?: number;
  ropeScaling?: RopeScaling | null;
  /** HF attention_bias: bias on q/k/v/o (Llama, Qwen3). Qwen2 always has q/k/v bias; Mistral none. */
  attentionBias?: boolean;
  /** HF mlp_bias (Llama only). */
  mlpBias?: boolean;
  tieWordEmbeddings?: boolean;
  initializerRange?: number;
  bosTokenId?: number | null;
  eosTokenId?: number | number[] | null;
  padTokenId?: number | null;
  extra?: Record<string, unknown>;
}

/**
 * A complete, validated Llama-family config. The model type decides the structural flags:
 * Qwen2 gets q/k/v bias, Qwen3 q/k norm, Mistral no bias.
 * @throws AppFailure `model_config_invalid` naming the field
 */
export function llamaConfig(options: LlamaConfigOptions): LlamaConfig {
  const modelType = options.modelType ?? 'llama';
  const defaults = LLAMA_TYPES[modelType];
  const numAttentionHeads = options.numAttentionHeads;
  const attentionBias = options.attentionBias ?? false;
  const config: LlamaConfig = {
    family: 'llama',
    modelType,
    vocabSize: options.vocabSize,
    hiddenSize: options.hiddenSize,
    intermediateSize: options.intermediateSize,
    numHiddenLayers: options.numHiddenLayers,
    numAttentionHeads,
    numKeyValueHeads:
      options.numKeyValueHeads ??
      (defaults.numKeyValueHeads === 'same_as_heads' ? numAttentionHeads : defaults.numKeyValueHeads),
    headDim:
      options.headDim ??
      (defaults.headDim === 'hidden_over_heads' ? options.hiddenSize / numAttentionHeads : defaults.headDim),
    maxPositionEmbeddings: options.maxPositionEmbeddings ?? defaults.maxPositionEmbeddings,
    rmsNormEps: options.rmsNormEps ?? defaults.rmsNormEps,
    ropeTheta: options.ropeTheta ?? defaults.ropeTheta,
    ropeScaling: options.ropeScaling ?? null,
    attentionQkvBias: modelType === 'qwen2' || (modelType !== 'mistral' && attentionBias),
    attentionOutputBias: (modelType === 'llama' || modelType === 'qwen3') && attentionBias,
    mlpBias: modelType === 'llama' && (options.mlpBias ?? false),
    qkNorm: modelType === 'qwen3',
    tieWordEmbeddings: options.tieWordEmbeddings ?? defaults.tieWordEmbeddings,
    initializerRange: options.initializerRange ?? INITIALIZER_RANGE,
    bosTokenId: options.bosTokenId === undefined ? defaults.bosTokenId : options.bosTokenId,
    eosTokenId: options.eosTokenId === undefined ? defaults.eosTokenId : options.eosTokenId,
    padTokenId: options.padTokenId ?? null,
    extra: { ...options.extra },
  };
  if (modelType === 'mistral' && options.attentionBias === true) {
    throw invalidConfig('attentionBias', 'Mistral has no attention bias.');
  }
  if (modelType !== 'llama' && options.mlpBias === true) {
    throw invalidConfig('mlpBias', `${modelType} has no MLP bias (only model_type "llama" has mlp_bias).`);
  }
  validateModelConfig(config);
  return config;
}

/** What {@link gpt2Config} needs; everything not given takes GPT-2's HF default. */
export interface Gpt2ConfigOptions {
  vocabSize: number;
  hiddenSize: number;
  numHiddenLayers: number;
  numAttentionHeads: number;
  /** Default 4 × hiddenSize (HF n_inner = null). */
  intermediateSize?: number;
  maxPositionEmbeddings?: number;
  activation?: Gpt2Activation;
  layerNormEpsilon?: number;
  scaleAttentionWeights?: boolean;
  scaleAttentionByInverseLayerIndex?: boolean;
  tieWordEmbeddings?: boolean;
  initializerRange?: number;
  bosTokenId?: number | null;
  eosTokenId?: number | number[] | null;
  padTokenId?: number | null;
  extra?: Record<string, unknown>;
}

/**
 * A complete, validated GPT-2 config.
 * @throws AppFailure `model_config_invalid` naming the field
 */
export function gpt2Config(options: Gpt2ConfigOptions): Gpt2Config {
  const config: Gpt2Config = {
    family: 'gpt2',
    modelType: 'gpt2',
    vocabSize: options.vocabSize,
    hiddenSize: options.hiddenSize,
    numHiddenLayers: options.numHiddenLayers,
    numAttentionHeads: options.numAttentionHeads,
    intermediateSize: options.intermediateSize ?? 4 * options.hiddenSize,
    maxPositionEmbeddings: options.maxPositionEmbeddings ?? GPT2_DEFAULTS.maxPositionEmbeddings,
    activation: options.activation ?? GPT2_DEFAULTS.activation,
    layerNormEpsilon: options.layerNormEpsilon ?? GPT2_DEFAULTS.layerNormEpsilon,
    scaleAttentionWeights: options.scaleAttentionWeights ?? GPT2_DEFAULTS.scaleAttentionWeights,
    scaleAttentionByInverseLayerIndex:
      options.scaleAttentionByInverseLayerIndex ?? GPT2_DEFAULTS.scaleAttentionByInverseLayerIndex,
    tieWordEmbeddings: options.tieWordEmbeddings ?? GPT2_DEFAULTS.tieWordEmbeddings,
    initializerRange: options.initializerRange ?? INITIALIZER_RANGE,
    bosTokenId: options.bosTokenId === undefined ? GPT2_DEFAULTS.bosTokenId : options.bosTokenId,
    eosTokenId: options.eosTokenId === undefined ? GPT2_DEFAULTS.eosTokenId : options.eosTokenId,
    padTokenId: options.padTokenId ?? null,
    extra: { ...options.extra },
  };
  validateModelConfig(config);
  return config;
}

/**
 * Checks a config built by hand (or changed after building): sizes are positive integers, heads
 * divide evenly, RoPE parameters are usable, and the Llama flags are ones the model type can express
 * in config.json.
 * @throws AppFailure `model_config_invalid` naming the field
 */
export function validateModelConfig(config: ModelConfig): void {
  const positive = (field: string, value: number) => {
    if (!Number.isSafeInteger(value) || value <= 0) {
      throw invalidConfig(field, `${field} must be a positive integer, not ${String(value)}.`);
    }
  };
  const positiveNumber = (field: string, value: number) => {
    if (!Number.isFinite(value) || value <= 0) {
      throw invalidConfig(field, `${field} must be a positive number, not ${String(value)}.`);
    }
  };
  positive('vocabSize', config.vocabSize);
  positive('hiddenSize', config.hiddenSize);
  positive('intermediateSize', config.intermediateSize);
  positive('numHiddenLayers', config.numHiddenLayers);
  positive('numAttentionHeads', config.numAttentionHeads);
  positive('maxPositionEmbeddings', config.maxPositionEmbeddings);
  positiveNumber('initializerRange', config.initializerRange);
  for (const [field, value] of [
    ['bosTokenId', config.bosTokenId],
    ['padTokenId', config.padTokenId],
    ...(Array.isArray(config.eosTokenId)
      ? config.eosTokenId.map((id) => ['eosTokenId', id] as const)
      : [['eosTokenId', config.eosTokenId] as const]),
  ] as const) {
    if (value !== null && (!Number.isSafeInteger(value) || value < 0)) {
      throw invalidConfig(field, `${field} must be a non-negative integer or null, not ${String(value)}.`);
    }
  }
  if (config.family === 'gpt2') {
    positiveNumber('layerNormEpsilon', config.layerNormEpsilon);
    if (config.hiddenSize % config.numAttentionHeads !== 0) {
      throw invalidConfig(
        'numAttentionHeads',
        `hiddenSize (${config.hiddenSize}) must be a multiple of numAttentionHeads (${config.numAttentionHeads}).`,
      );
    }
    if (!GPT2_ACTIVATIONS.includes(config.activation)) {
      throw new AppFailure(
        'model_unsupported_architecture',
        `GPT-2 activation "${String(config.activation)}" is not supported (supported: ${GPT2_ACTIVATIONS.join(', ')}).`,
        { field: 'activation' },
      );
    }
    return;
  }
  positive('numKeyValueHeads', config.numKeyValueHeads);
  positive('headDim', config.headDim);
  positiveNumber('rmsNormEps', config.rmsNormEps);
  positiveNumber('ropeTheta', config.ropeTheta);
  if (config.numAttentionHeads % config.numKeyValueHeads !== 0) {
    throw invalidConfig(
      'numKeyValueHeads',
      `numAttentionHeads (${config.numAttentionHeads}) must be a multiple of numKeyValueHeads (${config.numKeyValueHeads}).`,
    );
  }
  if (config.headDim % 2 !== 0) {
    throw invalidConfig('headDim', `headDim must be even for rotary embeddings, not ${config.headDim}.`);
  }
  const scaling = config.ropeScaling;
  if (scaling !== null) {
    positiveNumber('ropeScaling.factor', scaling.factor);
    if (scaling.type === 'llama3') {
      positiveNumber('ropeScaling.lowFreqFactor', scaling.lowFreqFactor);
      positive('ropeScaling.originalMaxPositionEmbeddings', scaling.originalMaxPositionEmbeddings);
      if (!(scaling.highFreqFactor > scaling.lowFreqFactor)) {
        throw invalidConfig(
          'ropeScaling.highFreqFactor',
          `llama3 RoPE scaling needs highFreqFactor (${scaling.highFreqFactor}) > lowFreqFactor (${scaling.lowFreqFactor}).`,
        );
      }
    }
  }
  const expressible: Record<LlamaModelType, boolean> = {
    llama: !config.qkNorm && config.attentionQkvBias === config.attentionOutputBias,
    mistral: !config.qkNorm && !config.attentionQkvBias && !config.attentionOutputBias && !config.mlpBias,
    qwen2: !config.qkNorm && config.attentionQkvBias && !config.attentionOutputBias && !config.mlpBias,
    qwen3: config.qkNorm && config.attentionQkvBias === config.attentionOutputBias && !config.mlpBias,
  };
  if (!(config.modelType in expressible)) {
    throw new AppFailure(
      'model_unsupported_architecture',
      `model type "${String(config.modelType)}" is not supported.`,
    );
  }
  if (!expressible[config.modelType]) {
    throw invalidConfig(
      'modelType',
      `The flags (attentionQkvBias ${config.attentionQkvBias}, attentionOutputBias ${config.attentionOutputBias}, ` +
        `mlpBias ${config.mlpBias}, qkNorm ${config.qkNorm}) do not fit model type "${config.modelType}".`,
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Hugging Face config.json

const tokenId = z.number().int().nonnegative().nullish();

/** The config.json keys the Llama family reads; all others land in `extra`. */
const hfLlamaSchema = z.looseObject({
  vocab_size: z.number().int().positive(),
  hidden_size: z.number().int().positive(),
  intermediate_size: z.number().int().positive(),
  num_hidden_layers: z.number().int().positive(),
  num_attention_heads: z.number().int().positive(),
  num_key_value_heads: z.number().int().positive().nullish(),
  head_dim: z.number().int().positive().nullish(),
  max_position_embeddings: z.number().int().positive().nullish(),
  rms_norm_eps: z.number().positive().nullish(),
  rope_theta: z.number().positive().nullish(),
  rope_scaling: z.record(z.string(), z.unknown()).nullish(),
  rope_parameters: z.record(z.string(), z.unknown()).nullish(),
  attention_bias: z.boolean().nullish(),
  mlp_bias: z.boolean().nullish(),
  hidden_act: z.string().nullish(),
  tie_word_embeddings: z.boolean().nullish(),
  initializer_range: z.number().positive().nullish(),
  bos_token_id: tokenId,
  eos_token_id: z.union([z.number().int().nonnegative(), z.array(z.number().int().nonnegative())]).nullish(),
  pad_token_id: tokenId,
});

const LLAMA_KEYS = [...Object.keys(hfLlamaSchema.shape), 'architectures', 'model_type', 'dtype', 'torch_dtype'];

const hfGpt2Schema = z.looseObject({
  vocab_size: z.number().int().positive(),
  n_embd: z.number().int().positive(),
  n_layer: z.number().int().positive(),
  n_head: z.number().int().positive(),
  n_inner: z.number().int().positive().nullish(),
  n_positions: z.number().int().positive().nullish(),
  activation_function: z.string().nullish(),
  layer_norm_epsilon: z.number().positive().nullish(),
  scale_attn_weights: z.boolean().nullish(),
  scale_attn_by_inverse_layer_idx: z.boolean().nullish(),
  add_cross_attention: z.boolean().nullish(),
  tie_word_embeddings: z.boolean().nullish(),
  initializer_range: z.number().positive().nullish(),
  bos_token_id: tokenId,
  eos_token_id: z.union([z.number().int().nonnegative(), z.array(z.number().int().nonnegative())]).nullish(),
  pad_token_id: tokenId,
});

const GPT2_KEYS = [...Object.keys(hfGpt2Schema.shape), 'architectures', 'model_type', 'dtype', 'torch_dtype'];

/** Keys never written back: they would make transformers run code or settings that no longer apply. */
const DROPPED_KEYS = new Set(['auto_map', '_name_or_path']);

const ARCHITECTURE_TYPES: Readonly<Record<string, LlamaModelType | 'gpt2'>> = {
  LlamaForCausalLM: 'llama',
  MistralForCausalLM: 'mistral',
  Qwen2ForCausalLM: 'qwen2',
  Qwen3ForCausalLM: 'qwen3',
  GPT2LMHeadModel: 'gpt2',
};

/**
 * The sequence-classification architectures (reward models: a decoder with a one-label `score`
 * head instead of lm_head), and the causal-LM class whose decoder each wraps.
 */
export const SEQUENCE_CLASSIFICATION_ARCHITECTURES: Readonly<Record<string, string>> = {
  LlamaForSequenceClassification: 'LlamaForCausalLM',
  MistralForSequenceClassification: 'MistralForCausalLM',
  Qwen2ForSequenceClassification: 'Qwen2ForCausalLM',
  Qwen3ForSequenceClassification: 'Qwen3ForCausalLM',
  GPT2ForSequenceClassification: 'GPT2LMHeadModel',
};

/** What a model folder is for: a policy (causal LM) or a reward model (`*ForSequenceClassification`). */
export type ModelRole = 'policy' | 'reward';

/**
 * Reads a parsed Hugging Face config.json into a typed config. `model_type` and `architectures`
 * decide the family (either may be missing, not both; they must agree). Accepts transformers-5
 * keys (`rope_parameters`, `dtype`) and legacy ones (`rope_theta`, `rope_scaling`, `torch_dtype`).
 * Keys it does not interpret are kept in `extra`.
 * @throws AppFailure `model_config_invalid` (malformed), `model_unsupported_architecture`
 */
export function readHfConfig(json: unknown): ModelConfig {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw invalidConfig('config.json', 'config.json must hold a JSON object.');
  }
  const raw = json as Record<string, unknown>;
  const modelType = familyOf(raw);
  if (raw.quantization_config !== undefined && raw.quantization_config !== null) {
    throw new AppFailure(
      'model_unsupported_architecture',
      'The checkpoint is quantized (config.json has quantization_config); the workbench reads float weights only.',
      { field: 'quantization_config' },
    );
  }
  return modelType === 'gpt2' ? readGpt2(raw) : readLlama(raw, modelType);
}

function familyOf(raw: Record<string, unknown>): LlamaModelType | 'gpt2' {
  const declared = raw.model_type;
  if (declared !== undefined && typeof declared !== 'string') {
    throw invalidConfig('model_type', 'model_type must be a string.');
  }
  const architectures = raw.architectures;
  if (architectures !== undefined && architectures !== null) {
    if (!Array.isArray(architectures) || !architectures.every((name) => typeof name === 'string')) {
      throw invalidConfig('architectures', 'architectures must be a list of class names.');
    }
  }
  const listed = (architectures ?? []) as string[];
  const supportedTypes = [...new Set(Object.values(ARCHITECTURE_TYPES))];
  if (declared !== undefined && !supportedTypes.includes(declared as LlamaModelType)) {
    throw unsupported(`model_type "${declared}"`);
  }
  for (const name of listed) {
    if (name in SEQUENCE_CLASSIFICATION_ARCHITECTURES) throw rewardModelRefused(name);
    if (!(name in ARCHITECTURE_TYPES)) throw unsupported(`architecture "${name}"`);
  }
  const fromArchitectures = listed.map((name) => ARCHITECTURE_TYPES[name]);
  const family = (declared as LlamaModelType | 'gpt2' | undefined) ?? fromArchitectures[0];
  if (family === undefined) {
    throw invalidConfig('model_type', 'config.json names neither model_type nor architectures.');
  }
  const disagreeing = fromArchitectures.find((type) => type !== family);
  if (disagreeing !== undefined) {
    throw invalidConfig(
      'architectures',
      `architectures (${listed.join(', ')}) do not match model_type "${String(declared)}".`,
    );
  }
  return family;
}

function readLlama(raw: Record<string, unknown>, modelType: LlamaModelType): LlamaConfig {
  const hf = parseWith(hfLlamaSchema, raw);
  const activation = hf.hidden_act ?? 'silu';
  if (activation !== 'silu' && activation !== 'swish') {
    throw new AppFailure(
      'model_unsupported_architecture',
      `hidden_act "${activation}" is not supported by the Llama-family MLP (it uses silu).`,
      { field: 'hidden_act' },
    );
  }
  const rope = readRope(hf.rope_parameters ?? null, hf.rope_scaling ?? null, hf.rope_theta ?? null);
  return llamaConfig({
    modelType,
    vocabSize: hf.vocab_size,
    hiddenSize: hf.hidden_size,
    intermediateSize: hf.intermediate_size,
    numHiddenLayers: hf.num_hidden_layers,
    numAttentionHeads: hf.num_attention_heads,
    ...definedOnly({
      numKeyValueHeads: hf.num_key_value_heads ?? undefined,
      headDim: hf.head_dim ?? undefined,
      maxPositionEmbeddings: hf.max_position_embeddings ?? undefined,
      rmsNormEps: hf.rms_norm_eps ?? undefined,
      ropeTheta: rope.theta ?? undefined,
      // Qwen2's q/k/v bias is fixed by the architecture; its config has no attention_bias.
      attentionBias: modelType === 'llama' || modelType === 'qwen3' ? (hf.attention_bias ?? undefined) : undefined,
      mlpBias: modelType === 'llama' ? (hf.mlp_bias ?? undefined) : undefined,
      tieWordEmbeddings: hf.tie_word_embeddings ?? undefined,
      initializerRange: hf.initializer_range ?? undefined,
      bosTokenId: hf.bos_token_id,
      eosTokenId: hf.eos_token_id,
      padTokenId: hf.pad_token_id,
    }),
    ropeScaling: rope.scaling,
    extra: extraKeys(raw, LLAMA_KEYS),
  });
}

function readGpt2(raw: Record<string, unknown>): Gpt2Config {
  const hf = parseWith(hfGpt2Schema, raw);
  if (hf.add_cross_attention === true) {
    throw new AppFailure(
      'model_unsupported_architecture',
      'GPT-2 with cross-attention (add_cross_attention) is an encoder-decoder part, not a causal language model.',
      { field: 'add_cross_attention' },
    );
  }
  const activation = hf.activation_function ?? GPT2_DEFAULTS.activation;
  if (!GPT2_ACTIVATIONS.includes(activation as Gpt2Activation)) {
    throw new AppFailure(
      'model_unsupported_architecture',
      `activation_function "${activation}" is not supported (supported: ${GPT2_ACTIVATIONS.join(', ')}).`,
      { field: 'activation_function' },
    );
  }
  return gpt2Config({
    vocabSize: hf.vocab_size,
    hiddenSize: hf.n_embd,
    numHiddenLayers: hf.n_layer,
    numAttentionHeads: hf.n_head,
    activation: activation as Gpt2Activation,
    ...definedOnly({
      intermediateSize: hf.n_inner ?? undefined,
      maxPositionEmbeddings: hf.n_positions ?? undefined,
      layerNormEpsilon: hf.layer_norm_epsilon ?? undefined,
      scaleAttentionWeights: hf.scale_attn_weights ?? undefined,
      scaleAttentionByInverseLayerIndex: hf.scale_attn_by_inverse_layer_idx ?? undefined,
      tieWordEmbeddings: hf.tie_word_embeddings ?? undefined,
      initializerRange: hf.initializer_range ?? undefined,
      bosTokenId: hf.bos_token_id,
      eosTokenId: hf.eos_token_id,
      padTokenId: hf.pad_token_id,
    }),
    extra: extraKeys(raw, GPT2_KEYS),
  });
}

/**
 * RoPE settings from either transformers-5 `rope_parameters` ({rope_type, rope_theta, ...}) or the
 * legacy `rope_scaling` ({rope_type | type, factor, ...}) plus `rope_theta`. rope_parameters wins.
 */
function readRope(
  parameters: Record<string, unknown> | null,
  legacyScaling: Record<string, unknown> | null,
  legacyTheta: number | null,
): { theta: number | null; scaling: RopeScaling | null } {
  const source = parameters ?? legacyScaling;
  const field = parameters !== null ? 'rope_parameters' : 'rope_scaling';
  const thetaValue = parameters?.rope_theta ?? legacyTheta;
  if (thetaValue !== null && thetaValue !== undefined && (typeof thetaValue !== 'number' || !(thetaValue > 0))) {
    throw invalidConfig(
      `${field}.rope_theta`,
      `rope_theta must be a positive number, not ${JSON.stringify(thetaValue)}.`,
    );
  }
  const theta = (thetaValue as number | null | undefined) ?? null;
  if (source === null) return { theta, scaling: null };
  if (Object.values(source).some((value) => typeof value === 'object' && value !== null)) {
    throw new AppFailure(
      'model_unsupported_architecture',
      `${field} holds per-layer RoPE settings, which the supported architectures do not use.`,
      { field },
    );
  }
  const type = source.rope_type ?? source.type ?? 'default';
  const number = (key: string): number => {
    const value = source[key];
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      throw invalidConfig(`${field}.${key}`, `${field}.${key} must be a number for rope_type "${String(type)}".`);
    }
    return value;
  };
  switch (type) {
    case 'default':
      return { theta, scaling: null };
    case 'linear':
      return { theta, scaling: { type: 'linear', factor: number('factor') } };
    case 'llama3':
      return {
        theta,
        scaling: {
          type: 'llama3',
          factor: number('factor'),
          lowFreqFactor: number('low_freq_factor'),
          highFreqFactor: number('high_freq_factor'),
          originalMaxPositionEmbeddings: number('original_max_position_embeddings'),
        },
      };
    default:
      throw new AppFailure(
        'model_unsupported_architecture',
        `RoPE type "${String(type)}" is not supported (supported: default, linear, llama3).`,
        { field: `${field}.rope_type` },
      );
  }
}

/**
 * The config.json transformers loads for `config`: `architectures`, `model_type` and every field,
 * with RoPE written both ways (legacy `rope_theta` + `rope_scaling` for transformers 4, and
 * `rope_parameters` for transformers 5) and the weights' dtype as `dtype` and `torch_dtype`.
 * Keys in `config.extra` are kept. Keys are sorted, as transformers writes them.
 */
export function toHfConfig(config: ModelConfig, dtype: 'float32' | 'bfloat16' | 'float16' = 'float32') {
  const extra = Object.fromEntries(Object.entries(config.extra).filter(([key]) => !DROPPED_KEYS.has(key)));
  const common = {
    vocab_size: config.vocabSize,
    tie_word_embeddings: config.tieWordEmbeddings,
    initializer_range: config.initializerRange,
    bos_token_id: config.bosTokenId,
    eos_token_id: config.eosTokenId,
    pad_token_id: config.padTokenId,
    dtype,
    torch_dtype: dtype,
  };
  let fields: Record<string, unknown>;
  if (config.family === 'gpt2') {
    fields = {
      architectures: [GPT2_ARCHITECTURE],
      model_type: 'gpt2',
      n_embd: config.hiddenSize,
      n_layer: config.numHiddenLayers,
      n_head: config.numAttentionHeads,
      n_inner: config.intermediateSize,
      n_positions: config.maxPositionEmbeddings,
      activation_function: config.activation,
      layer_norm_epsilon: config.layerNormEpsilon,
      scale_attn_weights: config.scaleAttentionWeights,
      scale_attn_by_inverse_layer_idx: config.scaleAttentionByInverseLayerIndex,
    };
  } else {
    const scaling = config.ropeScaling;
    const scalingFields =
      scaling === null
        ? null
        : scaling.type === 'linear'
          ? { rope_type: 'linear', factor: scaling.factor }
          : {
              rope_type: 'llama3',
              factor: scaling.factor,
              low_freq_factor: scaling.lowFreqFactor,
              high_freq_factor: scaling.highFreqFactor,
              original_max_position_embeddings: scaling.originalMaxPositionEmbeddings,
            };
    fields = {
      architectures: [LLAMA_TYPES[config.modelType].architecture],
      model_type: config.modelType,
      hidden_size: config.hiddenSize,
      intermediate_size: config.intermediateSize,
      num_hidden_layers: config.numHiddenLayers,
      num_attention_heads: config.numAttentionHeads,
      num_key_value_heads: config.numKeyValueHeads,
      head_dim: config.headDim,
      hidden_act: 'silu',
      max_position_embeddings: config.maxPositionEmbeddings,
      rms_norm_eps: config.rmsNormEps,
      rope_theta: config.ropeTheta,
      rope_scaling: scalingFields,
      rope_parameters: { ...(scalingFields ?? { rope_type: 'default' }), rope_theta: config.ropeTheta },
      ...(config.modelType === 'llama' || config.modelType === 'qwen3'
        ? { attention_bias: config.attentionOutputBias }
        : {}),
      ...(config.modelType === 'llama' ? { mlp_bias: config.mlpBias } : {}),
    };
  }
  const merged: Record<string, unknown> = { ...extra, ...common, ...fields };
  return Object.fromEntries(
    Object.keys(merged)
      .sort()
      .map((key) => [key, merged[key]]),
  ) as Record<string, unknown>;
}

// ---------------------------------------------------------------------------------------------

function parseWith<T extends z.ZodType>(schema: T, raw: Record<string, unknown>): z.infer<T> {
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const field = issue?.path.join('.') ?? 'config.json';
  const value = issue?.path.reduce<unknown>(
    (node, key) =>
      typeof node === 'object' && node !== null ? (node as Record<PropertyKey, unknown>)[key] : undefined,
    raw,
  );
  const problem = value === undefined ? 'is missing' : `has the invalid value ${JSON.stringify(value)}`;
  throw invalidConfig(field, `config.json: "${field}" ${problem} (${issue?.message ?? 'invalid'}).`);
}

function extraKeys(raw: Record<string, unknown>, interpreted: readonly string[]): Record<string, unknown> {
  const known = new Set(interpreted);
  return Object.fromEntries(Object.entries(raw).filter(([key]) => !known.has(key)));
}

/** Drops keys whose value is undefined, so a builder's `??` defaults apply to them. */
function definedOnly<T extends Record<string, unknown>>(values: T): Partial<T> {
  return Object.fromEntries(Object.entries(values).filter(([, value]) => value !== undefined)) as Partial<T>;
}

function invalidConfig(field: string, message: string): AppFailure {
  return new AppFailure('model_config_invalid', message, { field });
}

function unsupported(what: string): AppFailure {
  return new AppFailure(
    'model_unsupported_architecture',
    `${what} is not supported; the workbench runs ${Object.keys(ARCHITECTURE_TYPES).join(', ')} ` +
      '(SmolLM and SmolLM2 are LlamaForCausalLM).',
    { supported: Object.keys(ARCHITECTURE_TYPES) },
  );
}

function rewardModelRefused(architecture: string): AppFailure {
  return new AppFailure(
    'model_unsupported_architecture',
    `architecture "${architecture}" is a reward model (a decoder with a score head): it scores responses and ` +
      "cannot generate or be trained as a policy. Use it in Compare or as IterDPO's judge.",
    { architecture, role: 'reward' },
  );
}

/** The sequence-classification class a config.json lists, or null for any other model. */
function rewardArchitectureOf(json: unknown): string | null {
  const architectures = (json as { architectures?: unknown } | null)?.architectures;
  if (!Array.isArray(architectures)) return null;
  const found = architectures.find(
    (name): name is string => typeof name === 'string' && name in SEQUENCE_CLASSIFICATION_ARCHITECTURES,
  );
  return found ?? null;
}

export interface ReadConfigFileOptions {
  /**
   * Also read a reward model's config (`*ForSequenceClassification`), as the config of the decoder
   * it wraps with tied embeddings (it has no lm_head). Default false: such a folder is refused with
   * `model_unsupported_architecture`, as a causal LM cannot be loaded from it.
   */
  acceptReward?: boolean;
}

/**
 * Reads and types the config.json of an HF model folder, without loading weights or tfjs (the
 * host previews folders with it). Returns the raw JSON too, for display, the HF class name and
 * whether the folder is a policy or a reward model.
 * @throws AppFailure `model_folder_invalid` (no config.json), `model_config_invalid`,
 * `model_unsupported_architecture`
 */
export async function readConfigFile(
  folder: string,
  options: ReadConfigFileOptions = {},
): Promise<{ config: ModelConfig; json: Record<string, unknown>; architecture: string; role: ModelRole }> {
  const file = path.join(folder, 'config.json');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const reason = errorCode(error) ?? 'unreadable';
    throw new AppFailure('model_folder_invalid', `${folder} has no readable config.json (${reason}).`, { folder });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new AppFailure('model_config_invalid', `${file} is not valid JSON (${(error as Error).message}).`, { file });
  }
  const rewardArchitecture = options.acceptReward === true ? rewardArchitectureOf(json) : null;
  try {
    if (rewardArchitecture !== null) {
      const decoder = {
        ...(json as Record<string, unknown>),
        architectures: [SEQUENCE_CLASSIFICATION_ARCHITECTURES[rewardArchitecture]],
        tie_word_embeddings: true,
      };
      const config = readHfConfig(decoder);
      return { config, json: json as Record<string, unknown>, architecture: rewardArchitecture, role: 'reward' };
    }
    const config = readHfConfig(json);
    const architecture = (toHfConfig(config) as { architectures: string[] }).architectures[0] ?? config.modelType;
    return { config, json: json as Record<string, unknown>, architecture, role: 'policy' };
  } catch (error) {
    if (error instanceof AppFailure) throw new AppFailure(error.code, `${file}: ${error.message}`, error.details);
    throw error;
  }
}
