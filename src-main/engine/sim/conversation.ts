/**
 * Conversations between a policy (a model, or the oracle that writes training data) and simulated
 * users, run in lockstep: every round, each conversation still waiting for an answer contributes
 * one request, the policy answers the whole round at once (one batch for a model), and each user
 * reacts. A conversation's user draws from its own seeded generator, so what users do does not
 * depend on how rounds are batched.
 */
import type { ChatMessage } from '../text/index.js';
import { Random } from '../model/index.js';
import type { CheckResult } from './checker.js';
import { checkAnswer } from './checker.js';
import type { SimLanguage, Split, Task } from './tasks.js';
import { drawTask } from './tasks.js';
import type { TurnLabel, UserMove } from './user.js';
import { drawLanguage, react } from './user.js';

/** What the policy is asked to answer. */
export interface PolicyRequest {
  /** The conversation so far, ending with the user's turn. */
  messages: readonly ChatMessage[];
  /** The task the user's last turn poses; null for chat (thanks, a complaint, off-topic). */
  task: Task | null;
  /** For chat, what the user's turn meant (ground truth; the oracle replies by it, a model cannot see it). */
  chat: 'thanks' | 'complaint' | 'other' | null;
  /** Answers to the current task that failed so far (0 on a task's first answer). */
  failures: number;
}

/** Answers a round of requests, one response per request, in order. */
export type Policy = (requests: readonly PolicyRequest[]) => Promise<string[]>;

/** A user turn's ground truth, about the assistant turn it follows. */
export interface UserTurnRecord {
  role: 'user';
  turn: number;
  /** The task this turn poses, if any. */
  taskId: string | null;
  /** Absent on a conversation's first turn, which follows no answer. */
  label?: TurnLabel;
  /** The assistant turn the label judges. */
  judgedTurn?: number;
}

/** An assistant turn and, when it answered a task, the checker's verdict. */
export interface AssistantTurnRecord {
  role: 'assistant';
  turn: number;
  taskId: string | null;
  check: CheckResult | null;
}

export interface SimulatedConversation {
  /** Its index in the run. */
  index: number;
  /** The user's language. */
  language: SimLanguage;
  messages: ChatMessage[];
  /** One record per message, same order. */
  turns: (UserTurnRecord | AssistantTurnRecord)[];
  /** Every task asked, by id. */
  tasks: Record<string, Task>;
}

export interface SimulateOptions {
  count: number;
  seed: number;
  /** Which split the tasks come from. Default 'train'. */
  split?: Split;
  /** Most tasks one user asks. Default 3. */
  maxTasks?: number;
  /** Most user turns in one conversation. Default 8. */
  maxUserTurns?: number;
  /** Called after each round with the conversations done so far. */
  onRound?(done: number, total: number): void;
}

interface State {
  conversation: SimulatedConversation;
  random: Random;
  /** The task the last user turn posed, or null when it was chat. */
  pending: Task | null;
  /** The task the user is working on (kept through chat turns). */
  current: Task;
  failures: number;
  patience: number;
  tasksAsked: number;
  maxTasks: number;
  userTurns: number;
  typoRate: number;
  /** After the assistant replies to a chat turn: whether a new task follows. */
  continues: boolean;
  done: boolean;
}

/** Runs `count` conversations of `policy` with simulated users; deterministic for a seed and policy. */
export async function simulate(policy: Policy, options: SimulateOptions): Promise<SimulatedConversation[]> {
  const split = options.split ?? 'train';
  const maxUserTurns = options.maxUserTurns ?? 8;
  const states = Array.from({ length: options.count }, (_, index) => start(index, options, split));
  let done = 0;
  for (;;) {
    const waiting = states.filter((state) => !state.done);
    if (waiting.length === 0) break;
    const responses = await policy(
      waiting.map((state) => ({
        messages: state.conversation.messages,
        task: state.pending,
        chat: chatOf(state),
        failures: state.failures,
      })),
    );
    waiting.forEach((state, index) => {
      answer(state, responses[index] ?? '', maxUserTurns);
      if (state.done) done++;
    });
    options.onRound?.(done, states.length);
  }
  return states.map((state) => state.conversation);
}

function chatOf(state: State): PolicyRequest['chat'] {
  if (state.pending !== null) return null;
  const last = state.conversation.turns.at(-1);
  const polarity = last?.role === 'user' ? last.label?.polarity : undefined;
  return polarity === 'sat' ? 'thanks' : polarity === 'dsat' ? 'complaint' : 'other';
}

function start(index: number, options: SimulateOptions, split: Split): State {
  const random = new Random(options.seed, index);
  const language = drawLanguage(random);
  const task = drawTask(random, { split, language });
  const conversation: SimulatedConversation = { index, language, messages: [], turns: [], tasks: {} };
  const state: State = {
    conversation,
    random,
    pending: task,
    current: task,
    failures: 0,
    patience: 1 + random.nextInt(3),
    tasksAsked: 1,
    maxTasks: 1 + random.nextInt(options.maxTasks ?? 3),
    userTurns: 0,
    typoRate: random.nextFloat() < 0.3 ? 0.35 : 0.05,
    continues: false,
    done: false,
  };
  addUser(state, task.prompt, task, undefined);
  return state;
}

function addUser(state: State, text: string, task: Task | null, label: TurnLabel | undefined): void {
  const { conversation } = state;
  const turn = conversation.messages.length;
  conversation.messages.push({ role: 'user', content: text });
  const record: UserTurnRecord = { role: 'user', turn, taskId: task?.id ?? null };
  if (label !== undefined) {
    record.label = label;
    record.judgedTurn = turn - 1;
  }
  conversation.turns.push(record);
  if (task) conversation.tasks[task.id] = task;
  state.userTurns++;
}

/** Takes the assistant's response, then lets the user react (or ends the conversation). */
function answer(state: State, response: string, maxUserTurns: number): void {
  const { conversation, random } = state;
  const turn = conversation.messages.length;
  const task = state.pending;
  const check = task ? checkAnswer(task, response) : null;
  conversation.messages.push({ role: 'assistant', content: response });
  conversation.turns.push({ role: 'assistant', turn, taskId: task?.id ?? null, check });

  const lastTurn = state.userTurns >= maxUserTurns;
  if (task === null || check === null) {
    // The assistant replied to chat: the user goes on with a new task or is done.
    if (!state.continues || lastTurn || state.tasksAsked >= state.maxTasks) {
      state.done = true;
      return;
    }
    const next = drawTask(random, { split: state.current.split, language: state.conversation.language });
    begin(state, next);
    addUser(state, next.prompt, next, { polarity: 'neither', categories: [] });
    return;
  }
  if (!check.success) state.failures++;
  const reaction = react(task, response, check, random, {
    language: conversation.language,
    failures: state.failures,
    patience: state.patience,
    moreTasks: state.tasksAsked < state.maxTasks && state.userTurns < maxUserTurns - 1,
    typoRate: state.typoRate,
  });
  if (reaction.move === 'leave' || (lastTurn && reaction.move !== 'chat')) {
    state.done = true;
    return;
  }
  apply(state, reaction.move, reaction.task ?? null, reaction.continues ?? false);
  addUser(state, reaction.text, reaction.task ?? null, reaction.label);
}

function apply(state: State, move: UserMove, task: Task | null, continues: boolean): void {
  if (move === 'retry' && task) {
    state.pending = task;
    return;
  }
  if (move === 'new_task' && task) {
    begin(state, task);
    return;
  }
  state.pending = null;
  state.continues = continues;
}

function begin(state: State, task: Task): void {
  state.pending = task;
  state.current = task;
  state.failures = 0;
  state.tasksAsked++;
}
