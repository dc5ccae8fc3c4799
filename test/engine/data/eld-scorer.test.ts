/**
 * The allocation-free scorer gives eld's own answer (language and isReliable) on every text:
 * arbitrary strings, word salads in many scripts (where eld is usually sure), long words, the cut
 * at 350/380 bytes, and the real chat logs in ../shared/realdata when present.
 */
import { createReadStream, existsSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadEldScorer, type EldScorer, type EldVerdict } from '../../../src-main/engine/data/eld-scorer.js';

type Eld = {
  detect(text: string): { language: string; isReliable(): boolean; getScores(): Record<string, number> };
};
let eld: Eld;
let scorer: EldScorer;

beforeAll(async () => {
  ({ eld } = (await import('eld/extrasmall')) as unknown as { eld: Eld });
  scorer = await loadEldScorer();
});

function eldVerdict(text: string): EldVerdict {
  const result = eld.detect(text);
  return { language: result.language, reliable: result.isReliable() };
}

/** The verdict and every language's scaled score (which also depend on the n-gram count). */
function expectSame(text: string): EldVerdict {
  const verdict = eldVerdict(text);
  expect(scorer.detect(text), JSON.stringify(text)).toEqual(verdict);
  expect(Object.entries(scorer.scores(text)), JSON.stringify(text)).toEqual(
    Object.entries(eld.detect(text).getScores()),
  );
  return verdict;
}

const WORDS = [
  'the answer is not correct please write it again shorter',
  'привет ответь пожалуйста объясни почему неправильно',
  '你好 请 写 代码 解释 为什么 不对 列表 更短 格式',
  'hola por favor escribe código explica por qué incorrecto',
  'bonjour pouvez-vous répondre encore une fois s’il vous plaît',
  'guten Tag können Sie das bitte noch einmal kürzer schreiben',
  'こんにちは もう一度 短く 書いて ください',
  '안녕하세요 다시 짧게 써 주세요',
  'مرحبا من فضلك اكتب الإجابة مرة أخرى',
  'γεια σας παρακαλώ γράψτε ξανά',
  'नमस्ते कृपया फिर से लिखें',
  "don't won’t it's `quoted` O'Brien",
  '🙂 naïve café — “quoted” 123 4.5 e-mail@example.com https://x.io/a?b=c',
  'İstanbul ΣΟΦΟΣ ß ﬁ Ǆ 𝒜𝒷𝒸 𠀀𠀁',
]
  .join(' ')
  .split(/\s+/);

const salad = fc
  .array(
    fc.oneof(
      fc.constantFrom(...WORDS),
      fc.constantFrom(' ', '  ', '\n', ', ', '. ', "'", '’', '`', '-', '"'),
      fc.string({ unit: 'binary', maxLength: 6 }),
    ),
    { maxLength: 120 },
  )
  .map((parts) => parts.join(' '));

describe('eld scorer', () => {
  it('agrees with eld on arbitrary strings', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 1200 }), (text) => {
        expectSame(text);
      }),
      { numRuns: 1500 },
    );
  });

  it('agrees with eld on word salads in many scripts', () => {
    let reliable = 0;
    fc.assert(
      fc.property(salad, (text) => {
        if (expectSame(text).reliable) reliable++;
      }),
      { numRuns: 2000 },
    );
    expect(reliable).toBeGreaterThan(200);
  });

  it('agrees with eld on long words, apostrophe runs and the byte cuts', () => {
    const cases = [
      '',
      ' ',
      'a',
      'ab',
      'abc',
      'abcd',
      'abcde',
      'x'.repeat(69),
      'x'.repeat(70),
      'supercalifragilisticexpialidocious'.repeat(4),
      `${'word '.repeat(69)}tail ${'ü'.repeat(40)}`,
      'ы'.repeat(200),
      '汉'.repeat(150),
      "a, 'b ''c '' d`` e’’’ f",
      'the'.padEnd(349, ' ') + 'dog cat',
      `${'english words here '.repeat(30)}`,
      '\uD800 lone \uDC00 surrogates \uD83D',
      'да нет '.repeat(60),
      '汉字 文本 '.repeat(40),
      `${'ab '.repeat(116)}abcdefgh`,
      `${'ab '.repeat(116)}абвгдежзийклмнопрстуфхцчшщ`,
    ];
    for (const text of cases) expectSame(text);
  });

  const REAL = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../shared/realdata');
  const files = ['lmsys-chat/lmsys_1000.jsonl', 'openai-messages/arena-hard-v0.1-gpt-4-0314.jsonl'].map((file) =>
    path.join(REAL, file),
  );
  it.skipIf(!files.every(existsSync))('agrees with eld on the real chat logs in ../shared/realdata', async () => {
    let compared = 0;
    const languages = new Set<string>();
    for (const file of files) {
      for await (const line of createInterface({ input: createReadStream(file) })) {
        const strings: string[] = [];
        JSON.parse(line, (_key, value: unknown) => {
          if (typeof value === 'string' && value.length > 1) strings.push(value);
          return value;
        });
        for (const text of strings) {
          for (const sample of [text.slice(0, 160), text]) {
            const verdict = expectSame(sample);
            if (verdict.reliable) languages.add(verdict.language);
            compared++;
          }
        }
      }
    }
    expect(compared).toBeGreaterThan(2000);
    expect(languages.size).toBeGreaterThan(5);
  });
});
