/** Shared pieces of the preference tests: arithmetic pairs (right vs wrong sum), their tokenizer, a tiny model. */
import type { CausalLanguageModel } from '../../../../src-main/engine/model/modeling_utils.js';
import { createModel } from '../../../../src-main/engine/model/model.js';
import type { Tokenizer } from '../../../../src-main/engine/text/index.js';
import type { PreferenceExample, PreferencePair } from '../../../../src-main/engine/train/preference/data.js';
import { tokenizePreferencePairs } from '../../../../src-main/engine/train/preference/data.js';
import { arithmeticRecords, tinyConfig, tokenizerFor } from '../helpers.js';

/** Pairs whose chosen answer is the right sum and whose rejected one is wrong (and differently worded). */
export function arithmeticPairs(count: number): PreferencePair[] {
  return Array.from({ length: count }, (_, index) => {
    const a = index + 2;
    const b = (index * 3) % 7;
    return {
      id: `pair-${index}`,
      prompt: [
        ...(index % 3 === 0 ? [{ role: 'system', content: 'You add numbers.' }] : []),
        { role: 'user', content: `What is ${a} plus ${b}?` },
      ],
      chosen: `${a} plus ${b} is ${a + b}.`,
      rejected: index % 2 === 0 ? `It is ${a + b + 3}, I think.` : 'No idea.',
    };
  });
}

export interface PreferenceSetup {
  tokenizer: Tokenizer;
  pairs: PreferencePair[];
  examples: PreferenceExample[];
  padId: number;
  model: (seed?: number) => CausalLanguageModel;
}

export function preferenceSetup(count = 6): PreferenceSetup {
  const tokenizer = tokenizerFor(arithmeticRecords(12));
  const pairs = arithmeticPairs(count);
  const { examples } = tokenizePreferencePairs(pairs, tokenizer, { maxLength: 96, maxPromptLength: 64 });
  const config = tinyConfig(tokenizer.vocabSize);
  const padId = tokenizer.specialTokens.pad?.id ?? 0;
  return { tokenizer, pairs, examples, padId, model: (seed = 1) => createModel(config, { seed }) };
}
