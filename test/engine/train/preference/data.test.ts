import { describe, expect, it } from 'vitest';
import { applyChatTemplate } from '../../../../src-main/engine/text/index.js';
import { trainingChatFormat } from '../../../../src-main/engine/train/data.js';
import { preferenceBatch, tokenizePreferencePairs } from '../../../../src-main/engine/train/preference/data.js';
import { preferenceSetup } from './helpers.js';

const setup = preferenceSetup(4);
const { tokenizer, pairs } = setup;
const imEnd = tokenizer.tokenToId('<|im_end|>') as number;

describe('tokenizePreferencePairs', () => {
  it('splits prompt (template with generation prompt) from completion (content + end of turn)', () => {
    const { examples, skipped, truncated } = tokenizePreferencePairs(pairs, tokenizer, {
      maxLength: 256,
      maxPromptLength: 128,
    });
    expect(skipped).toEqual([]);
    expect(truncated).toBe(0);
    expect(examples).toHaveLength(4);
    const pair = pairs[0]!;
    const example = examples[0]!;
    expect(example.id).toBe(pair.id);
    const prompt = applyChatTemplate(pair.prompt, { ...trainingChatFormat(tokenizer), addGenerationPrompt: true });
    expect(prompt.endsWith('<|im_start|>assistant\n')).toBe(true);
    expect(example.prompt).toEqual(tokenizer.encode(prompt, { addSpecialTokens: false }));
    expect(tokenizer.decode(example.chosen)).toBe(`${pair.chosen}<|im_end|>`);
    expect(tokenizer.decode(example.rejected)).toBe(`${pair.rejected}<|im_end|>`);
    expect(example.chosen.at(-1)).toBe(imEnd);
    // Prompt + chosen is what the template renders for the whole conversation, up to the end of turn.
    const whole = applyChatTemplate([...pair.prompt, { role: 'assistant', content: pair.chosen }], {
      ...trainingChatFormat(tokenizer),
    });
    expect(tokenizer.decode([...example.prompt, ...example.chosen])).toBe(whole.trimEnd());
  });

  it('truncates like TRL: the prompt keeps its end, then completions keep their start within maxLength', () => {
    const full = tokenizePreferencePairs(pairs, tokenizer, { maxLength: 256, maxPromptLength: 128 }).examples[0]!;
    const maxPromptLength = full.prompt.length - 3;
    const maxLength = maxPromptLength + 4;
    const cut = tokenizePreferencePairs(pairs, tokenizer, { maxLength, maxPromptLength });
    const example = cut.examples[0]!;
    // Pairs with a shorter prompt (no system turn) keep whole completions in the room left.
    expect(cut.truncated).toBeGreaterThanOrEqual(2);
    expect(example.prompt).toEqual(full.prompt.slice(-maxPromptLength));
    expect(example.chosen).toEqual(full.chosen.slice(0, 4));
    expect(example.rejected).toEqual(full.rejected.slice(0, 4));
    expect(() => tokenizePreferencePairs(pairs, tokenizer, { maxLength: 10, maxPromptLength: 10 })).toThrow(
      expect.objectContaining({ code: 'job_invalid_params' }),
    );
  });
});

describe('preferenceBatch', () => {
  it('lays out chosen rows then rejected rows, right padded, with the completion mask on their targets', () => {
    const examples = setup.examples.slice(0, 2);
    const batch = preferenceBatch(examples, 99);
    expect(batch.pairs).toBe(2);
    expect(batch.rows).toBe(4);
    const sequences = [
      ...examples.map((example) => [...example.prompt, ...example.chosen]),
      ...examples.map((example) => [...example.prompt, ...example.rejected]),
    ];
    const completions = [...examples.map((e) => e.chosen), ...examples.map((e) => e.rejected)];
    expect(batch.length).toBe(Math.max(...sequences.map((sequence) => sequence.length)) - 1);
    sequences.forEach((sequence, row) => {
      const start = row * batch.length;
      const inputs = [...batch.inputIds.slice(start, start + batch.length)];
      const targets = [...batch.targets.slice(start, start + batch.length)];
      const mask = [...batch.completionMask.slice(start, start + batch.length)];
      const attention = [...batch.attentionMask.slice(start, start + batch.length)];
      const real = sequence.length - 1;
      expect(inputs.slice(0, real)).toEqual(sequence.slice(0, -1));
      expect(targets.slice(0, real)).toEqual(sequence.slice(1));
      expect(inputs.slice(real).every((id) => id === 99)).toBe(true);
      expect(attention).toEqual([...Array(real).fill(1), ...Array(batch.length - real).fill(0)]);
      // Targets from the first completion token on are masked in; the prompt's and padding are not.
      const promptLength = examples[row % 2]!.prompt.length;
      const expectedMask = Array.from({ length: batch.length }, (_, position) =>
        position >= promptLength - 1 && position < real ? 1 : 0,
      );
      expect(mask).toEqual(expectedMask);
      const maskedTargets = targets.filter((_, position) => mask[position] === 1);
      expect(maskedTargets).toEqual(completions[row]);
      expect(batch.completionTokens[row]).toBe(completions[row]!.length);
    });
  });
});
