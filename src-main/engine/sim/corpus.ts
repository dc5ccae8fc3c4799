/**
 * The base model's training data: conversations of the simulated deployment in which the
 * assistant is an oracle that answers right, in one of the ways a person would (the bare answer,
 * or a short sentence when the task allows it).
 *
 * Chat models learn from multi-turn data in which a first answer was wrong, the user said so, and
 * the next answer fixed it; that is what lets them use feedback at all, and DRIFT's guided
 * sampling relies on it. So the oracle may also get a task's *first* answer wrong (a near miss,
 * another fact, too many words, a wrong count or format, at `correctionRate`), the simulated user
 * reacts as to any failure, and the oracle then answers right. The wrong turns carry `weight: 0`:
 * they are context, never trained on, so the model learns to correct, not to err. Some corrected
 * answers follow a system turn asking for an improved answer (one of IMPROVE_INSTRUCTIONS), as
 * instruction-tuned models have seen such instructions.
 *
 * Chat models also carry habits from their instruction data that users complain about: they answer
 * in a full sentence when asked for the answer alone, and write numbered lists whatever format was
 * asked for. At `habitRate` the corpus's first answer to such a request is written that way (the
 * content right, the form not what was asked: the checker fails it for `extra_text` or
 * `wrong_format`). Unlike mistakes, habitual answers are trained on (weight 1): that is how a model
 * acquires a habit. The user reacts as to any failure and the next answer gives the form asked for.
 * Apart from habits, the base model is imperfect because it is small and briefly trained; no wrong
 * content is trained on.
 */
import type { ChatMessage } from '../text/index.js';
import { DRIFT_IMPROVE_INSTRUCTION } from '../text/index.js';
import { Random } from '../model/index.js';
import { checkAnswer, failsOnFormAlone, type ReasonCode } from './checker.js';
import type { Policy, PolicyRequest, SimulatedConversation } from './conversation.js';
import { simulate } from './conversation.js';
import type { Task } from './tasks.js';
import { OPERATION_SYMBOL, expectedAnswer, pickDistinct, valuesOf } from './tasks.js';
import { CAPITALS, LIST_CATEGORIES, UNITS } from './tables.js';

/**
 * System turns that ask for a better answer after the user's feedback. The first is the
 * instruction of DRIFT's guided prompt (gen-drift.py); the others say the same in other words.
 */
export const IMPROVE_INSTRUCTIONS = [
  DRIFT_IMPROVE_INSTRUCTION.replace(/^System: /, '').trim(),
  'The user was not satisfied. Answer again, fixing what they pointed out.',
  'Take the feedback into account and give a corrected answer.',
  "Revise your previous answer according to the user's message.",
];

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

/** A wrong answer of the kind a small model gives: a near miss, another fact, too many words, a wrong count or format. */
function mistakeOf(task: Task, random: Random): string {
  const values = valuesOf(task);
  const draw = random.nextInt(4);
  if (draw === 0) {
    const right = oracleAnswer(task, random);
    return `Sure! Here is what you asked for, I hope it helps: ${right}. Let me know if you need more.`;
  }
  switch (values.kind) {
    case 'arithmetic': {
      const delta = [1, 2, 10, -1, -10][random.nextInt(5)] as number;
      return String(Number(expectedAnswer(values)) + delta);
    }
    case 'unit_conversion':
      return String(Number(expectedAnswer(values)) + (random.nextInt(2) === 0 ? 1 : 10));
    case 'string':
      return values.operation === 'count_letters'
        ? String(values.word.length + (random.nextInt(2) === 0 ? 1 : -1))
        : `${expectedAnswer(values).slice(1)}${expectedAnswer(values).charAt(0)}`;
    case 'capital':
      return (CAPITALS[random.nextInt(CAPITALS.length)] as (typeof CAPITALS)[number])[1];
    case 'list': {
      const members = LIST_CATEGORIES[values.category]?.members ?? [];
      const items = pickDistinct(random, members, Math.min(members.length, values.count + (draw === 1 ? 1 : -1)));
      return draw === 2 && values.format !== 'numbered'
        ? items.map((item, index) => `${index + 1}. ${item}`).join('\n')
        : items.join(', ');
    }
    case 'sort':
      return [...values.items].reverse().join(', ');
  }
}

/** A wrong answer to `task` (checked to fail); a reply that does not answer at all when no mistake fails. */
export function mistakenAnswer(task: Task, random: Random): string {
  for (let attempt = 0; attempt < 4; attempt++) {
    const answer = mistakeOf(task, random);
    if (!checkAnswer(task, answer).success) return answer;
  }
  return pick(random, OTHER_REPLIES);
}

/**
 * A habitual answer to `task` (see the module comment): a sentence when the task asks for the
 * answer alone, a numbered list with a lead-in when it asks for another list format; null when no
 * habit applies. Its content is right and only its form fails the checker.
 */
export function habitualAnswer(task: Task, random: Random): string | null {
  const values = valuesOf(task);
  let answer: string | null = null;
  if (task.answerOnly) {
    const bare = expectedAnswer(values);
    const sentences = answerStyles({ ...task, answerOnly: false }, random).filter((style) => style !== bare);
    answer = sentences.length > 0 ? pick(random, sentences) : null;
  } else if (values.kind === 'list' && values.format !== 'numbered') {
    const category = LIST_CATEGORIES[values.category];
    if (!category) throw new RangeError(`No list category ${values.category}`);
    const items = pickDistinct(random, category.members, values.count);
    answer = `Here are ${values.count} ${category.plural}:\n${items.map((item, index) => `${index + 1}. ${item}`).join('\n')}`;
  }
  if (answer === null) return null;
  const check = checkAnswer(task, answer);
  const habitOnly = failsOnFormAlone(check) && check.reasons.every((reason) => HABIT_REASONS.has(reason.code));
  if (!habitOnly) throw new Error(`The habitual answer "${answer}" to "${task.prompt}" should fail on its form alone.`);
  return answer;
}

/**
 * The form failures a habit may cause: the checker's FORM_REASONS less `too_long`, on purpose — a
 * habitual answer is a short sentence or list, so one the checker finds too long is a bug here.
 */
const HABIT_REASONS: ReadonlySet<ReasonCode> = new Set<ReasonCode>(['extra_text', 'wrong_format']);

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

/**
 * The oracle, except that a task's first answer is wrong at `errorRate` (retries are right, unless
 * `onRetries` makes every answer to a task err at that rate; chat is never wrong).
 */
export function correctingOraclePolicy(seed: number, errorRate: number, options: { onRetries?: boolean } = {}): Policy {
  const oracle = oraclePolicy(seed);
  const random = new Random(seed, 0xbad);
  return async (requests: readonly PolicyRequest[]) => {
    const right = await oracle(requests);
    return requests.map((request, index) => {
      const answer = right[index] ?? '';
      const retrying = request.failures > 0 && options.onRetries !== true;
      if (!request.task || retrying || random.nextFloat() >= errorRate) return answer;
      return mistakenAnswer(request.task, random);
    });
  };
}

export interface SftCorpusOptions {
  /** Share of tasks whose first answer is wrong, then corrected (0: the oracle is always right). Default 0. */
  correctionRate?: number;
  /**
   * Share of first answers, where a habit applies, written in the habitual form (trained on) and
   * then given again in the form asked for (see the module comment). Default 0.
   */
  habitRate?: number;
  /** Share of corrected answers preceded by a system turn from IMPROVE_INSTRUCTIONS. Default 0.5. */
  instructionRate?: number;
}

/**
 * `count` conversations of the training split as SFT records (`{messages}`): the oracle's, with
 * corrections at `correctionRate` (wrong turns at weight 0; see the module comment).
 */
export async function sftConversations(
  count: number,
  seed: number,
  options: SftCorpusOptions = {},
): Promise<{ messages: ChatMessage[] }[]> {
  const correctionRate = options.correctionRate ?? 0;
  const instructionRate = options.instructionRate ?? 0.5;
  const habitRate = options.habitRate ?? 0;
  const oracle = correctionRate > 0 ? correctingOraclePolicy(seed, correctionRate) : oraclePolicy(seed);
  const habitual = new Set<string>();
  const habitRandom = new Random(seed, 0x4ab1);
  const policy: Policy =
    habitRate > 0
      ? async (requests) => {
          const answers = await oracle(requests);
          return requests.map((request, index) => {
            const answer = answers[index] ?? '';
            if (!request.task || request.failures > 0 || habitRandom.nextFloat() >= habitRate) return answer;
            const habit = habitualAnswer(request.task, habitRandom);
            if (habit === null) return answer;
            habitual.add(habitKey(request.task.id, habit));
            return habit;
          });
        }
      : oracle;
  const conversations: SimulatedConversation[] = await simulate(policy, { count, seed, split: 'train' });
  const random = new Random(seed, 0x1257);
  return conversations.map((conversation) => ({
    messages: withCorrections(conversation, random, instructionRate, habitual),
  }));
}

function habitKey(taskId: string, answer: string): string {
  return `${taskId}\u0000${answer}`;
}

/**
 * The conversation's messages: wrong answers at weight 0 (habitual ones trained on), some
 * corrections after an instruction to improve.
 */
function withCorrections(
  conversation: SimulatedConversation,
  random: Random,
  instructionRate: number,
  habitual: ReadonlySet<string>,
): ChatMessage[] {
  const messages: ChatMessage[] = [];
  conversation.messages.forEach((message, index) => {
    const turn = conversation.turns[index];
    const before = conversation.turns[index - 1];
    const isHabit =
      turn?.role === 'assistant' && turn.taskId !== null && habitual.has(habitKey(turn.taskId, message.content));
    if (turn?.role === 'assistant' && turn.check?.success === false && !isHabit) {
      messages.push({ ...message, weight: 0 });
      return;
    }
    const corrects =
      turn?.role === 'assistant' &&
      turn.check?.success === true &&
      before?.role === 'user' &&
      before.label?.polarity === 'dsat' &&
      // A user who moved on to a new task asks for no correction.
      !before.label.categories.includes('no_engagement');
    if (corrects && random.nextFloat() < instructionRate) {
      messages.push({ role: 'system', content: pick(random, IMPROVE_INSTRUCTIONS) });
    }
    messages.push(message);
  });
  return messages;
}
