/**
 * Model presets for training from scratch: a small Llama-family decoder (RMSNorm, RoPE, SwiGLU,
 * grouped-query attention, tied embeddings, as SmolLM) and a byte-level BPE tokenizer trained on
 * the run's own texts, with ChatML's special tokens and template.
 */
import type { ModelPreset } from '../../api/index.js';
import type { LlamaConfig, ModelConfig } from '../model/index.js';
import { llamaConfig } from '../model/index.js';
import type { Tokenizer } from '../text/index.js';

export { PRESET_NAMES } from '../../api/index.js';
export type PresetName = ModelPreset;

export interface Preset {
  /** Vocabulary the tokenizer is trained to (fewer if the texts hold fewer frequent pairs). */
  tokenizerVocabSize: number;
  /** The model's config once the tokenizer's vocabulary size is known. */
  config(vocabSize: number): LlamaConfig;
}

export const PRESETS: Readonly<Record<PresetName, Preset>> = {
  /** About 0.1M weights with its vocabulary: trains in seconds, for tests and demos. */
  tiny: {
    tokenizerVocabSize: 512,
    config: (vocabSize) =>
      llamaConfig({
        vocabSize,
        hiddenSize: 64,
        intermediateSize: 172,
        numHiddenLayers: 2,
        numAttentionHeads: 4,
        numKeyValueHeads: 2,
        maxPositionEmbeddings: 256,
        tieWordEmbeddings: true,
        ropeTheta: 10000,
      }),
  },
  /** About 1M weights: the benchmark's size (d 128, 4 layers, 4 heads). */
  small: {
    tokenizerVocabSize: 2048,
    config: (vocabSize) =>
      llamaConfig({
        vocabSize,
        hiddenSize: 128,
        intermediateSize: 344,
        numHiddenLayers: 4,
        numAttentionHeads: 4,
        numKeyValueHeads: 4,
        maxPositionEmbeddings: 512,
        tieWordEmbeddings: true,
        ropeTheta: 10000,
      }),
  },
};

/** A preset's config for a tokenizer trained for it: its vocabulary size and special token ids. */
export function presetConfig(name: PresetName, tokenizer: Tokenizer): ModelConfig {
  const { bos, eos, pad } = tokenizer.specialTokens;
  return {
    ...PRESETS[name].config(tokenizer.vocabSize),
    bosTokenId: bos?.id ?? null,
    eosTokenId: eos?.id ?? null,
    padTokenId: pad?.id ?? null,
  };
}
