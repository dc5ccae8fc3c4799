/**
 * WildFeedback's `sat_dsat_annotation` config: one record per utterance (`UtteranceId` — the
 * file spells it `UtterranceId` —, `TurnId`, `Role` User/Agent, `Content`, `Satisfaction`,
 * `Disatisfaction`, `Preceeding`, plus state/intent fields), consecutive records forming a
 * conversation. A record may also be a whole conversation as a list of such utterances.
 *
 * Per the WildFeedback paper (Appendix A.1), a SAT/DSAT flag on a user turn judges the
 * assistant turn before it: the flags stay on the user message, with `labels.judges` naming
 * that assistant turn. Flags on agent rows are not judgements and stay in its metadata.
 */
import type { Message, SourceLocation } from '../schema.js';
import { booleanOf, contentOf, roleOf, rest } from './messages.js';
import {
  isRecord,
  problemItem,
  RowProblem,
  type Draft,
  type FormatAdapter,
  type NormalizedItem,
  type Normalizer,
} from './types.js';

const ID_KEYS = ['UtterranceId', 'UtteranceId', 'utterance_id'] as const;
const ROLE_KEYS = ['Role', 'role'] as const;
const TEXT_KEYS = ['Content', 'content', 'Text', 'Utterance', 'text'] as const;
const SAT_KEYS = ['Satisfaction', 'satisfaction', 'SAT'] as const;
const DSAT_KEYS = ['Disatisfaction', 'Dissatisfaction', 'dissatisfaction', 'DSAT'] as const;
const CONVERSATION_KEYS = ['conversation_id', 'ConversationId', 'conversation_hash', 'ConvId', 'conv_id'] as const;
/** A group longer than this is cut into several conversations. */
const MAX_UTTERANCES = 10_000;

const pick = <K extends string>(record: Record<string, unknown>, keys: readonly K[]): K | undefined =>
  keys.find((key) => key in record);

function isUtterance(value: unknown): value is Record<string, unknown> {
  return (
    isRecord(value) &&
    pick(value, ROLE_KEYS) !== undefined &&
    (pick(value, SAT_KEYS) !== undefined || pick(value, DSAT_KEYS) !== undefined || pick(value, ID_KEYS) !== undefined)
  );
}

interface Group {
  location: SourceLocation;
  conversation: unknown;
  utterances: Record<string, unknown>[];
  lastId: number | undefined;
}

function utteranceId(record: Record<string, unknown>): number | undefined {
  const key = pick(record, ID_KEYS);
  if (key === undefined) return undefined;
  const value = Number(record[key]);
  return Number.isFinite(value) ? value : undefined;
}

function toDraft(utterances: Record<string, unknown>[]): Draft {
  const messages: Message[] = [];
  let lastAssistant: number | undefined;
  const shared: Record<string, unknown> = {};
  utterances.forEach((utterance, index) => {
    const where = `utterance ${index}`;
    const roleKey = pick(utterance, ROLE_KEYS);
    const role = roleOf(roleKey ? utterance[roleKey] : undefined);
    if (role === null) {
      const shown = JSON.stringify(roleKey ? utterance[roleKey] : undefined)?.slice(0, 40);
      throw new RowProblem('role_unknown', `${where} has Role ${shown ?? 'undefined'}, not User or Agent.`);
    }
    const textKey = pick(utterance, TEXT_KEYS);
    if (textKey === undefined) throw new RowProblem('field_missing', `${where} has no Content.`);
    const content = contentOf(utterance[textKey], `${where}.${textKey}`);
    const satKey = pick(utterance, SAT_KEYS);
    const dsatKey = pick(utterance, DSAT_KEYS);
    const conversationKey = pick(utterance, CONVERSATION_KEYS);
    if (conversationKey) shared[conversationKey] = utterance[conversationKey];
    const message: Message = { role, content: content.text, turn: messages.length };
    const metadata = rest(utterance, [roleKey ?? '', textKey, conversationKey ?? '']);
    if (role === 'user' && (satKey || dsatKey)) {
      const original: Record<string, unknown> = {};
      for (const key of [satKey, dsatKey, 'Preceeding']) {
        if (key && key in utterance) {
          original[key] = utterance[key];
          delete metadata[key];
        }
      }
      const sat = satKey ? booleanOf(utterance[satKey]) : undefined;
      const dsat = dsatKey ? booleanOf(utterance[dsatKey]) : undefined;
      message.labels = { original };
      if (sat !== undefined) message.labels.sat = sat;
      if (dsat !== undefined) message.labels.dsat = dsat;
      if (lastAssistant !== undefined) message.labels.judges = lastAssistant;
    }
    if (Object.keys(metadata).length > 0) message.metadata = metadata;
    if (role === 'assistant') lastAssistant = message.turn;
    messages.push(message);
  });
  return { messages, metadata: shared };
}

function createNormalizer(): Normalizer {
  let group: Group | null = null;
  const close = (): NormalizedItem[] => {
    if (!group) return [];
    const done = group;
    group = null;
    try {
      return [{ kind: 'draft', draft: toDraft(done.utterances), location: done.location }];
    } catch (error) {
      return [problemItem(error, done.location)];
    }
  };
  return {
    push: (record) => {
      const value = record.value;
      if (Array.isArray(value)) {
        // A whole conversation in one record.
        const out = close();
        try {
          if (!value.every(isUtterance))
            throw new RowProblem('field_type', 'The list holds items that are not utterances.');
          out.push({ kind: 'draft', draft: toDraft(value), location: record.location });
        } catch (error) {
          out.push(problemItem(error, record.location));
        }
        return out;
      }
      if (!isUtterance(value)) {
        const problem = new RowProblem('field_type', 'The record is not an utterance (Role plus Satisfaction flags).');
        return [problemItem(problem, record.location)];
      }
      const id = utteranceId(value);
      const conversationKey = pick(value, CONVERSATION_KEYS);
      const conversation = conversationKey ? value[conversationKey] : undefined;
      const restarts =
        group !== null &&
        ((conversationKey !== undefined && conversation !== group.conversation) ||
          (id !== undefined && group.lastId !== undefined && id <= group.lastId) ||
          group.utterances.length >= MAX_UTTERANCES);
      const out = restarts ? close() : [];
      group ??= { location: record.location, conversation, utterances: [], lastId: undefined };
      group.utterances.push(value);
      group.lastId = id;
      return out;
    },
    flush: close,
  };
}

export const wildfeedbackAnnotations: FormatAdapter = {
  name: 'wildfeedback-annotations',
  label: 'WildFeedback SAT/DSAT annotations',
  description:
    "WildFeedback's `sat_dsat_annotation`: one record per utterance (Role, Content, Satisfaction, " +
    'Disatisfaction, ...), grouped into conversations; a flag on a user turn judges the assistant turn before it.',
  aliases: ['sat_dsat_annotation', 'sat-dsat'],
  match: (record) => (isUtterance(record) || (Array.isArray(record) && isUtterance(record[0])) ? 10 : 0),
  createNormalizer,
};
