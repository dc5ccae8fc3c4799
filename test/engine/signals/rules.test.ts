/** The rules detector: every rubric category with examples that must and must not fire, in several languages. */
import { describe, expect, it } from 'vitest';
import { CATEGORIES, type Category } from '../../../src-main/api/index.js';
import { categoryInfo, parseCategoryName, RUBRIC } from '../../../src-main/engine/signals/categories.js';
import {
  judgeTurn,
  languagesFor,
  REPHRASE_RULE_ID,
  ruleCatalog,
  RulesDetector,
  RULE_LANGUAGES,
} from '../../../src-main/engine/signals/rules/detector.js';
import { conversation } from './helpers.js';

interface Case {
  text: string;
  language?: string;
}

/** Per category: turns that must name it, and turns that must not. */
const EXAMPLES: Record<Category, { positive: Case[]; negative: Case[] }> = {
  negative_feedback: {
    positive: [
      { text: 'This is useless, it does not help at all.' },
      { text: "I'm so frustrated with these answers." },
      { text: 'What a lazy answer.' },
      { text: '没用，太差了', language: 'zh' },
      { text: 'Это бесполезно, ерунда какая-то', language: 'ru' },
      { text: 'No sirve para nada', language: 'es' },
    ],
    negative: [
      { text: 'Remove the unused imports from this file, then format it.' },
      { text: 'No problem, take your time.' },
    ],
  },
  revision: {
    positive: [
      { text: 'Try again, please.' },
      { text: 'Can you rewrite it?' },
      { text: 'No, I meant the Python version.' },
      { text: '重新写一个', language: 'zh' },
      { text: 'Перепиши, пожалуйста', language: 'ru' },
      { text: 'Réécris le texte', language: 'fr' },
    ],
    negative: [
      { text: 'Write a short story about a lighthouse keeper.' },
      { text: 'What is the capital of Peru?' },
      { text: 'how to fix it' },
    ],
  },
  factual_error: {
    positive: [
      { text: "That's wrong, Paris is not in Spain." },
      { text: 'You made a mistake in the second step.' },
      { text: "The code doesn't work, I get an error." },
      { text: "No, it's 56." },
      { text: 'Wrong, the answer is 21, not 15.' },
      { text: '错了，答案是 42', language: 'zh' },
      { text: 'Неправильно, там ошибка', language: 'ru' },
      { text: 'Das ist falsch.', language: 'de' },
      { text: 'Isso está errado', language: 'pt' },
      { text: '間違っています', language: 'ja' },
    ],
    negative: [
      { text: 'How do I handle errors in Rust?' },
      { text: 'Is it true that cats sleep a lot?' },
      { text: 'It should be short, not a whole essay, and formal.' },
      { text: 'What is the answer to question 3?' },
    ],
  },
  unrealistic_expectation: {
    positive: [
      { text: "Why can't you just browse the website and check it?" },
      { text: 'You should be able to remember what I told you yesterday.' },
      { text: 'I thought you could access the internet.' },
    ],
    negative: [{ text: 'Can you explain how web browsers work?' }, { text: 'What should I remember for the exam?' }],
  },
  no_engagement: {
    positive: [
      { text: 'Whatever, forget it.' },
      { text: "Never mind, I don't care." },
      { text: 'Just give me the code.' },
    ],
    negative: [{ text: 'Yes, the second option please.' }, { text: 'Can you give me an overview of the plan?' }],
  },
  ignored: {
    positive: [
      { text: 'You ignored my question about the budget.' },
      { text: 'As I said, it must be under 100 words.' },
      { text: "That's not what I asked." },
      { text: '答非所问，我问的是价格', language: 'zh' },
      { text: 'Я же просил на русском', language: 'ru' },
    ],
    negative: [{ text: 'Please ask me questions before you start.' }, { text: 'What did he say in the meeting?' }],
  },
  lower_quality: {
    positive: [
      { text: 'This is even worse.' },
      { text: 'The previous version was better.' },
      { text: 'Go back to the original one.' },
      { text: '不如之前的好', language: 'zh' },
    ],
    negative: [
      { text: 'Is a worst-case analysis needed here?' },
      { text: 'Compare the previous version with this one.' },
    ],
  },
  insufficient_detail: {
    positive: [
      { text: 'Can you elaborate on the second point?' },
      { text: 'I need more details about the pricing.' },
      { text: 'That is too vague.' },
      { text: '能再详细一点吗', language: 'zh' },
      { text: 'Подробнее, пожалуйста', language: 'ru' },
      { text: 'Más detalles, por favor', language: 'es' },
    ],
    negative: [{ text: 'Write a detailed plan for a garden.' }, { text: 'Summarize the article for me.' }],
  },
  style: {
    positive: [
      { text: 'Too long, make it shorter.' },
      { text: 'Put it in a table.' },
      { text: 'Use a more formal tone.' },
      { text: 'Answer in English please.' },
      { text: 'Shorter please' },
      { text: '太长了，简短一些', language: 'zh' },
      { text: 'Короче, пожалуйста', language: 'ru' },
    ],
    negative: [
      { text: 'How long does it take to boil an egg?' },
      { text: 'What is a table in SQL?' },
      { text: 'How do people feel about Pluto no longer being a planet?' },
    ],
  },
  gratitude: {
    positive: [
      { text: 'Thanks!' },
      { text: 'Thank you so much, I appreciate it.' },
      { text: '谢谢', language: 'zh' },
      { text: 'Спасибо', language: 'ru' },
      { text: 'Muchas gracias', language: 'es' },
      { text: 'Merci beaucoup', language: 'fr' },
      { text: 'Danke schön', language: 'de' },
      { text: 'Obrigado', language: 'pt' },
      { text: 'Grazie mille', language: 'it' },
      { text: 'ありがとうございます', language: 'ja' },
      { text: '감사합니다', language: 'ko' },
      { text: 'Cảm ơn bạn', language: 'vi' },
    ],
    negative: [{ text: 'Write a thank-you note for my teacher.' }, { text: 'Explain the Thanksgiving holiday.' }],
  },
  learning: {
    positive: [
      { text: "Interesting, I didn't know that." },
      { text: 'Tell me more about black holes.' },
      { text: '原来如此，学到了', language: 'zh' },
    ],
    negative: [{ text: 'Write an essay about learning styles.' }, { text: 'Make the story more exciting.' }],
  },
  compliance: {
    positive: [
      { text: 'It worked, thanks.' },
      { text: "OK, I'll try that." },
      { text: 'I followed your steps.' },
      { text: '可以用了', language: 'zh' },
    ],
    negative: [{ text: 'How does a steam engine work?' }, { text: 'What steps should I follow to apply?' }],
  },
  praise: {
    positive: [
      { text: 'Great!' },
      { text: "That's perfect." },
      { text: 'Good job, love it.' },
      { text: '太棒了', language: 'zh' },
      { text: 'Отлично!', language: 'ru' },
      { text: 'Genial, perfecto', language: 'es' },
    ],
    negative: [
      { text: 'Write a great story about a nice dog.' },
      { text: "That's not great." },
      { text: '不太好', language: 'zh' },
    ],
  },
  personal_details: {
    positive: [
      { text: "I'm a teacher and I need this for my class." },
      { text: 'My daughter is 7, so keep it simple.' },
    ],
    negative: [{ text: 'Describe the life of a teacher in 1900.' }, { text: 'What is a daughter cell?' }],
  },
  humor: {
    positive: [
      { text: 'Haha, that is hilarious!' },
      { text: 'lol' },
      { text: '哈哈哈', language: 'zh' },
      { text: 'jajaja', language: 'es' },
    ],
    negative: [{ text: 'Write a funny poem about cats.' }, { text: 'What is the Hawaiian word for hello?' }],
  },
  acknowledgment: {
    positive: [
      { text: 'ok' },
      { text: 'Got it.' },
      { text: 'That makes sense.' },
      { text: '好的', language: 'zh' },
      { text: 'Понятно', language: 'ru' },
    ],
    negative: [{ text: 'Is it ok to eat raw eggs?' }, { text: 'Explain how sensors make sense of light.' }],
  },
  positive_closure: {
    positive: [
      { text: "That's all I needed, thanks!" },
      { text: 'Problem solved. Have a nice day!' },
      { text: '再见', language: 'zh' },
    ],
    negative: [{ text: 'How do I say goodbye in Japanese?' }, { text: 'Is that everything in the list?' }],
  },
  getting_there: {
    positive: [
      { text: "That's much better." },
      { text: 'Getting there, but the ending is weak.' },
      { text: '好多了', language: 'zh' },
    ],
    negative: [{ text: 'Which is better, tea or coffee?' }, { text: 'Make it better.' }],
  },
};

describe('the rubric', () => {
  it('has every category with a label, a definition and a source', () => {
    expect(RUBRIC.map((info) => info.id)).toEqual([...CATEGORIES]);
    for (const category of CATEGORIES) {
      const info = categoryInfo(category);
      expect(info.label.length).toBeGreaterThan(2);
      expect(info.definition.length).toBeGreaterThan(20);
      expect(info.source).toMatch(/2408\.15549/);
    }
  });

  it('maps category names as sources write them', () => {
    expect(parseCategoryName('Negative Feedback')).toBe('negative_feedback');
    expect(parseCategoryName('Acknowledgement')).toBe('acknowledgment');
    expect(parseCategoryName('positive_closure')).toBe('positive_closure');
    expect(parseCategoryName('Humour')).toBe('humor');
    expect(parseCategoryName('Sarcasm')).toBeUndefined();
  });

  it('lists every rule with an id, a category and a description; ids are unique', () => {
    const rules = ruleCatalog();
    expect(new Set(rules.map((rule) => rule.id)).size).toBe(rules.length);
    for (const rule of rules) {
      expect(rule.description.length).toBeGreaterThan(5);
      expect(CATEGORIES).toContain(rule.category);
    }
    // Every category has a rule in English, and the languages of ../shared/realdata have lexicons.
    for (const category of CATEGORIES)
      expect(rules.some((rule) => rule.category === category && rule.language === 'en')).toBe(true);
    for (const language of ['zh', 'ru', 'es', 'fr', 'de', 'pt', 'it', 'ja', 'ko', 'vi']) {
      expect(RULE_LANGUAGES).toContain(language);
      expect(rules.filter((rule) => rule.language === language).length).toBeGreaterThanOrEqual(10);
    }
  });
});

describe('rules per category', () => {
  for (const category of CATEGORIES) {
    const { positive, negative } = EXAMPLES[category];
    it(`${category}: names it in ${positive.length} examples and not in ${negative.length}`, () => {
      for (const example of positive) {
        const judgement = judgeTurn(example.text, { turn: 2, language: example.language ?? 'en' });
        expect(judgement.categories, example.text).toContain(category);
        const polarity = categoryInfo(category).polarity;
        expect([polarity, 'both'], example.text).toContain(judgement.polarity);
        // The evidence marks the words that matched, inside the turn.
        const spans = judgement.evidence.filter((evidence) => evidence.category === category);
        expect(spans.length, example.text).toBeGreaterThan(0);
        for (const span of spans) {
          expect(span.start).toBeLessThanOrEqual(span.end);
          expect(span.end).toBeLessThanOrEqual(example.text.length);
          expect(span.rule).toMatch(/^[a-z*]+\.[a-z_]+\.[a-z_]+$/);
        }
      }
      for (const example of negative) {
        const judgement = judgeTurn(example.text, { turn: 2, language: example.language ?? 'en' });
        expect(judgement.categories, example.text).not.toContain(category);
      }
    });
  }

  it('marks the exact words as evidence', () => {
    const text = 'Thanks, but that is wrong.';
    const judgement = judgeTurn(text, { turn: 4, language: 'en' });
    expect(judgement.polarity).toBe('both');
    const thanks = judgement.evidence.find((evidence) => evidence.category === 'gratitude')!;
    expect(text.slice(thanks.start, thanks.end)).toBe('Thanks');
    const wrong = judgement.evidence.find((evidence) => evidence.category === 'factual_error')!;
    expect(text.slice(wrong.start, wrong.end)).toBe('that is wrong');
    expect(thanks.turn).toBe(4);
  });

  it('judges a plain new request as neither', () => {
    const judgement = judgeTurn('Now write a haiku about autumn leaves.', { turn: 2, language: 'en' });
    expect(judgement.polarity).toBe('neither');
    expect(judgement.categories).toEqual([]);
  });

  it('reads the lexicons of the turn’s script even when the conversation language is unknown', () => {
    expect(languagesFor(undefined, 'Спасибо')).toEqual(expect.arrayContaining(['*', 'en', 'ru']));
    expect(languagesFor('und', '谢谢')).toEqual(expect.arrayContaining(['zh', 'ja']));
    expect(languagesFor('und', 'gracias')).toEqual(expect.arrayContaining(['es', 'fr', 'de', 'pt']));
    expect(languagesFor('fr', 'merci')).not.toContain('es');
    expect(judgeTurn('Спасибо, отлично', { turn: 2 }).polarity).toBe('sat');
  });
});

describe('rephrase detection', () => {
  const request = 'Write a python function that sorts a list of dictionaries by the age key';
  it('calls a user turn that repeats the previous request a Revision, with the similarity as evidence', () => {
    const judgement = judgeTurn('write a python function to sort a list of dictionaries by age key', {
      turn: 4,
      language: 'en',
      previousRequest: request,
    });
    expect(judgement.categories).toContain('revision');
    const evidence = judgement.evidence.find((item) => item.rule === REPHRASE_RULE_ID)!;
    expect(evidence.weight).toBeGreaterThanOrEqual(0.6);
    expect(judgement.polarity).toBe('dsat');
  });

  it('catches rephrasings in unspaced scripts through character trigrams', () => {
    const judgement = judgeTurn('帮我写一个按年龄排序的Python函数吧', {
      turn: 4,
      language: 'zh',
      previousRequest: '帮我写一个按年龄排序的Python函数',
    });
    expect(judgement.categories).toContain('revision');
  });

  it('does not call a different request, a short repeat or a satisfied turn a rephrase', () => {
    expect(
      judgeTurn('Now translate the docstring into German', { turn: 4, previousRequest: request }).categories,
    ).not.toContain('revision');
    expect(judgeTurn('continue', { turn: 4, previousRequest: 'continue' }).categories).not.toContain('revision');
    const thanked = judgeTurn(`Thanks! ${request}`, { turn: 4, previousRequest: request });
    expect(thanked.evidence.some((item) => item.rule === REPHRASE_RULE_ID)).toBe(false);
  });

  it('does not call the same template with other content, or a "continue", a rephrase (seen in lmsys-chat)', () => {
    const template =
      'Tools similar to kentico xperience. Give only tool names separated by comma, no description needed.';
    expect(
      judgeTurn('Tools similar to kibana. Give only tool names separated by comma, no description needed.', {
        turn: 4,
        previousRequest: template,
      }).categories,
    ).not.toContain('revision');
    const story = 'Please continue this story with Anna moving to a new city, not adding negative situations';
    expect(judgeTurn(`${story} and meeting friends`, { turn: 4, previousRequest: story }).categories).not.toContain(
      'revision',
    );
    // An exact repeat, or the request with a constraint added, still is one.
    expect(judgeTurn(template, { turn: 4, previousRequest: template }).categories).toContain('revision');
    expect(
      judgeTurn('Write a poem about cats in 4 lines', { turn: 4, previousRequest: 'Write a poem about cats' })
        .categories,
    ).toContain('revision');
  });

  it('respects a higher threshold', () => {
    const loose = judgeTurn(
      'python function sorting dictionaries by age',
      { turn: 4, previousRequest: request },
      { rephraseThreshold: 0.3 },
    );
    const strict = judgeTurn(
      'python function sorting dictionaries by age',
      { turn: 4, previousRequest: request },
      { rephraseThreshold: 0.95 },
    );
    expect(loose.categories).toContain('revision');
    expect(strict.categories).not.toContain('revision');
  });
});

describe('RulesDetector', () => {
  it('judges each user turn about the assistant turn before it, skipping system messages', () => {
    const signals = new RulesDetector().detect(
      conversation('c1', [
        ['system', 'You are helpful.'],
        ['user', 'What is 2+2?'],
        ['assistant', 'It is 5.'],
        ['user', "That's wrong."],
        ['assistant', 'Sorry, it is 4.'],
        ['system', 'Reminder: be concise.'],
        ['user', 'Thanks!'],
      ]),
    );
    expect(signals.map((signal) => [signal.turn, signal.judgedTurn, signal.polarity])).toEqual([
      [3, 2, 'dsat'],
      [6, 4, 'sat'],
    ]);
    expect(signals.every((signal) => signal.detector === 'rules' && signal.conversationId === 'c1')).toBe(true);
  });

  it('detects a rephrased request in a conversation', () => {
    const [signal] = new RulesDetector().detect(
      conversation('c2', [
        ['user', 'List three famous painters from the Dutch golden age'],
        ['assistant', 'Picasso, Monet and Dali.'],
        ['user', 'list three famous Dutch golden age painters'],
      ]),
    );
    expect(signal?.categories).toContain('revision');
  });

  it('does not judge a first turn or a user turn after another user turn', () => {
    const signals = new RulesDetector().detect(
      conversation('c3', [
        ['user', 'Thanks in advance!'],
        ['user', 'That is wrong anyway.'],
      ]),
    );
    expect(signals).toEqual([]);
  });
});
