import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { AppFailure } from '../../../src-main/api/index.js';
import type { ErrorCode } from '../../../src-main/api/index.js';
import {
  gpt2Config,
  llamaConfig,
  readHfConfig,
  toHfConfig,
  validateModelConfig,
} from '../../../src-main/engine/model/config.js';
import { TINY_GPT2, TINY_LLAMA, TINY_QWEN3 } from './helpers.js';

const readConfigJson = async (folder: string) =>
  JSON.parse(await readFile(path.join(folder, 'config.json'), 'utf8')) as Record<string, unknown>;

function failure(run: () => unknown): AppFailure {
  try {
    run();
  } catch (error) {
    if (error instanceof AppFailure) return error;
    throw error;
  }
  throw new Error('expected an AppFailure');
}

function expectFailure(run: () => unknown, code: ErrorCode, message: RegExp): void {
  const thrown = failure(run);
  expect(thrown.code).toBe(code);
  expect(thrown.message).toMatch(message);
}

/** SmolLM2-135M's config.json (HuggingFaceTB/SmolLM2-135M), the size a user is likely to load. */
const SMOLLM2 = {
  architectures: ['LlamaForCausalLM'],
  attention_bias: false,
  bos_token_id: 0,
  eos_token_id: 0,
  hidden_act: 'silu',
  hidden_size: 576,
  initializer_range: 0.041666666666666664,
  intermediate_size: 1536,
  max_position_embeddings: 8192,
  model_type: 'llama',
  num_attention_heads: 9,
  num_hidden_layers: 30,
  num_key_value_heads: 3,
  rms_norm_eps: 1e-5,
  rope_scaling: null,
  rope_theta: 100000,
  tie_word_embeddings: true,
  torch_dtype: 'bfloat16',
  transformers_version: '4.40.1',
  use_cache: true,
  vocab_size: 49152,
};

/** Qwen2.5-0.5B-style config (legacy keys, sliding window settings it does not use). */
const QWEN2 = {
  architectures: ['Qwen2ForCausalLM'],
  model_type: 'qwen2',
  hidden_size: 896,
  intermediate_size: 4864,
  num_hidden_layers: 24,
  num_attention_heads: 14,
  num_key_value_heads: 2,
  max_position_embeddings: 32768,
  rms_norm_eps: 1e-6,
  rope_theta: 1000000,
  sliding_window: 32768,
  use_sliding_window: false,
  max_window_layers: 21,
  tie_word_embeddings: true,
  torch_dtype: 'bfloat16',
  vocab_size: 151936,
};

const MISTRAL = {
  architectures: ['MistralForCausalLM'],
  model_type: 'mistral',
  hidden_size: 64,
  intermediate_size: 128,
  num_hidden_layers: 2,
  num_attention_heads: 8,
  vocab_size: 100,
  sliding_window: 4096,
};

describe('readHfConfig on the fixtures', () => {
  it('reads the tiny Llama: GQA, head_dim, llama3 RoPE scaling from transformers-5 keys, tied', async () => {
    const config = readHfConfig(await readConfigJson(TINY_LLAMA));
    expect(config).toMatchObject({
      family: 'llama',
      modelType: 'llama',
      vocabSize: 32,
      hiddenSize: 32,
      intermediateSize: 48,
      numHiddenLayers: 2,
      numAttentionHeads: 4,
      numKeyValueHeads: 2,
      headDim: 8,
      maxPositionEmbeddings: 64,
      rmsNormEps: 1e-6,
      ropeTheta: 500000,
      ropeScaling: {
        type: 'llama3',
        factor: 8,
        lowFreqFactor: 1,
        highFreqFactor: 4,
        originalMaxPositionEmbeddings: 16,
      },
      attentionQkvBias: false,
      attentionOutputBias: false,
      mlpBias: false,
      qkNorm: false,
      tieWordEmbeddings: true,
      bosTokenId: 1,
      eosTokenId: 2,
      padTokenId: 0,
    });
    // Keys it does not interpret are kept for writing back.
    expect(config.extra).toMatchObject({ pretraining_tp: 1, use_cache: false, attention_dropout: 0 });
    expect(config.extra).not.toHaveProperty('rope_parameters');
  });

  it('reads the tiny Qwen3: q/k norm, head_dim 8 with hidden 16', async () => {
    const config = readHfConfig(await readConfigJson(TINY_QWEN3));
    expect(config).toMatchObject({
      family: 'llama',
      modelType: 'qwen3',
      hiddenSize: 16,
      headDim: 8,
      numAttentionHeads: 4,
      numKeyValueHeads: 2,
      ropeTheta: 1000000,
      ropeScaling: null,
      qkNorm: true,
      attentionQkvBias: false,
    });
    expect(config.extra).toMatchObject({ layer_types: ['full_attention', 'full_attention'], sliding_window: null });
  });

  it('reads the tiny GPT-2 under the common size names', async () => {
    const config = readHfConfig(await readConfigJson(TINY_GPT2));
    expect(config).toMatchObject({
      family: 'gpt2',
      vocabSize: 61,
      hiddenSize: 32,
      numHiddenLayers: 2,
      numAttentionHeads: 2,
      intermediateSize: 64,
      maxPositionEmbeddings: 16,
      activation: 'gelu_new',
      layerNormEpsilon: 1e-5,
      scaleAttentionWeights: true,
      tieWordEmbeddings: true,
      // HF GPT2Config defaults, as the config.json names none.
      bosTokenId: 50256,
      eosTokenId: 50256,
    });
    expect(config.extra).toMatchObject({ resid_pdrop: 0, embd_pdrop: 0, attn_pdrop: 0 });
  });

  it.each([
    ['tiny Llama', TINY_LLAMA],
    ['tiny Qwen3', TINY_QWEN3],
    ['tiny GPT-2', TINY_GPT2],
  ])('%s: read → write → read gives the same config', async (_name, folder) => {
    const config = readHfConfig(await readConfigJson(folder));
    const written = toHfConfig(config);
    expect(readHfConfig(JSON.parse(JSON.stringify(written)))).toEqual(config);
  });
});

describe('toHfConfig', () => {
  it('writes what transformers needs: architectures, model_type, RoPE both ways, dtype both ways', async () => {
    const written = toHfConfig(readHfConfig(await readConfigJson(TINY_LLAMA)));
    expect(written).toMatchObject({
      architectures: ['LlamaForCausalLM'],
      model_type: 'llama',
      hidden_act: 'silu',
      head_dim: 8,
      num_key_value_heads: 2,
      rope_theta: 500000,
      rope_scaling: {
        rope_type: 'llama3',
        factor: 8,
        low_freq_factor: 1,
        high_freq_factor: 4,
        original_max_position_embeddings: 16,
      },
      rope_parameters: { rope_type: 'llama3', rope_theta: 500000, factor: 8 },
      attention_bias: false,
      mlp_bias: false,
      tie_word_embeddings: true,
      dtype: 'float32',
      torch_dtype: 'float32',
      pretraining_tp: 1,
    });
    expect(Object.keys(written)).toEqual([...Object.keys(written)].sort());
  });

  it('writes GPT-2 under its own key names', () => {
    const written = toHfConfig(gpt2Config({ vocabSize: 50, hiddenSize: 16, numHiddenLayers: 1, numAttentionHeads: 2 }));
    expect(written).toMatchObject({
      architectures: ['GPT2LMHeadModel'],
      model_type: 'gpt2',
      n_embd: 16,
      n_layer: 1,
      n_head: 2,
      n_inner: 64,
      n_positions: 1024,
      activation_function: 'gelu_new',
      tie_word_embeddings: true,
    });
    expect(written).not.toHaveProperty('hidden_size');
  });

  it('drops auto_map, so transformers does not try to run remote code', () => {
    const config = readHfConfig({ ...MISTRAL, auto_map: { AutoModel: 'x.Model' }, custom_flag: 3 });
    const written = toHfConfig(config);
    expect(written).not.toHaveProperty('auto_map');
    expect(written).toMatchObject({ custom_flag: 3, sliding_window: 4096 });
  });
});

describe('the Llama family', () => {
  it('SmolLM2 is a Llama with tied embeddings and GQA 9/3', () => {
    const config = readHfConfig(SMOLLM2);
    expect(config).toMatchObject({ modelType: 'llama', headDim: 64, numKeyValueHeads: 3, tieWordEmbeddings: true });
  });

  it('Qwen2 has q/k/v bias and no o_proj bias, from the model type alone', () => {
    const config = readHfConfig(QWEN2);
    expect(config).toMatchObject({
      modelType: 'qwen2',
      attentionQkvBias: true,
      attentionOutputBias: false,
      headDim: 64,
    });
    expect(config.extra).toMatchObject({ use_sliding_window: false, max_window_layers: 21 });
    expect(toHfConfig(config)).not.toHaveProperty('attention_bias');
  });

  it('Mistral takes its own defaults (8 key/value heads) and keeps sliding_window', () => {
    const config = readHfConfig(MISTRAL);
    expect(config).toMatchObject({ modelType: 'mistral', numKeyValueHeads: 8, maxPositionEmbeddings: 131072 });
    expect(config.extra).toMatchObject({ sliding_window: 4096 });
  });

  it('Qwen3 without head_dim takes its default of 128', () => {
    const config = readHfConfig({ ...QWEN2, architectures: ['Qwen3ForCausalLM'], model_type: 'qwen3' });
    expect(config).toMatchObject({ headDim: 128, qkNorm: true, attentionQkvBias: false });
  });

  it('reads legacy and transformers-5 RoPE keys alike', () => {
    const base = { ...SMOLLM2, rope_scaling: undefined, rope_theta: undefined, torch_dtype: undefined };
    const scaling = { factor: 32, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 8192 };
    const legacy = readHfConfig({ ...base, rope_theta: 500000, rope_scaling: { type: 'llama3', ...scaling } });
    const current = readHfConfig({
      ...base,
      rope_parameters: { rope_type: 'llama3', rope_theta: 500000, ...scaling },
      dtype: 'bfloat16',
    });
    expect(current).toEqual(legacy);
    expect(current).toMatchObject({ ropeTheta: 500000, ropeScaling: { type: 'llama3', factor: 32 } });
    const linear = readHfConfig({ ...base, rope_scaling: { rope_type: 'linear', factor: 2 } });
    expect(linear).toMatchObject({ ropeTheta: 10000, ropeScaling: { type: 'linear', factor: 2 } });
  });

  it('builders fill the model type defaults and the structural flags', () => {
    const sizes = { vocabSize: 10, hiddenSize: 16, intermediateSize: 32, numHiddenLayers: 1, numAttentionHeads: 4 };
    expect(llamaConfig({ ...sizes, modelType: 'qwen2' })).toMatchObject({
      attentionQkvBias: true,
      numKeyValueHeads: 4,
    });
    expect(llamaConfig({ ...sizes, modelType: 'qwen3', attentionBias: true })).toMatchObject({
      attentionQkvBias: true,
      attentionOutputBias: true,
      qkNorm: true,
      headDim: 128,
    });
    expect(llamaConfig({ ...sizes, attentionBias: true, mlpBias: true })).toMatchObject({
      attentionQkvBias: true,
      attentionOutputBias: true,
      mlpBias: true,
      headDim: 4,
    });
    expectFailure(
      () => llamaConfig({ ...sizes, modelType: 'mistral', attentionBias: true }),
      'model_config_invalid',
      /Mistral has no attention bias/,
    );
    expectFailure(
      () => llamaConfig({ ...sizes, modelType: 'qwen2', mlpBias: true }),
      'model_config_invalid',
      /no MLP bias/,
    );
  });
});

describe('unsupported and invalid configs', () => {
  it.each([
    [
      'an unknown model type',
      { ...MISTRAL, model_type: 'gemma', architectures: undefined },
      /model_type "gemma" is not supported/,
    ],
    [
      'a head the workbench lacks',
      { ...MISTRAL, architectures: ['MistralForSequenceClassification'] },
      /architecture "MistralForSequenceClassification"/,
    ],
    [
      'a RoPE type it lacks',
      { ...SMOLLM2, rope_scaling: { rope_type: 'yarn', factor: 4 } },
      /RoPE type "yarn" is not supported/,
    ],
    [
      'per-layer RoPE settings',
      { ...SMOLLM2, rope_parameters: { full_attention: { rope_theta: 1 } } },
      /per-layer RoPE/,
    ],
    ['a non-SiLU MLP', { ...SMOLLM2, hidden_act: 'gelu' }, /hidden_act "gelu"/],
    ['a quantized checkpoint', { ...SMOLLM2, quantization_config: { quant_method: 'gptq' } }, /quantized/],
    [
      'a GPT-2 activation it lacks',
      { model_type: 'gpt2', vocab_size: 5, n_embd: 4, n_layer: 1, n_head: 1, activation_function: 'quick_gelu' },
      /"quick_gelu"/,
    ],
  ])('%s is model_unsupported_architecture', (_name, json, message) => {
    expectFailure(() => readHfConfig(json), 'model_unsupported_architecture', message);
  });

  it.each([
    ['not an object', [1, 2], /must hold a JSON object/],
    ['no family at all', { hidden_size: 4 }, /neither model_type nor architectures/],
    ['a missing size', { ...SMOLLM2, hidden_size: undefined }, /"hidden_size" is missing/],
    [
      'a size of the wrong type',
      { ...SMOLLM2, num_hidden_layers: '30' },
      /"num_hidden_layers" has the invalid value "30"/,
    ],
    [
      'heads that key/value heads do not divide',
      { ...SMOLLM2, num_key_value_heads: 4 },
      /multiple of numKeyValueHeads \(4\)/,
    ],
    ['an odd head width', { ...SMOLLM2, head_dim: 7 }, /headDim must be even/],
    [
      'architectures that contradict model_type',
      { ...SMOLLM2, architectures: ['Qwen2ForCausalLM'] },
      /do not match model_type "llama"/,
    ],
    [
      'a llama3 scaling with low ≥ high',
      {
        ...SMOLLM2,
        rope_scaling: {
          rope_type: 'llama3',
          factor: 8,
          low_freq_factor: 4,
          high_freq_factor: 1,
          original_max_position_embeddings: 8,
        },
      },
      /highFreqFactor/,
    ],
    [
      'a llama3 scaling without its factors',
      { ...SMOLLM2, rope_scaling: { rope_type: 'llama3', factor: 8 } },
      /rope_scaling.low_freq_factor must be a number/,
    ],
    [
      'GPT-2 heads that do not divide the width',
      { model_type: 'gpt2', vocab_size: 5, n_embd: 10, n_layer: 1, n_head: 3 },
      /multiple of numAttentionHeads/,
    ],
  ])('%s is model_config_invalid', (_name, json, message) => {
    expectFailure(() => readHfConfig(json), 'model_config_invalid', message);
  });

  it('validateModelConfig refuses flags a model type cannot express', () => {
    const config = llamaConfig({
      vocabSize: 10,
      hiddenSize: 16,
      intermediateSize: 32,
      numHiddenLayers: 1,
      numAttentionHeads: 4,
    });
    expectFailure(
      () => validateModelConfig({ ...config, qkNorm: true }),
      'model_config_invalid',
      /do not fit model type "llama"/,
    );
    expectFailure(
      () => validateModelConfig({ ...config, vocabSize: 0 }),
      'model_config_invalid',
      /vocabSize must be a positive integer/,
    );
  });
});
