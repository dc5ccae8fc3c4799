/**
 * The task generator (seeded, splits), the oracle (its answers pass the checker), the simulated
 * user (reactions that fit the failure, noise that spares the request) and whole conversations.
 */
import { describe, expect, it } from 'vitest';
import { Random } from '../../../src-main/engine/model/index.js';
import type { CheckResult, Task } from '../../../src-main/engine/sim/index.js';
import {
  IMPROVE_INSTRUCTIONS,
  TASK_KINDS,
  addNoise,
  checkAnswer,
  drawTask,
  habitualAnswer,
  heldOutTasks,
  mistakenAnswer,
  oracleAnswer,
  oraclePolicy,
  phrase,
  react,
  rephraseTask,
  sftConversations,
  simulate,
  splitOf,
  valuesOf,
} from '../../../src-main/engine/sim/index.js';
import { flawedPolicy } from './helpers.js';

describe('tasks', () => {
  it('are drawn the same for the same seed and differently for another', () => {
    const draw = (seed: number) => {
      const random = new Random(seed);
      return Array.from({ length: 50 }, () => drawTask(random, { split: 'train' }).prompt);
    };
    expect(draw(1)).toEqual(draw(1));
    expect(draw(2)).not.toEqual(draw(1));
  });

  it('cover every kind, in many phrasings', () => {
    const random = new Random(3);
    const tasks = Array.from({ length: 2000 }, () => drawTask(random, { split: 'train' }));
    for (const kind of TASK_KINDS) {
      const ofKind = tasks.filter((task) => task.kind === kind);
      expect(ofKind.length).toBeGreaterThan(50);
      expect(new Set(ofKind.map((task) => task.template)).size).toBeGreaterThanOrEqual(5);
    }
    expect(tasks.some((task) => task.language !== 'en')).toBe(false); // English users get English phrasings
    const spanish = Array.from({ length: 200 }, () => drawTask(random, { split: 'train', language: 'es' }));
    expect(spanish.some((task) => task.kind === 'arithmetic' && task.language === 'es')).toBe(true);
  });

  it('split about one in five prompts off as held-out, by phrasing and values', () => {
    const random = new Random(4);
    let heldOut = 0;
    for (let index = 0; index < 3000; index++) {
      const task = drawTask(random, { split: random.nextInt(2) === 0 ? 'train' : 'heldout' });
      expect(splitOf(valuesOf(task), task.template)).toBe(task.split);
      if (splitOf(valuesOf(task), (task.template + 1) % 3) === 'heldout') heldOut++;
    }
    expect(heldOut / 3000).toBeGreaterThan(0.12);
    expect(heldOut / 3000).toBeLessThan(0.28);
    const evaluation = heldOutTasks(300, 9);
    expect(evaluation.every((task) => task.split === 'heldout')).toBe(true);
    expect(heldOutTasks(300, 9)).toEqual(evaluation);
  });

  it('rephrase keeps the values, the split and the constraint', () => {
    const random = new Random(5);
    let changed = 0;
    for (let index = 0; index < 300; index++) {
      const task = drawTask(random, { split: 'train' });
      const again = rephraseTask(task, random);
      expect(valuesOf(again)).toEqual(valuesOf(task));
      expect(again.split).toBe(task.split);
      expect(again.answerOnly).toBe(task.answerOnly);
      if (again.prompt !== task.prompt) changed++;
    }
    expect(changed).toBeGreaterThan(250);
  });

  it('get right answers from the oracle in every style, by the checker', () => {
    const random = new Random(6);
    for (let index = 0; index < 1500; index++) {
      const task = drawTask(random, { split: index % 2 === 0 ? 'train' : 'heldout' });
      expect(checkAnswer(task, oracleAnswer(task, random)).success).toBe(true);
    }
  });
});

const capital = phrase({ kind: 'capital', country: 'Peru' }, 0, false);
const fruits = phrase({ kind: 'list', category: 'fruit', count: 3, format: 'comma' }, 0, false);
const onlyNumber = phrase({ kind: 'arithmetic', operation: 'add', left: 2, right: 3 }, 0, true);

function reactions(task: Task, response: string, count: number, failures: number, language = 'en' as const) {
  const check: CheckResult = checkAnswer(task, response);
  const random = new Random(failures, count);
  return Array.from({ length: count }, () =>
    react(task, response, check, random, { language, failures, patience: 3, moreTasks: true, typoRate: 0 }),
  );
}

describe('the simulated user', () => {
  it('answers a wrong value with DSAT turns of fitting categories and asks again', () => {
    const turns = reactions(capital, 'Quito', 300, 1);
    expect(turns.every((turn) => turn.label.polarity === 'dsat')).toBe(true);
    const categories = new Set(turns.flatMap((turn) => turn.label.categories));
    expect(categories).toEqual(new Set(['factual_error', 'revision', 'negative_feedback']));
    for (const turn of turns) {
      expect(turn.move).toBe('retry');
      expect(turn.task && valuesOf(turn.task)).toEqual(valuesOf(capital));
      // A revision restates the request; the request's words survive the noise.
      if (turn.label.categories[0] === 'revision') expect(turn.text.endsWith(turn.task?.prompt ?? '?')).toBe(true);
    }
    expect(turns.some((turn) => turn.text.includes('Quito'))).toBe(true);
  });

  it('answers extra words after "just the number" with Style, and a wrong count with Ignored', () => {
    const style = reactions(onlyNumber, 'The answer is 5.', 200, 1);
    expect(style.filter((turn) => turn.label.categories[0] === 'style').length).toBeGreaterThan(100);
    const counted = reactions(fruits, 'apple, pear', 200, 1);
    const ignored = counted.filter((turn) => turn.label.categories[0] === 'ignored');
    expect(ignored.length).toBeGreaterThan(60);
    expect(ignored.some((turn) => /3.*2|2.*3/.test(turn.text))).toBe(true);
  });

  it('sometimes says what the right answer is when correcting a wrong value', () => {
    const turns = reactions(capital, 'Quito', 300, 1);
    const revealing = turns.filter((turn) => turn.text.includes('Lima'));
    expect(revealing.length).toBeGreaterThan(30);
    expect(revealing.length).toBeLessThan(200);
    for (const turn of revealing) expect(turn.label).toEqual({ polarity: 'dsat', categories: ['factual_error'] });
  });

  it('names the item an answer left out, not the answer itself', () => {
    const words = phrase({ kind: 'sort', items: ['red', 'cat', 'fox'], numeric: false }, 0, false);
    const turns = reactions(words, 'cat, dog, fox', 300, 1);
    const missed = turns.filter((turn) => /^You (missed|left out)/.test(turn.text));
    expect(missed.length).toBeGreaterThan(20);
    for (const turn of missed) {
      expect(turn.text).toContain('red');
      expect(turn.text).not.toContain('dog');
    }
  });

  it('answers a right answer with SAT turns, new requests or silence, never DSAT', () => {
    const turns = reactions(capital, 'Lima', 400, 0);
    const polarities = new Set(turns.map((turn) => turn.label.polarity));
    expect(polarities).toEqual(new Set(['sat', 'neither']));
    const moves = new Set(turns.map((turn) => turn.move));
    expect(moves).toEqual(new Set(['chat', 'new_task', 'leave']));
    const categories = new Set(turns.flatMap((turn) => turn.label.categories));
    for (const category of ['gratitude', 'praise', 'acknowledgment', 'positive_closure']) {
      expect(categories.has(category as never)).toBe(true);
    }
    expect(categories.has('getting_there')).toBe(false);
    const recovered = reactions(capital, 'Lima', 200, 1);
    expect(recovered.some((turn) => turn.label.categories.includes('getting_there'))).toBe(true);
  });

  it('gives up when out of patience: a complaint, moving on, or leaving', () => {
    const check = checkAnswer(capital, 'Quito');
    const random = new Random(8);
    const turns = Array.from({ length: 200 }, () =>
      react(capital, 'Quito', check, random, { failures: 2, patience: 2, moreTasks: true }),
    );
    expect(turns.every((turn) => turn.move !== 'retry')).toBe(true);
    expect(new Set(turns.map((turn) => turn.label.categories[0] ?? 'none'))).toEqual(
      new Set(['negative_feedback', 'no_engagement', 'none']),
    );
  });

  it('writes in the user’s language', () => {
    const german = reactions(capital, 'Quito', 100, 1, 'de' as never);
    expect(german.some((turn) => /falsch|stimmt nicht|nutzlos|frustrierend|Nochmal|Versuch/u.test(turn.text))).toBe(
      true,
    );
  });

  it('adds typos and lower case only to its own words', () => {
    const random = new Random(9);
    const noisy = Array.from({ length: 300 }, () => addNoise('Thanks, that is perfect!', random, 1));
    expect(
      noisy.some((text) => text !== 'Thanks, that is perfect!' && text.toLowerCase() !== 'thanks, that is perfect!'),
    ).toBe(true);
    expect(noisy.some((text) => text === text.toLowerCase())).toBe(true);
  });
});

describe('simulate', () => {
  it('runs multi-turn conversations that alternate user and assistant and are reproducible', async () => {
    const first = await simulate(flawedPolicy(3), { count: 120, seed: 3 });
    const again = await simulate(flawedPolicy(3), { count: 120, seed: 3 });
    expect(again).toEqual(first);
    for (const conversation of first) {
      conversation.messages.forEach((message, index) =>
        expect(message.role).toBe(index % 2 === 0 ? 'user' : 'assistant'),
      );
      expect(conversation.messages.at(-1)?.role).toBe('assistant');
      expect(conversation.turns).toHaveLength(conversation.messages.length);
    }
    const lengths = first.map((conversation) => conversation.messages.length);
    expect(Math.max(...lengths)).toBeGreaterThanOrEqual(6);
    expect(lengths.filter((length) => length === 2).length).toBeGreaterThan(5);
    expect(first.some((conversation) => conversation.language !== 'en')).toBe(true);
  });

  it('with corrections, a wrong first answer is context (weight 0), then a right one follows the feedback', async () => {
    const records = await sftConversations(300, 5, { correctionRate: 0.4 });
    let wrong = 0;
    let instructed = 0;
    for (const { messages } of records) {
      messages.forEach((message, index) => {
        if (message.weight === 0) {
          wrong++;
          expect(message.role).toBe('assistant');
          // The user's reaction follows a wrong answer (or the conversation ends there).
          if (index + 1 < messages.length) expect(messages[index + 1]?.role).toBe('user');
        }
        if (message.role === 'system') {
          instructed++;
          expect(IMPROVE_INSTRUCTIONS).toContain(message.content);
          expect(messages[index - 2]?.weight).toBe(0);
          expect(messages[index - 1]?.role).toBe('user');
          expect(messages[index + 1]?.role).toBe('assistant');
          expect(messages[index + 1]?.weight).toBeUndefined();
        }
      });
    }
    const answers = records.flatMap(({ messages }) => messages.filter((message) => message.role === 'assistant'));
    expect(wrong / answers.length).toBeGreaterThan(0.15);
    expect(wrong / answers.length).toBeLessThan(0.4);
    expect(instructed).toBeGreaterThan(wrong * 0.2);
    // DRIFT's own instruction is among them, word for word.
    expect(IMPROVE_INSTRUCTIONS[0]).toBe(
      "Based on the user's latest feedback, please provide an improved response that addresses their concerns.",
    );
    // Without corrections the corpus is the oracle's: nothing at weight 0, no system turn.
    const plain = await sftConversations(100, 5);
    expect(plain.flatMap(({ messages }) => messages).some((m) => m.weight === 0 || m.role === 'system')).toBe(false);
  });

  it('habitual answers are right in content and fail on their form alone', () => {
    const random = new Random(12);
    const seen = new Set<string>();
    for (let index = 0; index < 600; index++) {
      const task = drawTask(random, { split: 'train' });
      const answer = habitualAnswer(task, random);
      const applies = task.answerOnly || (task.kind === 'list' && task.format !== 'numbered');
      if (!applies) {
        expect(answer).toBeNull();
        continue;
      }
      expect(answer).not.toBeNull();
      const check = checkAnswer(task, answer as string);
      expect(check.success).toBe(false);
      for (const reason of check.reasons) {
        seen.add(reason.code);
        expect(['extra_text', 'wrong_format']).toContain(reason.code);
      }
    }
    expect([...seen].sort()).toEqual(['extra_text', 'wrong_format']);
  });

  it('with habits, a habitual first answer is trained on and the next answer gives the form asked for', async () => {
    const habitRate = 0.6;
    const records = await sftConversations(400, 5, { habitRate });
    const plain = await sftConversations(400, 5);
    let habitual = 0;
    let fixed = 0;
    let firstAnswers = 0;
    for (const { messages } of records) {
      // No correction rate: nothing is at weight 0, habits included.
      expect(messages.some((message) => message.weight === 0)).toBe(false);
      messages.forEach((message, index) => {
        if (message.role !== 'assistant' || index === 0) return;
        const request = messages[index - 1];
        if (request?.role !== 'user') return;
        if (
          /^(Here are \d+ [a-z]+:\n1\. |The |It's |".+" (backwards|has) |In capitals: |\d+ [a-z]+ is )/.test(
            message.content,
          )
        ) {
          const answerOnly = /just|only|no sentence|one or two words/i.test(request.content);
          const listFormat = /comma|one per line|each on its own line/i.test(request.content);
          if (!answerOnly && !listFormat) return;
          habitual++;
          const next = messages.slice(index + 1).find((later) => later.role === 'assistant');
          if (next && messages[index + 1]?.role === 'user' && !/^(Here are|The |It's )/.test(next.content)) fixed++;
        }
      });
      firstAnswers += messages.filter((message) => message.role === 'user').length;
    }
    expect(habitual).toBeGreaterThan(30);
    expect(fixed / habitual).toBeGreaterThan(0.5);
    // The oracle without habits never answers an answer-only request with a sentence.
    const plainHabits = plain
      .flatMap(({ messages }) => messages)
      .filter((message) => message.role === 'assistant')
      .filter((message) => /^Here are \d+ [a-z]+:\n1\. /.test(message.content)).length;
    expect(plainHabits).toBeLessThan(habitual);
    expect(firstAnswers).toBeGreaterThan(0);
  });

  it('mistaken answers fail the checker', () => {
    const random = new Random(9);
    for (let index = 0; index < 300; index++) {
      const task = drawTask(random, { split: 'train' });
      expect(checkAnswer(task, mistakenAnswer(task, random)).success).toBe(false);
    }
  });

  it('with the oracle, every answer to a task is right and no user is dissatisfied', async () => {
    const conversations = await simulate(oraclePolicy(4), { count: 150, seed: 4 });
    for (const conversation of conversations) {
      for (const turn of conversation.turns) {
        if (turn.role === 'assistant' && turn.check) expect(turn.check.success).toBe(true);
        if (turn.role === 'user') expect(turn.label?.polarity).not.toBe('dsat');
      }
    }
  });
});
