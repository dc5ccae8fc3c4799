/**
 * Simulated conversations as WildChat-1M records (Zhao et al., 2024; the fields of the dataset card:
 * `conversation_hash`, `model`, `timestamp`, `conversation` with per-turn `role`, `content`,
 * `language`, `timestamp`, `toxic`, `redacted`, `turn_identifier`, and `turn`, `language`,
 * `toxic`, `redacted`, `country`, `hashed_ip`), so the workbench imports them as it imports real
 * logs. The ground truth stays out of the records: labels and checks go to files of their own,
 * keyed by `conversation_hash` and turn index.
 */
import { createHash } from 'node:crypto';
import type { Category } from '../../api/index.js';
import { Random } from '../model/index.js';
import type { ReasonCode } from './checker.js';
import type { SimulatedConversation } from './conversation.js';
import type { SimLanguage, Task, TaskKind } from './tasks.js';

const LANGUAGE_NAMES: Record<SimLanguage, string> = {
  en: 'English',
  es: 'Spanish',
  fr: 'French',
  de: 'German',
  pt: 'Portuguese',
  it: 'Italian',
  ru: 'Russian',
  zh: 'Chinese',
};

const COUNTRIES: Record<SimLanguage, string[]> = {
  en: ['United States', 'United Kingdom', 'Canada', 'Australia', 'India', 'Ireland'],
  es: ['Spain', 'Mexico', 'Argentina'],
  fr: ['France', 'Belgium', 'Canada'],
  de: ['Germany', 'Austria', 'Switzerland'],
  pt: ['Brazil', 'Portugal'],
  it: ['Italy'],
  ru: ['Russia'],
  zh: ['China', 'Singapore'],
};

/** Where the simulated logs start (a fixed date, so records are reproducible). */
const LOG_START = Date.UTC(2025, 2, 1);

export interface WildChatTurn {
  role: 'user' | 'assistant';
  content: string;
  language: string;
  timestamp: string;
  toxic: boolean;
  redacted: boolean;
  turn_identifier: number;
}

export interface WildChatRecord {
  conversation_hash: string;
  model: string;
  timestamp: string;
  conversation: WildChatTurn[];
  /** User turns. */
  turn: number;
  language: string;
  toxic: boolean;
  redacted: boolean;
  country: string;
  hashed_ip: string;
}

/** The ground truth of one user turn that reacts to an answer. */
export interface GroundTruthLabel {
  conversation_hash: string;
  /** The user turn's index in `conversation`. */
  turn: number;
  /** The assistant turn it judges. */
  judged_turn: number;
  polarity: 'sat' | 'dsat' | 'neither';
  categories: Category[];
  /** The checker's verdict on the judged answer; null when it answered chat, not a task. */
  judged_success: boolean | null;
  judged_reasons: ReasonCode[];
  task_kind: TaskKind | null;
}

/** The checker's verdict on one answer to a task. */
export interface GroundTruthAnswer {
  conversation_hash: string;
  turn: number;
  task_id: string;
  task_kind: TaskKind;
  split: 'train' | 'heldout';
  success: boolean;
  reasons: ReasonCode[];
  /** The task itself (its values and phrasing), so other answers to it can be checked later. */
  task: Task;
}

function isoSeconds(milliseconds: number): string {
  return new Date(milliseconds).toISOString().replace(/\.\d{3}Z$/, '+00:00');
}

/** One conversation as a WildChat record, with its labels and answer checks. */
export function toWildChat(
  conversation: SimulatedConversation,
  options: { model: string; seed: number },
): { record: WildChatRecord; labels: GroundTruthLabel[]; answers: GroundTruthAnswer[] } {
  const random = new Random(options.seed, conversation.index, 0x3c);
  const started = LOG_START + conversation.index * 7 * 60_000 + random.nextInt(6 * 60_000);
  const first = conversation.turns[0];
  const firstTask = first?.taskId ? conversation.tasks[first.taskId] : undefined;
  const language = firstTask?.language ?? conversation.language;
  let clock = started;
  const turns: WildChatTurn[] = conversation.messages.map((message, index) => {
    clock += 5_000 + random.nextInt(40_000);
    const record = conversation.turns[index];
    const task = record?.taskId ? conversation.tasks[record.taskId] : undefined;
    const turnLanguage = message.role === 'user' && task && message.content === task.prompt ? task.language : undefined;
    return {
      role: message.role === 'assistant' ? 'assistant' : 'user',
      content: message.content,
      language: LANGUAGE_NAMES[turnLanguage ?? (message.role === 'user' ? conversation.language : language)],
      timestamp: isoSeconds(clock),
      toxic: false,
      redacted: false,
      turn_identifier: 1000 + conversation.index * 100 + index,
    };
  });
  const hash = createHash('md5')
    .update(JSON.stringify(turns.map(({ role, content }) => ({ role, content }))))
    .update(String(conversation.index))
    .digest('hex');
  const countries = COUNTRIES[conversation.language];
  const record: WildChatRecord = {
    conversation_hash: hash,
    model: options.model,
    timestamp: isoSeconds(started),
    conversation: turns,
    turn: turns.filter((turn) => turn.role === 'user').length,
    language: LANGUAGE_NAMES[language],
    toxic: false,
    redacted: false,
    country: countries[random.nextInt(countries.length)] as string,
    hashed_ip: createHash('sha256').update(`simulated-user-${options.seed}-${conversation.index}`).digest('hex'),
  };

  const labels: GroundTruthLabel[] = [];
  const answers: GroundTruthAnswer[] = [];
  for (const turn of conversation.turns) {
    if (turn.role === 'assistant') {
      const task = turn.taskId ? conversation.tasks[turn.taskId] : undefined;
      if (task && turn.check) {
        answers.push({
          conversation_hash: hash,
          turn: turn.turn,
          task_id: task.id,
          task_kind: task.kind,
          split: task.split,
          success: turn.check.success,
          reasons: turn.check.reasons.map((reason) => reason.code),
          task,
        });
      }
      continue;
    }
    if (turn.label === undefined || turn.judgedTurn === undefined) continue;
    const judged = conversation.turns[turn.judgedTurn];
    const check = judged?.role === 'assistant' ? judged.check : null;
    const judgedTask = judged?.taskId ? conversation.tasks[judged.taskId] : undefined;
    labels.push({
      conversation_hash: hash,
      turn: turn.turn,
      judged_turn: turn.judgedTurn,
      polarity: turn.label.polarity,
      categories: turn.label.categories,
      judged_success: check ? check.success : null,
      judged_reasons: check ? check.reasons.map((reason) => reason.code) : [],
      task_kind: check && judgedTask ? judgedTask.kind : null,
    });
  }
  return { record, labels, answers };
}
