/** Shared pieces of the evaluation tests: a toy chat tokenizer, tiny models, a sequence-classification folder. */
import path from 'node:path';
import type { ModelConfig } from '../../../src-main/engine/model/config.js';
import { llamaConfig, toHfConfig } from '../../../src-main/engine/model/config.js';
import { createModel } from '../../../src-main/engine/model/model.js';
import type { CausalLanguageModel } from '../../../src-main/engine/model/modeling_utils.js';
import { hfShape } from '../../../src-main/engine/model/modeling_utils.js';
import { Random } from '../../../src-main/engine/model/random.js';
import { serializeSafetensors } from '../../../src-main/engine/model/safetensors.js';
import type { ChatMessage, Tokenizer } from '../../../src-main/engine/text/index.js';
import { DEFAULT_CHAT_TEMPLATE, applyChatTemplate, trainByteLevelBpe } from '../../../src-main/engine/text/index.js';
import { writeFileAtomic } from '../../../src-main/engine/workspace/atomic.js';

export const WORDS = ['apple', 'river', 'stone', 'cloud', 'tiger', 'lemon', 'piano', 'candle', 'garden', 'silver'];

/** A chat-template tokenizer (ChatML, EOS <|im_end|>) trained on the toy conversations. */
export function toyTokenizer(extraTexts: readonly string[] = []): Tokenizer {
  const texts = WORDS.flatMap((word) => [
    applyChatTemplate(
      [
        { role: 'user', content: `Tell me about ${word}.` },
        { role: 'assistant', content: `${word} is great, thank you!` },
      ],
      { template: DEFAULT_CHAT_TEMPLATE, eosToken: '<|im_end|>' },
    ),
    `${word} is awful, go away.`,
  ]);
  return trainByteLevelBpe([...texts, ...extraTexts], { vocabSize: 300, minFrequency: 1 });
}

export function tinyLlama(vocabSize: number, options: { layers?: number; tie?: boolean } = {}): ModelConfig {
  return llamaConfig({
    vocabSize,
    hiddenSize: 32,
    intermediateSize: 64,
    numHiddenLayers: options.layers ?? 1,
    numAttentionHeads: 4,
    numKeyValueHeads: 2,
    maxPositionEmbeddings: 128,
    tieWordEmbeddings: options.tie ?? true,
  });
}

export function prompt(word: string): ChatMessage[] {
  return [{ role: 'user', content: `Tell me about ${word}.` }];
}

/**
 * Writes an HF LlamaForSequenceClassification folder as transformers saves one: the decoder's
 * weights under `model.*` (no lm_head), `score.weight` [1, hidden], config.json, the tokenizer.
 * Returns the causal model holding the same decoder weights and the head, for direct computation.
 */
export async function writeSequenceClassificationFolder(
  folder: string,
  config: ModelConfig,
  tokenizer: Tokenizer,
  options: { seed?: number; labels?: number; omitScore?: boolean } = {},
): Promise<{ causal: CausalLanguageModel; score: Float32Array }> {
  const causal = createModel(config, { seed: options.seed ?? 5, trainable: false });
  const labels = options.labels ?? 1;
  const random = new Random(options.seed ?? 5);
  const score = Float32Array.from({ length: labels * config.hiddenSize }, () => random.nextFloat() - 0.5);
  const tensors = causal.specs
    .filter((spec) => spec.name !== 'lm_head.weight')
    .map((spec) => {
      const variable = causal.parameters().get(spec.name);
      if (variable === undefined) throw new Error(spec.name);
      const values = spec.transposed ? variable.transpose() : variable.clone();
      const data = Float32Array.from(values.dataSync());
      values.dispose();
      return { name: spec.name, shape: hfShape(spec), data };
    });
  if (options.omitScore !== true)
    tensors.push({ name: 'score.weight', shape: [labels, config.hiddenSize], data: score });
  const hfConfig = {
    ...toHfConfig(config),
    architectures: ['LlamaForSequenceClassification'],
    id2label: Object.fromEntries(Array.from({ length: labels }, (_, index) => [String(index), `LABEL_${index}`])),
    pad_token_id: 0,
  };
  await writeFileAtomic(path.join(folder, 'model.safetensors'), serializeSafetensors(tensors, { format: 'pt' }));
  await writeFileAtomic(path.join(folder, 'config.json'), JSON.stringify(hfConfig, null, 2));
  await tokenizer.save(folder);
  return { causal, score };
}
