/** Shared pieces of the training tests: a tiny chat corpus, its tokenizer, a tiny model, temp folders. */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { ModelConfig } from '../../../src-main/engine/model/config.js';
import { llamaConfig } from '../../../src-main/engine/model/config.js';
import { createModel } from '../../../src-main/engine/model/model.js';
import type { CausalLanguageModel } from '../../../src-main/engine/model/modeling_utils.js';
import type { Tokenizer } from '../../../src-main/engine/text/index.js';
import { DEFAULT_CHAT_TEMPLATE, applyChatTemplate, trainByteLevelBpe } from '../../../src-main/engine/text/index.js';
import type { SftExample, SftRecord } from '../../../src-main/engine/train/data.js';
import { tokenizeRecords } from '../../../src-main/engine/train/data.js';

/** Conversations with checkable answers (sums), some multi-turn, one with a system turn. */
export function arithmeticRecords(count = 12): SftRecord[] {
  return Array.from({ length: count }, (_, index) => {
    const a = index + 1;
    const b = (index * 7) % 10;
    const messages = [
      ...(index % 4 === 0 ? [{ role: 'system', content: 'You add numbers.' }] : []),
      { role: 'user', content: `What is ${a} plus ${b}?` },
      { role: 'assistant', content: `${a} plus ${b} is ${a + b}.` },
    ];
    if (index % 3 === 0) {
      messages.push(
        { role: 'user', content: 'And doubled?' },
        { role: 'assistant', content: `Doubled it is ${2 * (a + b)}.` },
      );
    }
    return { messages };
  });
}

/** A byte-level BPE tokenizer (ChatML specials and template) trained on the records as rendered. */
export function tokenizerFor(records: readonly SftRecord[], vocabSize = 320): Tokenizer {
  const texts = records.map((record) =>
    'messages' in record
      ? applyChatTemplate(record.messages, { template: DEFAULT_CHAT_TEMPLATE, eosToken: '<|im_end|>' })
      : record.prompt + record.completion,
  );
  return trainByteLevelBpe(texts, { vocabSize, minFrequency: 1 });
}

export function tinyConfig(vocabSize: number, layers = 2): ModelConfig {
  return llamaConfig({
    vocabSize,
    hiddenSize: 32,
    intermediateSize: 64,
    numHiddenLayers: layers,
    numAttentionHeads: 4,
    numKeyValueHeads: 2,
    maxPositionEmbeddings: 128,
    tieWordEmbeddings: true,
  });
}

export interface TinySetup {
  tokenizer: Tokenizer;
  examples: SftExample[];
  config: ModelConfig;
  model: (seed?: number) => CausalLanguageModel;
}

export function tinySetup(count = 12): TinySetup {
  const records = arithmeticRecords(count);
  const tokenizer = tokenizerFor(records);
  const { examples } = tokenizeRecords(records, tokenizer, 128);
  const config = tinyConfig(tokenizer.vocabSize);
  return { tokenizer, examples, config, model: (seed = 1) => createModel(config, { seed }) };
}

/** Every weight's values by name, copied. */
export function weightsOf(model: CausalLanguageModel): Map<string, Float32Array> {
  return new Map([...model.parameters()].map(([name, variable]) => [name, Float32Array.from(variable.dataSync())]));
}

const folders: string[] = [];

export async function tempFolder(prefix = 'drift-train-'): Promise<string> {
  const folder = await mkdtemp(path.join(os.tmpdir(), prefix));
  folders.push(folder);
  return folder;
}

export async function removeTempFolders(): Promise<void> {
  await Promise.all(folders.splice(0).map((folder) => rm(folder, { recursive: true, force: true })));
}
