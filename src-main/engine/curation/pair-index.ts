/**
 * The in-memory index of one dataset's pairs.jsonl that the DSAT pairs view pages through:
 * a column per facet (typed arrays), each pair's byte range in the file, a full-text index, and the
 * decisions. Listing filters, counts facets, sorts and reads only the page's pairs from disk, so a
 * page of 100k pairs costs a pass over the columns and 100 positioned reads.
 */
import { open, stat, type FileHandle } from 'node:fs/promises';
import {
  AppFailure,
  DecisionStatus,
  DETECTORS,
  PairKind,
  PairSource,
  type CuratedPair,
  type DsatPair,
  type PairDecision,
  type PairFacets,
  type PairFilter,
  type PairListResult,
  type PairSort,
  type PairSummary,
} from '../../api/index.js';
import { categoriesOfMask, maskOfCategories } from '../signals/categories.js';
import { readJsonlLines, readRange } from '../signals/jsonl.js';
import type { DecisionStore } from './decisions.js';
import { TermIndex } from './search.js';

const KINDS = PairKind.options;
const SOURCES = PairSource.options;
const STATUSES = DecisionStatus.options;
/** Lower bounds of the rejected-length bins, in characters. */
export const LENGTH_BOUNDS = [0, 250, 500, 1000, 2000, 4000, 8000];
const PREVIEW = 200;
const SEARCH_TERMS_PER_PAIR = 600;

/** What a file looked like when it was indexed; a change means the index is stale. */
export interface FileStamp {
  size: number;
  mtimeMs: number;
}

export async function stampOf(file: string): Promise<FileStamp | null> {
  try {
    const info = await stat(file);
    return { size: info.size, mtimeMs: info.mtimeMs };
  } catch {
    return null;
  }
}

export function sameStamp(a: FileStamp | null, b: FileStamp | null): boolean {
  return a === b || (a !== null && b !== null && a.size === b.size && a.mtimeMs === b.mtimeMs);
}

/** A file was replaced after it was indexed (mining ran again); rebuild the index and retry. */
export class StaleIndexError extends AppFailure {
  constructor(file: string) {
    super('internal_error', `${file} was replaced while it was being read (mining ran again); try again.`);
    this.name = 'StaleIndexError';
  }
}

/** Opens an indexed file for positioned reads, refusing one that changed since it was indexed. */
export async function openIndexed(file: string, stamp: FileStamp | null): Promise<FileHandle> {
  const handle = await open(file, 'r');
  const info = await handle.stat();
  if (!sameStamp(stamp, { size: info.size, mtimeMs: info.mtimeMs })) {
    await handle.close();
    throw new StaleIndexError(file);
  }
  return handle;
}

/** The text a pair's search terms come from: the feedback, the rejected answer and the last request. */
function searchableText(pair: DsatPair): string {
  const lastRequest = [...pair.context].reverse().find((message) => message.role === 'user')?.content ?? '';
  return `${pair.feedback.content}\n${pair.rejected.content.slice(0, 4000)}\n${lastRequest.slice(0, 4000)}`;
}

/** A pair with a curator's edits and decision applied. */
export function curatedPair(pair: DsatPair, decision: PairDecision): CuratedPair {
  const edit = decision.edit ?? {};
  const curated: CuratedPair = {
    ...pair,
    rejected: edit.rejected === undefined ? pair.rejected : { ...pair.rejected, content: edit.rejected },
    feedback: edit.feedback === undefined ? pair.feedback : { ...pair.feedback, content: edit.feedback },
    status: decision.status,
    tags: [...decision.tags],
    note: decision.note,
    edited: Object.values(edit).some((value) => value !== undefined),
  };
  if (edit.chosen !== undefined) {
    curated.chosen = { role: 'assistant', content: edit.chosen, turn: pair.chosen?.turn ?? pair.rejected.turn };
    if (curated.kind === 'dsat') curated.kind = 'seed';
  }
  curated.lengths = {
    ...pair.lengths,
    rejected: curated.rejected.content.length,
    feedback: curated.feedback.content.length,
  };
  if (curated.chosen) curated.lengths.chosen = curated.chosen.content.length;
  return curated;
}

function lengthBin(length: number): number {
  let bin = 0;
  for (let index = 0; index < LENGTH_BOUNDS.length; index++) if (length >= LENGTH_BOUNDS[index]!) bin = index;
  return bin;
}

const FILTER = {
  query: 1 << 0,
  categories: 1 << 1,
  detectors: 1 << 2,
  statuses: 1 << 3,
  languages: 1 << 4,
  kinds: 1 << 5,
  sources: 1 << 6,
  tags: 1 << 7,
  confidence: 1 << 8,
  length: 1 << 9,
  conversation: 1 << 10,
  edited: 1 << 11,
} as const;

interface Selection {
  matched: Uint32Array;
  facets: PairFacets;
  stats: PairListResult['stats'];
}

/** The index of one dataset's pairs. */
export class PairIndex {
  readonly file: string;
  readonly stamp: FileStamp | null;
  readonly decisions: DecisionStore;
  readonly ids: string[] = [];
  readonly byId = new Map<string, number>();
  readonly byConversation = new Map<string, number[]>();
  readonly languages: string[] = [];
  #offsets = new Float64Array(1024);
  #bytes = new Uint32Array(1024);
  #kind = new Uint8Array(1024);
  #source = new Uint8Array(1024);
  #detector = new Uint8Array(1024);
  #categories = new Uint32Array(1024);
  #confidence = new Float32Array(1024);
  #language = new Uint16Array(1024);
  #rejectedLength = new Uint32Array(1024);
  #status = new Uint8Array(1024);
  readonly #search = new TermIndex();
  #cache: { key: string; version: number; selection: Selection } | undefined;
  #version = 0;

  private constructor(file: string, stamp: FileStamp | null, decisions: DecisionStore) {
    this.file = file;
    this.stamp = stamp;
    this.decisions = decisions;
  }

  get count(): number {
    return this.ids.length;
  }

  /** Streams pairs.jsonl (absent: an empty index) and indexes every pair. */
  static async build(file: string, decisions: DecisionStore, signal?: AbortSignal): Promise<PairIndex> {
    const stamp = await stampOf(file);
    const index = new PairIndex(file, stamp, decisions);
    if (stamp === null) return index;
    const languageIds = new Map<string, number>();
    for await (const line of readJsonlLines(file, signal)) {
      let pair: DsatPair;
      try {
        pair = JSON.parse(line.text) as DsatPair;
      } catch {
        continue;
      }
      if (typeof pair?.id !== 'string' || index.byId.has(pair.id)) continue;
      const position = index.ids.length;
      index.#grow(position + 1);
      index.ids.push(pair.id);
      index.byId.set(pair.id, position);
      const conversation = index.byConversation.get(pair.conversationId) ?? [];
      conversation.push(position);
      index.byConversation.set(pair.conversationId, conversation);
      let language = languageIds.get(pair.language);
      if (language === undefined) {
        language = index.languages.length;
        index.languages.push(pair.language);
        languageIds.set(pair.language, language);
      }
      index.#offsets[position] = line.offset;
      index.#bytes[position] = line.length;
      index.#kind[position] = Math.max(0, KINDS.indexOf(pair.kind));
      index.#source[position] = Math.max(0, SOURCES.indexOf(pair.source));
      index.#detector[position] = Math.max(0, DETECTORS.indexOf(pair.detector));
      index.#categories[position] = maskOfCategories(pair.categories);
      index.#confidence[position] = pair.confidence;
      index.#language[position] = language;
      index.#rejectedLength[position] = pair.rejected.content.length;
      index.#status[position] = STATUSES.indexOf(decisions.get(pair.id).status);
      index.#search.addText(position, searchableText(pair), SEARCH_TERMS_PER_PAIR);
    }
    index.#search.seal();
    return index;
  }

  #grow(size: number): void {
    if (size <= this.#offsets.length) return;
    const capacity = Math.max(size, this.#offsets.length * 2);
    const grow = <T extends Float64Array | Uint32Array | Uint8Array | Uint16Array | Float32Array>(array: T): T => {
      const bigger = new (array.constructor as new (length: number) => T)(capacity);
      bigger.set(array);
      return bigger;
    };
    this.#offsets = grow(this.#offsets);
    this.#bytes = grow(this.#bytes);
    this.#kind = grow(this.#kind);
    this.#source = grow(this.#source);
    this.#detector = grow(this.#detector);
    this.#categories = grow(this.#categories);
    this.#confidence = grow(this.#confidence);
    this.#language = grow(this.#language);
    this.#rejectedLength = grow(this.#rejectedLength);
    this.#status = grow(this.#status);
  }

  /** Call after decisions changed for these pairs. */
  decisionsChanged(ids: Iterable<string>): void {
    for (const id of ids) {
      const position = this.byId.get(id);
      if (position !== undefined) this.#status[position] = STATUSES.indexOf(this.decisions.get(id).status);
    }
    this.#version++;
    this.#cache = undefined;
  }

  /** Which filter groups one pair fails (a bit per group of FILTER). */
  #failures(position: number, filter: PairFilter, found: Uint8Array | null, wanted: WantedSets): number {
    let failed = 0;
    if (found && found[position] === 0) failed |= FILTER.query;
    if (wanted.categories !== 0 && (this.#categories[position]! & wanted.categories) === 0) failed |= FILTER.categories;
    if (wanted.detectors && !wanted.detectors.has(this.#detector[position]!)) failed |= FILTER.detectors;
    if (wanted.statuses && !wanted.statuses.has(this.#status[position]!)) failed |= FILTER.statuses;
    if (wanted.languages && !wanted.languages.has(this.#language[position]!)) failed |= FILTER.languages;
    if (wanted.kinds && !wanted.kinds.has(this.#kind[position]!)) failed |= FILTER.kinds;
    if (wanted.sources && !wanted.sources.has(this.#source[position]!)) failed |= FILTER.sources;
    const confidence = this.#confidence[position]!;
    if (
      (filter.confidenceMin !== undefined && confidence < filter.confidenceMin - 1e-6) ||
      (filter.confidenceMax !== undefined && confidence > filter.confidenceMax + 1e-6)
    ) {
      failed |= FILTER.confidence;
    }
    const length = this.#rejectedLength[position]!;
    if (
      (filter.lengthMin !== undefined && length < filter.lengthMin) ||
      (filter.lengthMax !== undefined && length > filter.lengthMax)
    ) {
      failed |= FILTER.length;
    }
    if (wanted.conversation !== undefined && !wanted.conversation.has(position)) failed |= FILTER.conversation;
    if (wanted.tags || filter.edited !== undefined) {
      const decision = this.decisions.get(this.ids[position]!);
      if (wanted.tags && !decision.tags.some((tag) => wanted.tags!.has(tag))) failed |= FILTER.tags;
      if (filter.edited !== undefined && (decision.edit !== undefined) !== filter.edited) failed |= FILTER.edited;
    }
    return failed;
  }

  #wanted(filter: PairFilter): WantedSets {
    const indexSet = <T>(values: readonly T[] | undefined, table: readonly T[]) =>
      values === undefined || values.length === 0 ? undefined : new Set(values.map((value) => table.indexOf(value)));
    return {
      categories: filter.categories?.length ? maskOfCategories(filter.categories) : 0,
      detectors: indexSet(filter.detectors, DETECTORS),
      statuses: indexSet(filter.statuses, STATUSES),
      languages: indexSet(filter.languages, this.languages),
      kinds: indexSet(filter.kinds, KINDS),
      sources: indexSet(filter.sources, SOURCES),
      tags: filter.tags?.length ? new Set(filter.tags) : undefined,
      conversation:
        filter.conversationId === undefined ? undefined : new Set(this.byConversation.get(filter.conversationId) ?? []),
    };
  }

  #select(filter: PairFilter, sort: PairSort): Selection {
    const key = JSON.stringify([filter, sort]);
    if (this.#cache && this.#cache.key === key && this.#cache.version === this.#version) return this.#cache.selection;
    const count = this.count;
    let found: Uint8Array | null = null;
    if (filter.query !== undefined && filter.query.trim() !== '') {
      const documents = this.#search.search(filter.query);
      if (documents) {
        found = new Uint8Array(count);
        for (const document of documents) found[document] = 1;
      }
    }
    const wanted = this.#wanted(filter);
    const facets: PairFacets = {
      categories: {},
      detectors: {},
      statuses: {},
      languages: {},
      kinds: {},
      sources: {},
      tags: {},
      confidence: new Array<number>(10).fill(0),
      length: new Array<number>(LENGTH_BOUNDS.length).fill(0),
      lengthBounds: [...LENGTH_BOUNDS],
    };
    const stats: Selection['stats'] = { byCategory: {}, confidence: new Array<number>(10).fill(0), byStatus: {} };
    const bump = (table: Record<string, number>, key: string) => (table[key] = (table[key] ?? 0) + 1);
    const matched: number[] = [];
    for (let position = 0; position < count; position++) {
      const failed = this.#failures(position, filter, found, wanted);
      const passesExcept = (group: number) => (failed & ~group) === 0;
      const bin = Math.min(9, Math.floor(this.#confidence[position]! * 10));
      if (passesExcept(FILTER.categories))
        for (const category of categoriesOfMask(this.#categories[position]!)) bump(facets.categories, category);
      if (passesExcept(FILTER.detectors)) bump(facets.detectors, DETECTORS[this.#detector[position]!]!);
      if (passesExcept(FILTER.statuses)) bump(facets.statuses, STATUSES[this.#status[position]!]!);
      if (passesExcept(FILTER.languages)) bump(facets.languages, this.languages[this.#language[position]!]!);
      if (passesExcept(FILTER.kinds)) bump(facets.kinds, KINDS[this.#kind[position]!]!);
      if (passesExcept(FILTER.sources)) bump(facets.sources, SOURCES[this.#source[position]!]!);
      if (passesExcept(FILTER.confidence)) facets.confidence[bin]!++;
      if (passesExcept(FILTER.length)) facets.length[lengthBin(this.#rejectedLength[position]!)]!++;
      if (passesExcept(FILTER.tags))
        for (const tag of this.decisions.get(this.ids[position]!).tags) bump(facets.tags, tag);
      if (failed !== 0) continue;
      matched.push(position);
      for (const category of categoriesOfMask(this.#categories[position]!)) bump(stats.byCategory, category);
      stats.confidence[bin]!++;
      bump(stats.byStatus, STATUSES[this.#status[position]!]!);
    }
    const sorted = Uint32Array.from(matched);
    if (sort.by !== 'order' || sort.direction === 'desc') {
      const direction = sort.direction === 'desc' ? -1 : 1;
      const value = (position: number): number | string => {
        if (sort.by === 'confidence') return this.#confidence[position]!;
        if (sort.by === 'length') return this.#rejectedLength[position]!;
        if (sort.by === 'updated') return this.decisions.get(this.ids[position]!).at ?? '';
        return position;
      };
      sorted.sort((a, b) => {
        const left = value(a);
        const right = value(b);
        return (left < right ? -1 : left > right ? 1 : a - b) * direction;
      });
    }
    const selection = { matched: sorted, facets, stats };
    this.#cache = { key, version: this.#version, selection };
    return selection;
  }

  /** Indices of the pairs matching `filter`, in file order. */
  select(filter: PairFilter): Uint32Array {
    return this.#select(filter, { by: 'order', direction: 'asc' }).matched;
  }

  /** One page of the filtered, sorted pairs with facets and chart data. */
  async list(filter: PairFilter, sort: PairSort, offset: number, limit: number): Promise<PairListResult> {
    const selection = this.#select(filter, sort);
    const page = Array.from(selection.matched.subarray(offset, offset + limit));
    const pairs = await this.readMany(page);
    return {
      total: selection.matched.length,
      all: this.count,
      offset,
      items: pairs.map((pair, index) => this.summary(page[index]!, pair)),
      facets: selection.facets,
      stats: selection.stats,
      undoable: this.decisions.undoable,
    };
  }

  /** The list row of one pair. */
  summary(position: number, pair: DsatPair): PairSummary {
    const decision = this.decisions.get(pair.id);
    const edit = decision.edit ?? {};
    return {
      id: pair.id,
      index: position,
      conversationId: pair.conversationId,
      kind: edit.chosen !== undefined ? 'seed' : pair.kind,
      source: pair.source,
      categories: pair.categories,
      confidence: pair.confidence,
      detector: pair.detector,
      language: pair.language,
      lengths: pair.lengths,
      feedbackPreview: (edit.feedback ?? pair.feedback.content).slice(0, PREVIEW),
      rejectedPreview: (edit.rejected ?? pair.rejected.content).slice(0, PREVIEW),
      decision,
    };
  }

  /** Reads pairs by index from pairs.jsonl, in the order given. */
  async readMany(positions: readonly number[]): Promise<DsatPair[]> {
    if (positions.length === 0) return [];
    const handle = await openIndexed(this.file, this.stamp);
    try {
      const pairs: DsatPair[] = [];
      for (const position of positions) {
        pairs.push(JSON.parse(await readRange(handle, this.#offsets[position]!, this.#bytes[position]!)) as DsatPair);
      }
      return pairs;
    } finally {
      await handle.close();
    }
  }

  /** Curated pairs (edits applied) by index, streamed in batches. */
  async *curated(positions: Iterable<number>, batch = 256): AsyncGenerator<CuratedPair> {
    let chunk: number[] = [];
    const flush = async function* (index: PairIndex, list: number[]): AsyncGenerator<CuratedPair> {
      for (const pair of await index.readMany(list)) yield curatedPair(pair, index.decisions.get(pair.id));
    };
    for (const position of positions) {
      chunk.push(position);
      if (chunk.length >= batch) {
        yield* flush(this, chunk);
        chunk = [];
      }
    }
    yield* flush(this, chunk);
  }
}

interface WantedSets {
  categories: number;
  detectors: Set<number> | undefined;
  statuses: Set<number> | undefined;
  languages: Set<number> | undefined;
  kinds: Set<number> | undefined;
  sources: Set<number> | undefined;
  tags: Set<string> | undefined;
  conversation: Set<number> | undefined;
}
