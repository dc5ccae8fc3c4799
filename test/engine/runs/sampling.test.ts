/** The prompts on-policy samples are drawn from: gen-drift.py's plain layout, its chat form, and the plain context. */
import { describe, expect, it } from 'vitest';
import { samplingPrompt, type SampleSource } from '../../../src-main/engine/runs/sampling.js';
import { DEFAULT_CHAT_TEMPLATE, applyChatTemplate, trainByteLevelBpe } from '../../../src-main/engine/text/index.js';

const source: SampleSource = {
  id: 'p-1',
  context: [{ role: 'user', content: 'What is 2 + 3?' }],
  rejected: '6',
  feedback: 'No, that is wrong.',
};
const tokenizer = trainByteLevelBpe(
  [
    applyChatTemplate(
      [
        ...source.context,
        { role: 'assistant', content: source.rejected },
        { role: 'user', content: source.feedback },
        { role: 'system', content: 'Based on feedback' },
      ],
      { template: DEFAULT_CHAT_TEMPLATE, eosToken: '<|im_end|>' },
    ),
    'User: Assistant: System:',
  ],
  { vocabSize: 320, minFrequency: 1 },
);

describe('samplingPrompt', () => {
  it('writes the guided prompt verbatim as gen-drift.py does by default', () => {
    const { text } = samplingPrompt(source, true, tokenizer, 4096, 16);
    expect(text).toContain('User: What is 2 + 3?\nAssistant: 6\nUser: No, that is wrong.\nSystem: Based on');
    expect(text.endsWith('Assistant: ')).toBe(true);
    expect(text).not.toContain('<|im_start|>');
  });

  it('writes the same content as chat turns in the chat form, ending with the generation prompt', () => {
    const { text } = samplingPrompt(source, true, tokenizer, 4096, 16, 'chat');
    const order = ['What is 2 + 3?', '<|im_start|>assistant\n6', 'No, that is wrong.', '<|im_start|>system\nBased on'];
    const positions = order.map((part) => text.indexOf(part));
    expect(positions.every((position) => position >= 0)).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    expect(text.endsWith('<|im_start|>assistant\n')).toBe(true);
  });

  it('shows neither y− nor the feedback when unguided', () => {
    const { text } = samplingPrompt(source, false, tokenizer, 4096, 16, 'chat');
    expect(text).toContain('What is 2 + 3?');
    expect(text).not.toContain('No, that is wrong.');
    expect(text).not.toContain('6<|im_end|>');
  });
});
