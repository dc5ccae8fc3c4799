/**
 * From a format's draft to a stored conversation: checks (size, emptiness), a stable id, the
 * personal-data scan (and redaction), the language and the duplicate check. Also the tally of
 * everything an import saw, which becomes the import report.
 */
import { createHash } from 'node:crypto';
import type { ImportErrorCode, PiiCounts, RowError } from '../../api/index.js';
import { contentHash, DuplicateIndex } from './dedupe.js';
import type { Draft } from './formats/index.js';
import { conversationLanguage, type LanguageDetector } from './language.js';
import type { ImportLimits } from './limits.js';
import { findPii, redact } from './pii.js';
import { rowError, type Conversation, type Message, type PiiSpan, type SourceLocation } from './schema.js';

export interface FinishOptions {
  redact: boolean;
  /** Detects each conversation's language; null skips the language facet. */
  language: LanguageDetector | null;
  limits: ImportLimits;
}

const DUPLICATE_EXAMPLES = 100;

/** Turns drafts into conversations and keeps the duplicate index of one import. */
export class ConversationFinisher {
  readonly #options: FinishOptions;
  readonly #duplicates = new DuplicateIndex();

  constructor(options: FinishOptions) {
    this.#options = options;
  }

  get duplicates(): number {
    return this.#duplicates.duplicates;
  }

  finish(
    draft: Draft,
    location: SourceLocation,
    format: string,
    group?: string,
  ): { ok: true; conversation: Conversation } | { ok: false; error: RowError } {
    const { limits } = this.#options;
    if (draft.messages.length > limits.maxMessages) {
      const message = `The conversation has ${draft.messages.length} messages; the limit is ${limits.maxMessages}.`;
      return { ok: false, error: rowError(location, 'record_too_large', message) };
    }
    const slots = [...draft.messages, draft.pair?.chosen, draft.pair?.rejected, draft.feedback];
    if (!slots.some((message) => message !== undefined && message.content.trim() !== '')) {
      return { ok: false, error: rowError(location, 'conversation_empty', 'The record holds no message with text.') };
    }
    const hash = contentHash(draft);
    const id = conversationId(location, hash);
    const conversation: Conversation = {
      id,
      source: location,
      format,
      messages: draft.messages,
      metadata: draft.metadata,
    };
    if (group !== undefined) conversation.metadata['split'] = group;
    if (draft.pair) conversation.pair = draft.pair;
    if (draft.feedback) conversation.feedback = draft.feedback;
    if (draft.label !== undefined) conversation.label = draft.label;
    if (draft.scores) conversation.scores = draft.scores;
    this.#scanPii(conversation);
    if (this.#options.language) {
      const extra = [draft.pair?.chosen, draft.pair?.rejected, draft.feedback].filter((m): m is Message => !!m);
      conversation.language = conversationLanguage(this.#options.language, draft.messages, extra);
    }
    const first = this.#duplicates.check(hash, id);
    if (first !== undefined) conversation.duplicateOf = first;
    return { ok: true, conversation };
  }

  #scanPii(conversation: Conversation): void {
    const spans: PiiSpan[] = [];
    const counts: PiiCounts = {};
    const scan = (message: Message | undefined, target: PiiSpan['target']) => {
      if (!message || message.content === '') return;
      let matches = findPii(message.content);
      if (matches.length === 0) return;
      if (this.#options.redact) {
        const redacted = redact(message.content, matches);
        message.content = redacted.text;
        matches = redacted.matches;
      }
      for (const match of matches) {
        spans.push({ target, start: match.start, end: match.end, kind: match.kind });
        counts[match.kind] = (counts[match.kind] ?? 0) + 1;
      }
    };
    conversation.messages.forEach((message) => scan(message, message.turn));
    scan(conversation.pair?.chosen, 'chosen');
    scan(conversation.pair?.rejected, 'rejected');
    scan(conversation.feedback, 'feedback');
    if (spans.length > 0) conversation.pii = { counts, spans, redacted: this.#options.redact };
  }
}

/** Stable id: the source location and the content, hashed (16 hex digits). */
export function conversationId(location: SourceLocation, hash: string): string {
  const where = `${location.file}\u0000${location.line ?? ''}\u0000${location.row ?? ''}\u0000${location.byteOffset}`;
  return createHash('sha1').update(where).update('\u0000').update(hash).digest('hex').slice(0, 16);
}

/** Counts and facets of one import, and its capped list of rejected rows. */
export class ImportTally {
  rows = 0;
  conversations = 0;
  messages = 0;
  rejected = 0;
  blankLines = 0;
  piiConversations = 0;
  readonly pii: PiiCounts = {};
  readonly languages: Record<string, number> = {};
  readonly formats: Record<string, number> = {};
  readonly errors: RowError[] = [];
  readonly errorCounts: Partial<Record<ImportErrorCode, number>> = {};
  readonly duplicateExamples: { id: string; duplicateOf: string; file: string; line: number | null }[] = [];
  readonly #maxErrors: number;

  constructor(maxErrors: number) {
    this.#maxErrors = maxErrors;
  }

  /** Records a rejected row (rows that were read count in `rows` too). */
  reject(error: RowError, countsAsRow: boolean): void {
    this.rejected++;
    if (countsAsRow) this.rows++;
    this.errorCounts[error.code] = (this.errorCounts[error.code] ?? 0) + 1;
    if (this.errors.length < this.#maxErrors) this.errors.push(error);
  }

  accept(conversation: Conversation): void {
    this.conversations++;
    this.messages += conversation.messages.length;
    if (conversation.pair?.chosen) this.messages++;
    if (conversation.pair?.rejected) this.messages++;
    if (conversation.feedback) this.messages++;
    this.formats[conversation.format] = (this.formats[conversation.format] ?? 0) + 1;
    if (conversation.language) this.languages[conversation.language] = (this.languages[conversation.language] ?? 0) + 1;
    if (conversation.pii) {
      this.piiConversations++;
      for (const [kind, count] of Object.entries(conversation.pii.counts) as [keyof PiiCounts, number][]) {
        this.pii[kind] = (this.pii[kind] ?? 0) + count;
      }
    }
    if (conversation.duplicateOf && this.duplicateExamples.length < DUPLICATE_EXAMPLES) {
      this.duplicateExamples.push({
        id: conversation.id,
        duplicateOf: conversation.duplicateOf,
        file: conversation.source.file,
        line: conversation.source.line ?? null,
      });
    }
  }

  get errorsTruncated(): boolean {
    return this.errors.length < this.rejected;
  }
}
