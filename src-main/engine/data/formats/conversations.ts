/**
 * Formats that hold whole conversations: ShareGPT (`from`/`value`, incl. WildFeedback's
 * `wildfeedback` preference config and LLaMA-Factory DPO files), OpenAI messages, KTO
 * (messages plus a boolean label), WildChat and LMSYS-Chat.
 */
import type { Message } from '../schema.js';
import { booleanOf, contentOf, isMessageList, messageOf, messagesOf, renumber, rest } from './messages.js';
import { isRecord, perRecord, RowProblem, type Draft, type FormatAdapter } from './types.js';

/** `{from, value}` or `{role, content}` or a plain string, as the assistant answer at `turn`. */
export function answerOf(value: unknown, turn: number, where: string): Message {
  if (Array.isArray(value)) {
    const list = messagesOf(value, where);
    const last = list.at(-1);
    if (!last) throw new RowProblem('field_missing', `${where} is an empty list.`);
    last.turn = turn;
    return last;
  }
  if (typeof value === 'string') return { role: 'assistant', content: value, turn };
  return messageOf(value, turn, where, 'assistant');
}

function withSystem(record: Record<string, unknown>, messages: Message[]): Message[] {
  const system = record['system'];
  if (typeof system === 'string' && system.trim() !== '' && messages[0]?.role !== 'system') {
    return renumber([{ role: 'system', content: system, turn: 0 }, ...messages]);
  }
  return messages;
}

export const sharegpt: FormatAdapter = {
  name: 'sharegpt',
  label: 'ShareGPT / WildFeedback',
  description:
    '`conversations: [{from, value}]` (human/gpt/system), optionally with `chosen`/`rejected` answers ' +
    "(WildFeedback's `wildfeedback` config, LLaMA-Factory DPO files) and `user_preference` (WildFeedback).",
  aliases: ['wildfeedback', 'wildfeedback-preference', 'llama-factory'],
  match: (record) => {
    if (!isRecord(record) || !isMessageList(record['conversations'])) return 0;
    if ('user_preference' in record) return 9;
    return 'chosen' in record && 'rejected' in record ? 8 : 6;
  },
  createNormalizer: perRecord((record) => {
    const messages = withSystem(record, messagesOf(record['conversations'], 'conversations'));
    const draft: Draft = {
      messages,
      metadata: rest(record, ['conversations', 'system', 'chosen', 'rejected', 'user_preference']),
    };
    if ('chosen' in record || 'rejected' in record) {
      draft.pair = {};
      if (record['chosen'] !== undefined) draft.pair.chosen = answerOf(record['chosen'], messages.length, 'chosen');
      if (record['rejected'] !== undefined)
        draft.pair.rejected = answerOf(record['rejected'], messages.length, 'rejected');
    }
    if (record['user_preference'] !== undefined) {
      draft.feedback = feedbackOf(record['user_preference'], messages.length + (draft.pair ? 1 : 0));
    }
    return draft;
  }),
};

/** A feedback turn: a message object, a string, or a list of strings (joined). */
export function feedbackOf(value: unknown, turn: number): Message {
  if (Array.isArray(value) && value.every((item) => typeof item === 'string')) {
    return { role: 'user', content: value.join('\n'), turn, metadata: { field: 'user_preference' } };
  }
  if (typeof value === 'string') return { role: 'user', content: value, turn, metadata: { field: 'user_preference' } };
  const message = messageOf(value, turn, 'user_preference', 'user');
  return message;
}

export const openai: FormatAdapter = {
  name: 'openai',
  label: 'OpenAI messages',
  description: '`messages: [{role, content}]`, where content is a string, a list of parts or an object.',
  aliases: ['messages', 'chatml'],
  match: (record) => (isRecord(record) && isMessageList(record['messages']) ? 6 : 0),
  createNormalizer: perRecord((record) => ({
    messages: withSystem(record, messagesOf(record['messages'], 'messages')),
    metadata: rest(record, ['messages', 'system']),
  })),
};

export const kto: FormatAdapter = {
  name: 'kto',
  label: 'KTO binary feedback',
  description:
    'Unpaired feedback: `messages` plus a boolean `label` (desirable answer or not), or TRL-style ' +
    '`prompt`/`completion`/`label`.',
  aliases: ['binary-feedback'],
  match: (record) => {
    if (!isRecord(record) || booleanOf(record['label']) === undefined) return 0;
    if (isMessageList(record['messages'])) return 9;
    return 'prompt' in record && 'completion' in record ? 9 : 0;
  },
  createNormalizer: perRecord((record) => {
    const label = booleanOf(record['label']);
    if (label === undefined) throw new RowProblem('field_type', '"label" is not a boolean.');
    if (record['messages'] !== undefined) {
      return {
        messages: withSystem(record, messagesOf(record['messages'], 'messages')),
        label,
        metadata: rest(record, ['messages', 'system', 'label']),
      };
    }
    const prompt = messagesOf(record['prompt'], 'prompt', 'user');
    const completion = messagesOf(record['completion'], 'completion', 'assistant', prompt.length);
    return {
      messages: renumber(withSystem(record, [...prompt, ...completion])),
      label,
      metadata: rest(record, ['prompt', 'completion', 'system', 'label']),
    };
  }),
};

function chatLog(record: Record<string, unknown>): Draft {
  const conversation = record['conversation'];
  if (!Array.isArray(conversation)) throw new RowProblem('field_type', '"conversation" is not a list of messages.');
  const messages = conversation.map((item, index) => {
    if (isRecord(item) && 'content' in item && item['content'] !== null && typeof item['content'] !== 'string') {
      // Keep odd content shapes readable rather than rejecting a whole log.
      const content = contentOf(item['content'], `conversation[${index}].content`);
      return messageOf({ ...item, content: content.text }, index, `conversation[${index}]`);
    }
    return messageOf(item, index, `conversation[${index}]`);
  });
  return { messages, metadata: rest(record, ['conversation']) };
}

export const wildchat: FormatAdapter = {
  name: 'wildchat',
  label: 'WildChat',
  description:
    '`conversation_hash`, `conversation: [{role, content, ...}]`, `model`, `language`, `toxic`, ...; ' +
    'per-turn fields (timestamp, country, hashed_ip, moderation) are kept on each message.',
  aliases: ['wildchat-1m'],
  match: (record) => {
    if (!isRecord(record) || !isMessageList(record['conversation'])) return 0;
    if ('conversation_hash' in record) return 9;
    return 'toxic' in record || 'openai_moderation' in record || 'detoxify_moderation' in record ? 7 : 0;
  },
  createNormalizer: perRecord(chatLog),
};

export const lmsys: FormatAdapter = {
  name: 'lmsys-chat',
  label: 'LMSYS-Chat',
  description: '`conversation_id`, `model`, `turn`, `language`, `conversation: [{role, content}]` (LMSYS-Chat-1M).',
  aliases: ['lmsys', 'lmsys-chat-1m'],
  match: (record) => {
    if (!isRecord(record) || !isMessageList(record['conversation'])) return 0;
    return 'conversation_id' in record ? 8 : 5;
  },
  createNormalizer: perRecord(chatLog),
};
