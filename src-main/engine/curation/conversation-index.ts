/**
 * The in-memory index of one dataset's conversations.jsonl (and signals.jsonl) that the
 * Conversations view pages through: per conversation its byte range, language, format, source
 * file, message counts, whether its primary signals hold DSAT or SAT and which categories, the
 * byte range of its signals, and a full-text index of its user turns and the start of its answers.
 */
import {
  Signal as SignalSchema,
  type Conversation,
  type ConversationDetail,
  type ConversationFilter,
  type ConversationListResult,
  type ConversationSummary,
  type Signal,
} from '../../api/index.js';
import { categoriesOfMask, hasDsat, hasSat, maskOfCategories } from '../signals/categories.js';
import { readJsonlLines, readRange } from '../signals/jsonl.js';
import { openIndexed, sameStamp, stampOf, type FileStamp } from './pair-index.js';
import { TermIndex } from './search.js';

const PREVIEW = 160;
const SEARCH_TERMS_PER_CONVERSATION = 800;
const ANSWER_SEARCH_CHARACTERS = 1000;
const HAS_DSAT = 1;
const HAS_SAT = 2;

/** A string column stored as small integers into a table. */
class Interned {
  readonly values: string[] = [];
  readonly #ids = new Map<string, number>();
  id(value: string): number {
    let id = this.#ids.get(value);
    if (id === undefined) {
      id = this.values.length;
      this.values.push(value);
      this.#ids.set(value, id);
    }
    return id;
  }
  find(value: string): number {
    return this.#ids.get(value) ?? -1;
  }
}

export class ConversationIndex {
  readonly file: string;
  readonly signalsFile: string;
  readonly stamps: { conversations: FileStamp | null; signals: FileStamp | null };
  readonly ids: string[] = [];
  readonly byId = new Map<string, number>();
  readonly #languages = new Interned();
  readonly #formats = new Interned();
  readonly #sources = new Interned();
  #offsets: number[] = [];
  #bytes: number[] = [];
  #language: number[] = [];
  #format: number[] = [];
  #source: number[] = [];
  #messages: number[] = [];
  #userTurns: number[] = [];
  #flags = new Uint8Array(0);
  #categories = new Uint32Array(0);
  #signalOffsets = new Float64Array(0);
  #signalBytes = new Uint32Array(0);
  readonly #search = new TermIndex();

  private constructor(file: string, signalsFile: string, stamps: ConversationIndex['stamps']) {
    this.file = file;
    this.signalsFile = signalsFile;
    this.stamps = stamps;
  }

  get count(): number {
    return this.ids.length;
  }

  /** Whether the dataset has been mined (signals.jsonl exists). */
  get mined(): boolean {
    return this.stamps.signals !== null;
  }

  /** Whether the files changed since the index was built. */
  async stale(): Promise<boolean> {
    return (
      !sameStamp(this.stamps.conversations, await stampOf(this.file)) ||
      !sameStamp(this.stamps.signals, await stampOf(this.signalsFile))
    );
  }

  static async build(file: string, signalsFile: string, signal?: AbortSignal): Promise<ConversationIndex> {
    const index = new ConversationIndex(file, signalsFile, {
      conversations: await stampOf(file),
      signals: await stampOf(signalsFile),
    });
    if (index.stamps.conversations === null) return index;
    for await (const line of readJsonlLines(file, signal)) {
      let conversation: Conversation;
      try {
        conversation = JSON.parse(line.text) as Conversation;
      } catch {
        continue;
      }
      if (
        typeof conversation?.id !== 'string' ||
        !Array.isArray(conversation.messages) ||
        index.byId.has(conversation.id)
      )
        continue;
      const position = index.ids.length;
      index.ids.push(conversation.id);
      index.byId.set(conversation.id, position);
      index.#offsets.push(line.offset);
      index.#bytes.push(line.length);
      index.#language.push(index.#languages.id(conversation.language ?? 'und'));
      index.#format.push(index.#formats.id(conversation.format ?? 'unknown'));
      index.#source.push(index.#sources.id(conversation.source?.file ?? ''));
      index.#messages.push(conversation.messages.length);
      let userTurns = 0;
      const parts: string[] = [];
      for (const message of conversation.messages) {
        if (message.role === 'user') {
          userTurns++;
          parts.push(message.content);
        } else {
          parts.push(message.content.slice(0, ANSWER_SEARCH_CHARACTERS));
        }
      }
      if (conversation.feedback) parts.push(conversation.feedback.content);
      index.#userTurns.push(userTurns);
      index.#search.addText(position, parts.join('\n'), SEARCH_TERMS_PER_CONVERSATION);
    }
    index.#search.seal();
    index.#flags = new Uint8Array(index.count);
    index.#categories = new Uint32Array(index.count);
    index.#signalOffsets = new Float64Array(index.count).fill(-1);
    index.#signalBytes = new Uint32Array(index.count);
    if (index.stamps.signals !== null) await index.#readSignals(signal);
    return index;
  }

  async #readSignals(abort?: AbortSignal): Promise<void> {
    for await (const line of readJsonlLines(this.signalsFile, abort)) {
      let signal: Signal;
      try {
        signal = JSON.parse(line.text) as Signal;
      } catch {
        continue;
      }
      const position = this.byId.get(signal.conversationId);
      if (position === undefined) continue;
      const start = this.#signalOffsets[position]!;
      if (start < 0) this.#signalOffsets[position] = line.offset;
      this.#signalBytes[position] = line.offset + line.length - this.#signalOffsets[position]!;
      if (!signal.primary) continue;
      if (hasDsat(signal.polarity)) this.#flags[position]! |= HAS_DSAT;
      if (hasSat(signal.polarity)) this.#flags[position]! |= HAS_SAT;
      this.#categories[position]! |= maskOfCategories(signal.categories);
    }
  }

  /** One page of the conversations matching `filter`; `pairCounts` gives each conversation's pairs. */
  async list(
    filter: ConversationFilter,
    offset: number,
    limit: number,
    pairCounts: (id: string) => number,
  ): Promise<ConversationListResult> {
    let found: Uint8Array | null = null;
    if (filter.query !== undefined && filter.query.trim() !== '') {
      const documents = this.#search.search(filter.query);
      if (documents) {
        found = new Uint8Array(this.count);
        for (const document of documents) found[document] = 1;
      }
    }
    const lookup = (values: readonly string[] | undefined, table: Interned) =>
      values?.length ? new Set(values.map((value) => table.find(value))) : undefined;
    const languages = lookup(filter.languages, this.#languages);
    const formats = lookup(filter.formats, this.#formats);
    const sources = lookup(filter.sources, this.#sources);
    const categoryMask = filter.categories?.length ? maskOfCategories(filter.categories) : 0;
    const facets: ConversationListResult['facets'] = {
      languages: {},
      hasDsat: {},
      hasSat: {},
      categories: {},
      sources: {},
      formats: {},
    };
    const bump = (table: Record<string, number>, key: string) => (table[key] = (table[key] ?? 0) + 1);
    const QUERY = 1;
    const LANGUAGE = 2;
    const DSAT = 4;
    const SAT = 8;
    const CATEGORY = 16;
    const SOURCE = 32;
    const FORMAT = 64;
    const matched: number[] = [];
    for (let position = 0; position < this.count; position++) {
      const flags = this.#flags[position]!;
      let failed = 0;
      if (found && found[position] === 0) failed |= QUERY;
      if (languages && !languages.has(this.#language[position]!)) failed |= LANGUAGE;
      if (filter.hasDsat !== undefined && ((flags & HAS_DSAT) !== 0) !== filter.hasDsat) failed |= DSAT;
      if (filter.hasSat !== undefined && ((flags & HAS_SAT) !== 0) !== filter.hasSat) failed |= SAT;
      if (categoryMask !== 0 && (this.#categories[position]! & categoryMask) === 0) failed |= CATEGORY;
      if (sources && !sources.has(this.#source[position]!)) failed |= SOURCE;
      if (formats && !formats.has(this.#format[position]!)) failed |= FORMAT;
      const passesExcept = (group: number) => (failed & ~group) === 0;
      if (passesExcept(LANGUAGE)) bump(facets.languages, this.#languages.values[this.#language[position]!]!);
      if (passesExcept(DSAT)) bump(facets.hasDsat, String((flags & HAS_DSAT) !== 0));
      if (passesExcept(SAT)) bump(facets.hasSat, String((flags & HAS_SAT) !== 0));
      if (passesExcept(CATEGORY))
        for (const category of categoriesOfMask(this.#categories[position]!)) bump(facets.categories, category);
      if (passesExcept(SOURCE)) bump(facets.sources, this.#sources.values[this.#source[position]!]!);
      if (passesExcept(FORMAT)) bump(facets.formats, this.#formats.values[this.#format[position]!]!);
      if (failed === 0) matched.push(position);
    }
    const page = matched.slice(offset, offset + limit);
    const conversations = await this.#readMany(page);
    return {
      total: matched.length,
      all: this.count,
      offset,
      items: conversations.map((conversation, index) =>
        this.#summary(page[index]!, conversation, pairCounts(conversation.id)),
      ),
      facets,
      mined: this.mined,
    };
  }

  #summary(position: number, conversation: Conversation, pairs: number): ConversationSummary {
    const firstUser = conversation.messages.find((message) => message.role === 'user');
    return {
      id: conversation.id,
      index: position,
      language: this.#languages.values[this.#language[position]!]!,
      format: this.#formats.values[this.#format[position]!]!,
      source: this.#sources.values[this.#source[position]!]!,
      messages: this.#messages[position]!,
      userTurns: this.#userTurns[position]!,
      hasDsat: (this.#flags[position]! & HAS_DSAT) !== 0,
      hasSat: (this.#flags[position]! & HAS_SAT) !== 0,
      categories: categoriesOfMask(this.#categories[position]!),
      pairs,
      preview: (firstUser?.content ?? conversation.messages[0]?.content ?? '').slice(0, PREVIEW),
    };
  }

  async #readMany(positions: readonly number[]): Promise<Conversation[]> {
    if (positions.length === 0) return [];
    const handle = await openIndexed(this.file, this.stamps.conversations);
    try {
      const result: Conversation[] = [];
      for (const position of positions) {
        result.push(
          JSON.parse(await readRange(handle, this.#offsets[position]!, this.#bytes[position]!)) as Conversation,
        );
      }
      return result;
    } finally {
      await handle.close();
    }
  }

  /** A conversation with its signals, or undefined when the id is unknown. */
  async get(id: string): Promise<Omit<ConversationDetail, 'pairs'> | undefined> {
    const position = this.byId.get(id);
    if (position === undefined) return undefined;
    const [conversation] = await this.#readMany([position]);
    const signals: Signal[] = [];
    const start = this.#signalOffsets[position]!;
    if (start >= 0) {
      const handle = await openIndexed(this.signalsFile, this.stamps.signals);
      try {
        const text = await readRange(handle, start, this.#signalBytes[position]!);
        for (const line of text.split('\n')) {
          if (line.trim() === '') continue;
          const parsed = SignalSchema.safeParse(JSON.parse(line));
          if (parsed.success && parsed.data.conversationId === id) signals.push(parsed.data);
        }
      } finally {
        await handle.close();
      }
    }
    signals.sort((a, b) => a.turn - b.turn);
    return { conversation: conversation!, signals };
  }
}
