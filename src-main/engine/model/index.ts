/**
 * The model core: typed configs and HF config.json (config.ts), safetensors (safetensors.ts), the
 * building blocks (layers.ts), the two decoders (modeling_llama.ts, modeling_gpt2.ts) and the
 * family-agnostic surface (model.ts). Generation and training import from here.
 */
export type {
  Gpt2Activation,
  Gpt2Config,
  Gpt2ConfigOptions,
  LlamaConfig,
  LlamaConfigOptions,
  LlamaModelType,
  ModelConfig,
  ModelFamily,
  RopeScaling,
} from './config.js';
export { gpt2Config, llamaConfig, readHfConfig, toHfConfig, validateModelConfig } from './config.js';
export type {
  CausalLanguageModel,
  ForwardOptions,
  ForwardOutput,
  KeyValueCache,
  LayerKeyValues,
  ParameterInit,
  ParameterSpec,
} from './modeling_utils.js';
export { StaticCache, disposeCache, hfShape, staticCacheSupported } from './modeling_utils.js';
export type { CreateModelOptions, LoadHfModelOptions, SaveHfModelOptions } from './model.js';
export {
  CONFIG_FILE,
  WEIGHTS_FILE,
  WEIGHTS_INDEX_FILE,
  countParameters,
  createModel,
  loadHfModel,
  parameterSpecs,
  readModelConfig,
  saveHfModel,
} from './model.js';
export type { FloatDtype, SafetensorsDtype, SafetensorsEntry, SafetensorsFile, TensorToWrite } from './safetensors.js';
export { parseSafetensors, readSafetensors, serializeSafetensors, writeSafetensors } from './safetensors.js';
export { linear, linearTransposedWeight } from './layers.js';
export type { FinishReason, GenerateOptions, GenerationResult, SamplingOptions } from './generate.js';
export { GENERATION_DEFAULTS, drawToken, generate, samplingDistribution } from './generate.js';
export type { GenerationPool } from './generate.js';
export type { GenerationPoolOptions } from './generation-pool.js';
export { createGenerationPool } from './generation-pool.js';
export { assignWeights, createReplica, readWeights } from './replica.js';
export type { RandomState } from './random.js';
export { Random } from './random.js';
