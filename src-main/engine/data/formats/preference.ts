/**
 * Formats built around a prompt and its answers: generic prompt/chosen/rejected (also DRIFT's
 * seed pairs), DRIFT's dsat_data.jsonl and sat_data.jsonl, UltraFeedback (raw and binarized),
 * Anthropic HH-RLHF transcripts, replies with like/dislike counts, and plain instructions.
 */
import type { Message } from '../schema.js';
import { answerOf, feedbackOf } from './conversations.js';
import { isMessageList, messagesOf, numberOf, renumber, requireText, rest } from './messages.js';
import { isRecord, perRecord, RowProblem, type Draft, type FormatAdapter } from './types.js';

const SCORE_KEYS = {
  chosen: ['score_chosen', 'chosen_score', 'chosen_rating', 'chosen-rating'],
  rejected: ['score_rejected', 'rejected_score', 'rejected_rating', 'rejected-rating'],
} as const;

function scoreOf(record: Record<string, unknown>, side: 'chosen' | 'rejected'): number | undefined {
  const nested = isRecord(record['metadata']) ? record['metadata'] : {};
  for (const key of SCORE_KEYS[side]) {
    const value = numberOf(record[key]) ?? numberOf(nested[key]);
    if (value !== undefined) return value;
  }
  return undefined;
}

function hasScores(record: Record<string, unknown>): boolean {
  return scoreOf(record, 'chosen') !== undefined || scoreOf(record, 'rejected') !== undefined;
}

/** The answers of a side as a list: the context they carry (all but the last) and the answer. */
function side(value: unknown, where: string): { context: Message[]; answer: Message } {
  const list = messagesOf(value, where, 'assistant');
  const answer = list.at(-1);
  if (!answer) throw new RowProblem('field_missing', `${where} is an empty list.`);
  if (answer.role !== 'assistant') {
    throw new RowProblem('field_type', `The last message of ${where} is a ${answer.role} turn, not the answer.`);
  }
  return { context: list.slice(0, -1), answer };
}

const PROMPT_KEYS = ['prompt', 'context', 'question', 'instruction'] as const;

/**
 * prompt/chosen/rejected in any of their shapes: strings, single messages, or message lists
 * that repeat the prompt (HuggingFaceH4 binarized, TRL conversational). The context is the
 * prompt, or else the turns the chosen list carries before its answer.
 */
export function pairDraft(record: Record<string, unknown>, used: string[] = []): Draft {
  const promptKey = PROMPT_KEYS.find((key) => record[key] !== undefined && record[key] !== null);
  let context: Message[] = promptKey ? messagesOf(record[promptKey], promptKey, 'user') : [];
  const chosen = record['chosen'] !== undefined && record['chosen'] !== null ? side(record['chosen'], 'chosen') : null;
  const rejected =
    record['rejected'] !== undefined && record['rejected'] !== null ? side(record['rejected'], 'rejected') : null;
  if (!chosen && !rejected) throw new RowProblem('field_missing', 'The record has neither "chosen" nor "rejected".');
  if (context.length === 0) context = chosen?.context.length ? chosen.context : (rejected?.context ?? []);
  const system = record['system'];
  if (typeof system === 'string' && system.trim() !== '' && context[0]?.role !== 'system') {
    context = [{ role: 'system', content: system, turn: 0 }, ...context];
  }
  renumber(context);
  const draft: Draft = {
    messages: context,
    pair: {},
    metadata: rest(record, [promptKey ?? '', 'chosen', 'rejected', 'system', ...used]),
  };
  if (chosen) draft.pair!.chosen = { ...chosen.answer, turn: context.length };
  if (rejected) draft.pair!.rejected = { ...rejected.answer, turn: context.length };
  const chosenScore = scoreOf(record, 'chosen');
  const rejectedScore = scoreOf(record, 'rejected');
  if (chosenScore !== undefined) draft.pair!.chosenScore = chosenScore;
  if (rejectedScore !== undefined) draft.pair!.rejectedScore = rejectedScore;
  return draft;
}

export const preference: FormatAdapter = {
  name: 'preference',
  label: 'Preference pairs',
  description:
    'Generic `prompt`/`chosen`/`rejected` (strings, messages or message lists), as in DRIFT seed pairs, ' +
    'TRL and most DPO data; `system` and scores are kept.',
  aliases: ['dpo', 'pairs', 'drift-seed', 'generic'],
  match: (record) => {
    if (!isRecord(record)) return 0;
    const both = 'chosen' in record && 'rejected' in record;
    if (both) return 6;
    return PROMPT_KEYS.some((key) => key in record) && ('chosen' in record || 'rejected' in record) ? 4 : 0;
  },
  createNormalizer: perRecord((record) => pairDraft(record)),
};

export const ultrafeedbackBinarized: FormatAdapter = {
  name: 'ultrafeedback-binarized',
  label: 'UltraFeedback (binarized)',
  description:
    '`prompt`, `chosen`, `rejected` (strings or message lists) with `score_chosen`/`score_rejected` ' +
    '(top level or under `metadata`).',
  aliases: ['ultrafeedback_binarized'],
  match: (record) => (isRecord(record) && 'chosen' in record && 'rejected' in record && hasScores(record) ? 8 : 0),
  createNormalizer: perRecord((record) => pairDraft(record)),
};

export const driftDsat: FormatAdapter = {
  name: 'drift-dsat',
  label: 'DRIFT dsat_data',
  description:
    "DRIFT's dsat_data.jsonl: `prompt` (messages: the context), `rejected` ([assistant message]: the DSAT " +
    'response) and `user_preference` (the user’s dissatisfied feedback turn).',
  aliases: ['dsat'],
  match: (record) =>
    isRecord(record) && 'prompt' in record && 'rejected' in record && 'user_preference' in record ? 10 : 0,
  createNormalizer: perRecord((record) => {
    const messages = messagesOf(record['prompt'], 'prompt', 'user');
    if (record['rejected'] === undefined) throw new RowProblem('field_missing', 'The record has no "rejected".');
    const rejected = answerOf(record['rejected'], messages.length, 'rejected');
    const draft: Draft = {
      messages,
      pair: { rejected },
      feedback: feedbackOf(record['user_preference'], messages.length + 1),
      metadata: rest(record, ['prompt', 'rejected', 'user_preference']),
    };
    if (record['chosen'] !== undefined) draft.pair!.chosen = answerOf(record['chosen'], messages.length, 'chosen');
    delete draft.metadata['chosen'];
    return draft;
  }),
};

export const driftSat: FormatAdapter = {
  name: 'drift-sat',
  label: 'DRIFT sat_data',
  description: "DRIFT's sat_data.jsonl: `prompt` (messages) and the satisfying `chosen` answer, with no rejected one.",
  aliases: ['sat'],
  match: (record) =>
    isRecord(record) && isMessageList(record['prompt']) && 'chosen' in record && !('rejected' in record) ? 7 : 0,
  createNormalizer: perRecord((record) => pairDraft(record)),
};

interface Completion {
  index: number;
  score: number | undefined;
  text: string;
}

function completionScore(completion: Record<string, unknown>): number | undefined {
  const overall = numberOf(completion['overall_score']);
  if (overall !== undefined) return overall;
  const fine = numberOf(completion['fine-grained_score']);
  if (fine !== undefined) return fine;
  const annotations = completion['annotations'];
  if (!isRecord(annotations)) return undefined;
  const ratings = Object.values(annotations)
    .map((annotation) => (isRecord(annotation) ? numberOf(annotation['Rating']) : undefined))
    .filter((rating): rating is number => rating !== undefined);
  return ratings.length > 0 ? ratings.reduce((sum, rating) => sum + rating, 0) / ratings.length : undefined;
}

export const ultrafeedback: FormatAdapter = {
  name: 'ultrafeedback',
  label: 'UltraFeedback (raw)',
  description:
    '`instruction` with `completions` (model, response, annotations, critique, overall_score): the best-rated ' +
    'completion becomes chosen and the worst rejected; all completions are kept in metadata.',
  aliases: ['ultrafeedback-raw'],
  match: (record) =>
    isRecord(record) && typeof record['instruction'] === 'string' && Array.isArray(record['completions']) ? 9 : 0,
  createNormalizer: perRecord((record) => {
    const instruction = requireText(record, 'instruction');
    const raw = record['completions'];
    if (!Array.isArray(raw)) throw new RowProblem('field_type', '"completions" is not a list.');
    const completions: Completion[] = raw.map((item, index) => {
      if (!isRecord(item) || typeof item['response'] !== 'string') {
        throw new RowProblem('field_type', `completions[${index}] has no text "response".`);
      }
      return { index, score: completionScore(item), text: item['response'] };
    });
    const messages: Message[] = [{ role: 'user', content: instruction, turn: 0 }];
    const draft: Draft = { messages, metadata: rest(record, ['instruction']) };
    const scored = completions.filter((completion) => completion.score !== undefined);
    if (scored.length >= 2) {
      const sorted = [...scored].sort((a, b) => b.score! - a.score! || a.index - b.index);
      const best = sorted[0]!;
      const worst = sorted.at(-1)!;
      if (best.score! > worst.score!) {
        draft.pair = {
          chosen: { role: 'assistant', content: best.text, turn: 1, metadata: { completion: best.index } },
          rejected: { role: 'assistant', content: worst.text, turn: 1, metadata: { completion: worst.index } },
          chosenScore: best.score!,
          rejectedScore: worst.score!,
        };
      }
    }
    return draft;
  }),
};

const HH_TURN = /\n\n(Human|Assistant):[ ]?/g;

/** An HH-RLHF transcript (`\n\nHuman: ...\n\nAssistant: ...`) as messages. */
export function parseTranscript(text: string, where: string): Message[] {
  const messages: Message[] = [];
  const marks = [...text.matchAll(HH_TURN)];
  if (marks.length === 0)
    throw new RowProblem('field_type', `${where} has no "\\n\\nHuman:" / "\\n\\nAssistant:" turns.`);
  const preamble = text.slice(0, marks[0]!.index).trim();
  if (preamble !== '') messages.push({ role: 'system', content: preamble, turn: 0 });
  marks.forEach((mark, index) => {
    const start = mark.index + mark[0].length;
    const end = index + 1 < marks.length ? marks[index + 1]!.index : text.length;
    messages.push({
      role: mark[1] === 'Human' ? 'user' : 'assistant',
      content: text.slice(start, end),
      turn: messages.length,
    });
  });
  return messages;
}

function sameTurns(a: readonly Message[], b: readonly Message[]): boolean {
  return (
    a.length === b.length &&
    a.every((message, index) => message.role === b[index]?.role && message.content === b[index]?.content)
  );
}

export const hhRlhf: FormatAdapter = {
  name: 'hh-rlhf',
  label: 'Anthropic HH-RLHF',
  description:
    '`chosen` and `rejected` transcripts with `\\n\\nHuman:` / `\\n\\nAssistant:` turns; the shared turns are the context.',
  aliases: ['hh', 'anthropic-hh'],
  match: (record) =>
    isRecord(record) &&
    typeof record['chosen'] === 'string' &&
    typeof record['rejected'] === 'string' &&
    record['chosen'].includes('\n\nHuman:') &&
    record['chosen'].includes('\n\nAssistant:')
      ? 9
      : 0,
  createNormalizer: perRecord((record) => {
    const chosen = parseTranscript(requireText(record, 'chosen'), 'chosen');
    const rejected = parseTranscript(requireText(record, 'rejected'), 'rejected');
    const chosenAnswer = chosen.at(-1)!;
    const rejectedAnswer = rejected.at(-1)!;
    if (chosenAnswer.role !== 'assistant' || rejectedAnswer.role !== 'assistant') {
      throw new RowProblem('field_type', 'A transcript does not end with an Assistant turn.');
    }
    const context = chosen.slice(0, -1);
    const metadata = rest(record, ['chosen', 'rejected']);
    if (!sameTurns(context, rejected.slice(0, -1))) metadata['rejectedContext'] = rejected.slice(0, -1);
    return {
      messages: context,
      pair: {
        chosen: { ...chosenAnswer, turn: context.length },
        rejected: { ...rejectedAnswer, turn: context.length },
      },
      metadata,
    };
  }),
};

export const replyLikes: FormatAdapter = {
  name: 'reply-likes',
  label: 'Replies with likes',
  description:
    '`query` with `replys`/`replies: [{reply, like, dislike}]` (user feedback counts): the most liked reply ' +
    '(likes minus dislikes) becomes chosen and the least liked rejected; all replies are kept.',
  aliases: ['likes'],
  match: (record) => {
    if (!isRecord(record) || typeof record['query'] !== 'string') return 0;
    const replies = record['replys'] ?? record['replies'];
    return Array.isArray(replies) && isRecord(replies[0]) && 'like' in replies[0] ? 9 : 0;
  },
  createNormalizer: perRecord((record) => {
    const query = requireText(record, 'query');
    const key = 'replys' in record ? 'replys' : 'replies';
    const replies = record[key];
    if (!Array.isArray(replies)) throw new RowProblem('field_type', `"${key}" is not a list.`);
    const scored = replies.map((item, index) => {
      if (!isRecord(item) || typeof item['reply'] !== 'string') {
        throw new RowProblem('field_type', `${key}[${index}] has no text "reply".`);
      }
      return { index, text: item['reply'], score: (numberOf(item['like']) ?? 0) - (numberOf(item['dislike']) ?? 0) };
    });
    const draft: Draft = { messages: [{ role: 'user', content: query, turn: 0 }], metadata: rest(record, ['query']) };
    const sorted = [...scored].sort((a, b) => b.score - a.score || a.index - b.index);
    const best = sorted[0];
    const worst = sorted.at(-1);
    if (best && worst && best.score > worst.score) {
      draft.pair = {
        chosen: { role: 'assistant', content: best.text, turn: 1, metadata: { reply: best.index } },
        rejected: { role: 'assistant', content: worst.text, turn: 1, metadata: { reply: worst.index } },
        chosenScore: best.score,
        rejectedScore: worst.score,
      };
    }
    return draft;
  }),
};

const INSTRUCTION_KEYS = ['instruction', 'prompt', 'question', 'query'] as const;
const RESPONSE_KEYS = ['output', 'response', 'completion', 'answer'] as const;
const NOT_INSTRUCTION = ['chosen', 'rejected', 'messages', 'conversations', 'conversation', 'completions'];

export const instruction: FormatAdapter = {
  name: 'instruction',
  label: 'Instructions / prompts',
  description:
    'One prompt per record (`instruction`, `prompt`, `question` or `query`, plus `input`), with an optional ' +
    'answer (`output`, `response`, `completion` or `answer`): Alpaca-style data, Chatbot Arena prompts.',
  aliases: ['alpaca', 'prompts'],
  match: (record) => {
    if (!isRecord(record) || NOT_INSTRUCTION.some((key) => key in record)) return 0;
    return INSTRUCTION_KEYS.some((key) => typeof record[key] === 'string') ? 3 : 0;
  },
  createNormalizer: perRecord((record) => {
    const key = INSTRUCTION_KEYS.find((name) => typeof record[name] === 'string');
    if (!key) throw new RowProblem('field_missing', `The record has none of ${INSTRUCTION_KEYS.join(', ')}.`);
    const input = typeof record['input'] === 'string' && record['input'].trim() !== '' ? record['input'] : '';
    const text = input ? `${record[key] as string}\n\n${input}` : (record[key] as string);
    const messages: Message[] = [{ role: 'user', content: text, turn: 0 }];
    const responseKey = RESPONSE_KEYS.find((name) => typeof record[name] === 'string');
    if (responseKey) messages.push({ role: 'assistant', content: record[responseKey] as string, turn: 1 });
    return { messages, metadata: rest(record, [key, responseKey ?? '', input ? 'input' : '']) };
  }),
};
