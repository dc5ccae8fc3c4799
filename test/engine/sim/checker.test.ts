/** The checker on hand-written answers: right ones in their several styles, and each way to be wrong. */
import { describe, expect, it } from 'vitest';
import type { Task, TaskValues } from '../../../src-main/engine/sim/index.js';
import {
  MAX_RESPONSE_CHARS,
  checkAnswer,
  failsOnFormAlone,
  parseList,
  phrase,
} from '../../../src-main/engine/sim/index.js';

function task(values: TaskValues, answerOnly = false): Task {
  return phrase(values, 0, answerOnly);
}

function codes(value: Task, response: string): string[] {
  return checkAnswer(value, response).reasons.map((reason) => reason.code);
}

const addition = task({ kind: 'arithmetic', operation: 'add', left: 23, right: 45 });
const additionOnly = task({ kind: 'arithmetic', operation: 'add', left: 23, right: 45 }, true);
const product = task({ kind: 'arithmetic', operation: 'multiply', left: 7, right: 8 });
const conversion = task({ kind: 'unit_conversion', value: 3, from: 'km', to: 'm' });
const reverse = task({ kind: 'string', operation: 'reverse', word: 'apple' });
const upper = task({ kind: 'string', operation: 'uppercase', word: 'river' });
const letters = task({ kind: 'string', operation: 'count_letters', word: 'banana' });
const capital = task({ kind: 'capital', country: 'France' });
const capitalOnly = task({ kind: 'capital', country: 'Argentina' }, true);
const fruits = task({ kind: 'list', category: 'fruit', count: 3, format: 'comma' });
const numberedAnimals = task({ kind: 'list', category: 'animal', count: 2, format: 'numbered' });
const sortNumbers = task({ kind: 'sort', items: ['12', '3', '5'], numeric: true });
const sortWords = task({ kind: 'sort', items: ['pear', 'apple', 'fig'], numeric: false });

describe('checkAnswer: numbers', () => {
  it('reads the last number stated, in any of the usual styles', () => {
    for (const response of ['68', '68.', '23 + 45 = 68', 'The answer is 68.', '  68\n']) {
      expect(checkAnswer(addition, response)).toMatchObject({ success: true, reasons: [], answer: '68' });
    }
    expect(checkAnswer(product, '7 * 8 = 56').success).toBe(true);
  });

  it('fails a wrong value and says what it read and what was expected', () => {
    const result = checkAnswer(addition, 'The answer is 67.');
    expect(result.success).toBe(false);
    expect(result.reasons).toEqual([
      { code: 'wrong_value', message: 'The answer is 67, not 68.', given: '67', expected: '68' },
    ]);
    // "68 … no, 69" states 69 last: the answer given is 69.
    expect(codes(addition, 'It is 68, no wait, 69')).toEqual(['wrong_value']);
  });

  it('fails an empty response and one that states no number', () => {
    expect(codes(addition, '   ')).toEqual(['empty']);
    expect(codes(addition, 'I am not sure.')).toEqual(['no_answer']);
  });

  it('fails extra words when the task asked for the number alone, and accepts the bare number', () => {
    expect(additionOnly.prompt).toMatch(/number/i);
    expect(checkAnswer(additionOnly, '68').success).toBe(true);
    expect(checkAnswer(additionOnly, '"68".').success).toBe(true);
    expect(codes(additionOnly, 'The answer is 68.')).toEqual(['extra_text']);
    expect(codes(additionOnly, 'The answer is 67.')).toEqual(['wrong_value', 'extra_text']);
  });

  it('checks unit conversions by value and by the unit named after it', () => {
    for (const response of ['3000', '3000 meters', '3 kilometers is 3000 meters.', '3,000 m']) {
      expect(checkAnswer(conversion, response).success).toBe(true);
    }
    expect(codes(conversion, '3000 km')).toEqual(['wrong_unit']);
    expect(codes(conversion, '300 meters')).toEqual(['wrong_value']);
  });

  it('counts letters', () => {
    expect(checkAnswer(letters, '"banana" has 6 letters.').success).toBe(true);
    expect(codes(letters, 'banana has 5 letters')).toEqual(['wrong_value']);
  });
});

describe('checkAnswer: words and names', () => {
  it('reads the answer after the last "is", "\'s" or ":" and ignores quotes and end punctuation', () => {
    for (const response of ['elppa', '"apple" backwards is "elppa".', 'apple → elppa', 'Reversed: elppa']) {
      expect(checkAnswer(reverse, response).success).toBe(true);
    }
    expect(checkAnswer(reverse, 'elpap')).toMatchObject({ success: false, answer: 'elpap' });
  });

  it('minds case only where the task is about case', () => {
    expect(checkAnswer(upper, 'RIVER').success).toBe(true);
    expect(checkAnswer(upper, 'In capitals: RIVER').success).toBe(true);
    expect(codes(upper, 'River')).toEqual(['wrong_value']);
    expect(checkAnswer(capital, 'paris').success).toBe(true);
  });

  it('checks capitals against the bundled table, multi-word names included', () => {
    expect(checkAnswer(capital, 'The capital of France is Paris.').success).toBe(true);
    expect(checkAnswer(capital, "It's Paris.").success).toBe(true);
    expect(checkAnswer(capital, 'Lyon')).toMatchObject({
      success: false,
      reasons: [{ code: 'wrong_value', given: 'Lyon', expected: 'Paris' }],
    });
    expect(checkAnswer(capitalOnly, 'Buenos Aires').success).toBe(true);
    expect(codes(capitalOnly, 'The capital of Argentina is Buenos Aires.')).toEqual(['extra_text']);
  });
});

describe('checkAnswer: lists', () => {
  it('accepts members of the category in the requested format, plurals and a lead-in included', () => {
    expect(checkAnswer(fruits, 'apple, pear, fig').success).toBe(true);
    expect(checkAnswer(fruits, 'Apples, pears and figs.').success).toBe(true);
    expect(checkAnswer(numberedAnimals, '1. dog\n2. cat').success).toBe(true);
    expect(checkAnswer(numberedAnimals, 'Here are 2 animals:\n1. dog\n2. owl').success).toBe(true);
  });

  it('names each problem: the count, an item outside the category, a repeat, the format', () => {
    expect(checkAnswer(fruits, 'apple, pear').reasons).toEqual([
      { code: 'wrong_count', message: 'The response lists 2 fruits, not 3.', given: '2', expected: '3' },
    ]);
    expect(checkAnswer(fruits, 'apple, carrot, fig').reasons).toMatchObject([
      { code: 'not_in_category', given: 'carrot' },
    ]);
    expect(codes(fruits, 'apple, apple, fig')).toEqual(['duplicate_item']);
    expect(codes(fruits, 'apple\npear\nfig')).toEqual(['wrong_format']);
    expect(codes(numberedAnimals, 'dog, cat')).toEqual(['wrong_format']);
  });

  it('parses the three formats', () => {
    expect(parseList('a, b and c')).toEqual({ items: ['a', 'b', 'c'], format: 'comma' });
    expect(parseList('1. A\n2) b')).toEqual({ items: ['a', 'b'], format: 'numbered' });
    expect(parseList('Sure:\n- a\n- b')).toEqual({ items: ['a', 'b'], format: 'lines' });
  });
});

describe('checkAnswer: sorting', () => {
  it('accepts the sorted order and names what is wrong otherwise', () => {
    expect(checkAnswer(sortNumbers, '3, 5, 12').success).toBe(true);
    expect(checkAnswer(sortNumbers, 'Sorted: 3, 5, 12').success).toBe(true);
    expect(checkAnswer(sortWords, 'apple, fig, pear').success).toBe(true);
    expect(codes(sortNumbers, '3, 12, 5')).toEqual(['wrong_order']);
    expect(codes(sortNumbers, '3, 5')).toEqual(['missing_item']);
    expect(codes(sortNumbers, '3, 5, 7, 12')).toEqual(['extra_item']);
    expect(codes(sortNumbers, '3, 5, 5, 12')).toEqual(['duplicate_item']);
  });
});

describe('checkAnswer: length', () => {
  it(`fails a response over ${MAX_RESPONSE_CHARS} characters even when it ends with the right value`, () => {
    const rambling = `${'Let me think about this carefully. '.repeat(7)}The answer is 68.`;
    expect(rambling.length).toBeGreaterThan(MAX_RESPONSE_CHARS);
    expect(codes(addition, rambling)).toEqual(['too_long']);
  });
});

describe('failsOnFormAlone', () => {
  it('is true only when every reason is about the form and the content is right', () => {
    const rambling = `${'Let me think about this carefully. '.repeat(7)}The answer is 68.`;
    expect(failsOnFormAlone(checkAnswer(additionOnly, 'The answer is 68.'))).toBe(true);
    expect(failsOnFormAlone(checkAnswer(addition, rambling))).toBe(true);
    expect(failsOnFormAlone(checkAnswer(fruits, '1. apple\n2. pear\n3. plum'))).toBe(true);
    // Right answers, and wrong content with or without a form failure beside it, are not.
    expect(failsOnFormAlone(checkAnswer(additionOnly, '68'))).toBe(false);
    expect(failsOnFormAlone(checkAnswer(additionOnly, 'The answer is 67.'))).toBe(false);
    expect(failsOnFormAlone(checkAnswer(addition, 'I am not sure.'))).toBe(false);
  });
});
