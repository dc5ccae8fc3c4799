/**
 * The base model's training data: conversations of the simulated deployment in which the
 * assistant is an oracle that always answers right, in one of the ways a person would (the bare
 * answer, or a short sentence when the task allows it). Nothing wrong is put in on purpose: the
 * base model is imperfect because it is small and briefly trained, not because its data is.
 */
import type { ChatMessage } from '../text/index.js';
import { Random } from '../model/index.js';
import { checkAnswer } from './checker.js';
import type { Policy, PolicyRequest, SimulatedConversation } from './conversation.js';
import { simulate } from './conversation.js';
import type { Task } from './tasks.js';
import { OPERATION_SYMBOL, expectedAnswer, pickDistinct, valuesOf } from './tasks.js';
import { LIST_CATEGORIES, UNITS } from './tables.js';

const THANKS_REPLIES = ["You're welcome!", 'Glad I could help.', 'Happy to help!', 'Anytime!', 'You are welcome.'];
const COMPLAINT_REPLIES = ['Sorry about that.', 'I apologize for the mistake.', 'Sorry, I will try to do better.'];
const OTHER_REPLIES = [
  "I'm an assistant, happy to help with your questions.",
  'I am just a language model, but I can help with questions.',
  'Sure. Let me know if you have a question.',
];

function pick<T>(random: Random, items: readonly T[]): T {
  return items[random.nextInt(items.length)] as T;
}

/** The ways a right answer to `task` may be written; just the bare answer when the task asks for it. */
export function answerStyles(task: Task, random: Random): string[] {
  const values = valuesOf(task);
  const bare = expectedAnswer(values);
  if (task.answerOnly) return [bare];
  switch (values.kind) {
    case 'arithmetic': {
      const symbol = OPERATION_SYMBOL[values.operation];
      return [bare, `${values.left} ${symbol} ${values.right} = ${bare}`, `The answer is ${bare}.`];
    }
    case 'unit_conversion': {
      const from = UNITS[values.from]?.name ?? values.from;
      const to = UNITS[values.to]?.name ?? values.to;
      return [bare, `${bare} ${to}`, `${values.value} ${from} is ${bare} ${to}.`];
    }
    case 'string':
      if (values.operation === 'count_letters') return [bare, `"${values.word}" has ${bare} letters.`];
      if (values.operation === 'reverse') return [bare, `"${values.word}" backwards is "${bare}".`];
      return [bare, `In capitals: ${bare}`];
    case 'capital':
      return [bare, `The capital of ${values.country} is ${bare}.`, `It's ${bare}.`];
    case 'sort':
      return [bare, `Sorted: ${bare}`];
    case 'list': {
      const category = LIST_CATEGORIES[values.category];
      if (!category) throw new RangeError(`No list category ${values.category}`);
      const items = pickDistinct(random, category.members, values.count);
      const body =
        values.format === 'comma'
          ? items.join(', ')
          : values.format === 'numbered'
            ? items.map((item, index) => `${index + 1}. ${item}`).join('\n')
            : items.join('\n');
      return values.format === 'comma' ? [body] : [body, `Here are ${values.count} ${category.plural}:\n${body}`];
    }
  }
}

/** A right answer to a task, in one of its styles; checked, so the oracle cannot be wrong unnoticed. */
export function oracleAnswer(task: Task, random: Random): string {
  const answer = pick(random, answerStyles(task, random));
  const check = checkAnswer(task, answer);
  if (!check.success) {
    throw new Error(`The oracle's answer "${answer}" to "${task.prompt}" fails: ${check.reasons[0]?.message}`);
  }
  return answer;
}

/** The policy that always answers right (and replies to chat politely). */
export function oraclePolicy(seed: number): Policy {
  const random = new Random(seed, 0x0a1c);
  return async (requests: readonly PolicyRequest[]) =>
    requests.map((request) => {
      if (request.task) return oracleAnswer(request.task, random);
      if (request.chat === 'thanks') return pick(random, THANKS_REPLIES);
      if (request.chat === 'complaint') return pick(random, COMPLAINT_REPLIES);
      return pick(random, OTHER_REPLIES);
    });
}

/** `count` oracle conversations of the training split, as SFT records (`{messages}`). */
export async function sftConversations(count: number, seed: number): Promise<{ messages: ChatMessage[] }[]> {
  const conversations: SimulatedConversation[] = await simulate(oraclePolicy(seed), { count, seed, split: 'train' });
  return conversations.map((conversation) => ({ messages: conversation.messages }));
}
