/**
 * Shared pieces of normalisation: role aliases, message content in its many shapes (a string,
 * a list of parts, an object), message lists, numbers and booleans that arrive as text (CSV),
 * and the metadata bag that keeps every field with no canonical place.
 */
import type { Message, MessageLabels, Role } from '../schema.js';
import { describeType, isRecord, RowProblem } from './types.js';

const ROLE_ALIASES: Record<string, Role> = {
  system: 'system',
  developer: 'system',
  user: 'user',
  human: 'user',
  prompter: 'user',
  customer: 'user',
  assistant: 'assistant',
  gpt: 'assistant',
  chatgpt: 'assistant',
  bot: 'assistant',
  model: 'assistant',
  ai: 'assistant',
  bard: 'assistant',
  bing: 'assistant',
  agent: 'assistant',
};

/** The canonical role for a source role name, or null. */
export function roleOf(name: unknown): Role | null {
  if (typeof name !== 'string') return null;
  return ROLE_ALIASES[name.trim().toLowerCase()] ?? null;
}

const TEXT_KEYS = ['text', 'content', 'answer', 'value', 'output', 'response', 'message'] as const;

export interface Content {
  text: string;
  /** Fields of an object or part list that were not text (kept as message metadata). */
  extra?: Record<string, unknown>;
}

/**
 * Message content as text: a string; a list of parts (strings, `{type: "text", text}`) joined
 * by newlines, with other parts counted; or an object holding the text under a usual key
 * (`{answer: ...}` in arena-hard answers), its other keys kept.
 */
export function contentOf(value: unknown, where: string): Content {
  if (typeof value === 'string') return { text: value };
  if (value === null || value === undefined) throw new RowProblem('field_missing', `${where} has no content.`);
  if (Array.isArray(value)) {
    const texts: string[] = [];
    const other: string[] = [];
    for (const part of value) {
      if (typeof part === 'string') texts.push(part);
      else if (isRecord(part) && typeof part['text'] === 'string') texts.push(part['text']);
      else if (isRecord(part) && typeof part['content'] === 'string') texts.push(part['content']);
      else other.push(isRecord(part) && typeof part['type'] === 'string' ? part['type'] : describeType(part));
    }
    if (texts.length === 0 && other.length > 0) {
      throw new RowProblem('field_type', `${where} holds no text part (parts: ${other.slice(0, 5).join(', ')}).`);
    }
    return other.length > 0 ? { text: texts.join('\n'), extra: { nonTextParts: other } } : { text: texts.join('\n') };
  }
  if (isRecord(value)) {
    for (const key of TEXT_KEYS) {
      const text = value[key];
      if (typeof text === 'string') {
        const extra = rest(value, [key]);
        return Object.keys(extra).length > 0 ? { text, extra: { content: extra } } : { text };
      }
    }
    throw new RowProblem('field_type', `${where} is an object without a text field (${TEXT_KEYS.join(', ')}).`);
  }
  throw new RowProblem('field_type', `${where} is ${describeType(value)}, not text.`);
}

const ROLE_KEYS = ['role', 'from', 'speaker', 'author'] as const;
const MESSAGE_TEXT_KEYS = ['content', 'value', 'text', 'message'] as const;

/** One message object (`{role, content}`, `{from, value}`, ...) at `turn`. */
export function messageOf(value: unknown, turn: number, where: string, defaultRole?: Role): Message {
  if (typeof value === 'string' && defaultRole) return { role: defaultRole, content: value, turn };
  if (!isRecord(value)) throw new RowProblem('field_type', `${where} is ${describeType(value)}, not a message.`);
  const roleKey = ROLE_KEYS.find((key) => key in value);
  let role: Role | null;
  if (roleKey === undefined) {
    if (!defaultRole) throw new RowProblem('field_missing', `${where} has no role (role or from).`);
    role = defaultRole;
  } else {
    role = roleOf(value[roleKey]);
    if (role === null) {
      const shown = JSON.stringify(value[roleKey])?.slice(0, 40) ?? String(value[roleKey]);
      throw new RowProblem('role_unknown', `${where} has ${roleKey} ${shown}, which is not system, user or assistant.`);
    }
  }
  const textKey = MESSAGE_TEXT_KEYS.find((key) => key in value);
  if (textKey === undefined) throw new RowProblem('field_missing', `${where} has no content (content or value).`);
  const content = contentOf(value[textKey], `${where}.${textKey}`);
  const message: Message = { role, content: content.text, turn };
  if (typeof value['name'] === 'string') message.name = value['name'];
  const metadata = { ...rest(value, [roleKey ?? '', textKey, 'name']), ...content.extra };
  if (Object.keys(metadata).length > 0) message.metadata = metadata;
  return message;
}

/**
 * A list of messages. A string holding a JSON array (a CSV cell) is parsed; a plain string is
 * one message with `stringRole`.
 */
export function messagesOf(value: unknown, where: string, stringRole?: Role, firstTurn = 0): Message[] {
  if (typeof value === 'string') {
    const trimmed = value.trimStart();
    if (trimmed.startsWith('[')) {
      try {
        return messagesOf(JSON.parse(value) as unknown, where, stringRole, firstTurn);
      } catch (error) {
        if (error instanceof RowProblem) throw error;
      }
    }
    if (stringRole) return [{ role: stringRole, content: value, turn: firstTurn }];
  }
  if (value === undefined || value === null) throw new RowProblem('field_missing', `${where} is missing.`);
  if (!Array.isArray(value))
    throw new RowProblem('field_type', `${where} is ${describeType(value)}, not a list of messages.`);
  return value.map((item, index) => messageOf(item, firstTurn + index, `${where}[${index}]`, undefined));
}

/** Renumbers `turn` to the index in the list (after lists were joined). */
export function renumber(messages: Message[], first = 0): Message[] {
  messages.forEach((message, index) => (message.turn = first + index));
  return messages;
}

/** A finite number, also from numeric text (CSV); otherwise undefined. */
export function numberOf(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'string' && value.trim() !== '') {
    const parsed = Number(value);
    return Number.isFinite(parsed) ? parsed : undefined;
  }
  return undefined;
}

/** A boolean, also from `true`/`false`/`1`/`0` text; otherwise undefined. */
export function booleanOf(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (value === 1 || value === 0) return value === 1;
  if (typeof value === 'string') {
    const lower = value.trim().toLowerCase();
    if (lower === 'true' || lower === '1' || lower === 'yes') return true;
    if (lower === 'false' || lower === '0' || lower === 'no') return false;
  }
  return undefined;
}

/** The fields of `record` not in `used`, as a fresh object (never copies `__proto__`). */
export function rest(record: Record<string, unknown>, used: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(record)) {
    if (key === '__proto__' || used.includes(key)) continue;
    out[key] = record[key];
  }
  return out;
}

/** A text field that must be present. */
export function requireText(record: Record<string, unknown>, key: string): string {
  const value = record[key];
  if (value === undefined || value === null) throw new RowProblem('field_missing', `The record has no "${key}".`);
  if (typeof value !== 'string') throw new RowProblem('field_type', `"${key}" is ${describeType(value)}, not text.`);
  return value;
}

/** Whether `value` is a non-empty array of objects that look like messages. */
export function isMessageList(value: unknown): boolean {
  if (!Array.isArray(value) || value.length === 0) return false;
  const first: unknown = value[0];
  return isRecord(first) && ROLE_KEYS.some((key) => key in first) && MESSAGE_TEXT_KEYS.some((key) => key in first);
}

/** Adds labels to a message (merging with any it has). */
export function label(message: Message, labels: MessageLabels): Message {
  message.labels = { ...message.labels, ...labels };
  return message;
}
