/**
 * Curation in the host process (the engine's main thread, which owns the catalog): one lazily
 * built index per open dataset (conversations, pairs, decisions), rebuilt when mining rewrites
 * the files, and the operations the Conversations and DSAT pairs views call. At most a few
 * datasets stay indexed at once; the least recently used is dropped.
 */
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import {
  AppFailure,
  MiningReport,
  SatRecord,
  type ConversationDetail,
  type ConversationFilter,
  type ConversationListResult,
  type DsatPair,
  type ExportFormat,
  type ExportResult,
  type PairDecision,
  type PairEdit,
  type PairFilter,
  type PairListResult,
  type PairSetEntry,
  type PairSetManifest,
  type PairSort,
} from '../../api/index.js';
import type { EngineEvents } from '../events.js';
import { exportPairs } from '../signals/export.js';
import { datasetFile, DATASET_FILES } from '../signals/files.js';
import { readJsonlLines } from '../signals/jsonl.js';
import { errorCode } from '../workspace/atomic.js';
import { datasetDir, resolveInside, type Workspace } from '../workspace/index.js';
import { ConversationIndex } from './conversation-index.js';
import { DecisionStore } from './decisions.js';
import { PairIndex, sameStamp, StaleIndexError, stampOf } from './pair-index.js';
import { freezePairSet, readPairSet, readPairSetManifest, resolvePairSet } from './pairsets.js';

/** Datasets whose indexes stay in memory. */
const OPEN_DATASETS = 3;
/** Decision batches that list every changed decision in the answer. */
const DETAILED_BATCH = 1000;
const LISTED_IDS = 1000;

interface DatasetState {
  decisions?: Promise<DecisionStore>;
  pairs?: Promise<PairIndex>;
  conversations?: Promise<ConversationIndex>;
  /** Serialises decisions of this dataset. */
  queue: Promise<unknown>;
}

export interface DecideRequest {
  datasetId: string;
  pairIds?: string[] | undefined;
  filter?: PairFilter | undefined;
  status?: PairDecision['status'] | undefined;
  edit?: PairEdit | null | undefined;
  tags?: string[] | undefined;
  addTags?: string[] | undefined;
  removeTags?: string[] | undefined;
  note?: string | undefined;
}

export interface ExportRequest {
  datasetId?: string | undefined;
  pairSet?: string | undefined;
  format: ExportFormat;
  outDir?: string | undefined;
  filter?: PairFilter | undefined;
  includeSat: boolean;
  seedTestSize: number;
  overwrite: boolean;
}

/** The new decision of one pair after a request. */
export function applyDecision(before: PairDecision, request: DecideRequest, at: string): PairDecision {
  let tags = request.tags ? [...request.tags] : [...before.tags];
  if (request.addTags) for (const tag of request.addTags) if (!tags.includes(tag)) tags.push(tag);
  if (request.removeTags) tags = tags.filter((tag) => !request.removeTags!.includes(tag));
  const next: PairDecision = {
    status: request.status ?? before.status,
    tags,
    note: request.note ?? before.note,
    at,
  };
  const edit = request.edit === null ? undefined : request.edit ? { ...before.edit, ...request.edit } : before.edit;
  if (edit && Object.values(edit).some((value) => value !== undefined)) next.edit = edit;
  return next;
}

export class CurationService {
  readonly #workspace: Workspace;
  readonly #events: EngineEvents;
  readonly #datasets = new Map<string, Promise<DatasetState>>();
  readonly #usedAt = new Map<string, number>();

  constructor(workspace: Workspace, events: EngineEvents) {
    this.#workspace = workspace;
    this.#events = events;
  }

  /** The dataset's state, created once even when several requests arrive together. */
  #state(datasetId: string): Promise<DatasetState> {
    this.#usedAt.set(datasetId, Date.now());
    let state = this.#datasets.get(datasetId);
    if (!state) {
      state = this.#open(datasetId);
      this.#datasets.set(datasetId, state);
      state.catch(() => {
        if (this.#datasets.get(datasetId) === state) this.#datasets.delete(datasetId);
      });
      this.#evict(datasetId);
    }
    return state;
  }

  async #open(datasetId: string): Promise<DatasetState> {
    try {
      await stat(datasetDir(this.#workspace.dir, datasetId));
    } catch (error) {
      if (errorCode(error) === 'ENOENT')
        throw new AppFailure('not_found', `No dataset ${datasetId} in this workspace.`);
      throw error;
    }
    return { queue: Promise.resolve() };
  }

  #evict(keep: string): void {
    if (this.#datasets.size <= OPEN_DATASETS) return;
    const oldest = [...this.#datasets.keys()]
      .filter((id) => id !== keep)
      .sort((a, b) => (this.#usedAt.get(a) ?? 0) - (this.#usedAt.get(b) ?? 0))[0];
    if (oldest !== undefined) {
      this.#datasets.delete(oldest);
      this.#usedAt.delete(oldest);
    }
  }

  /** Memoises a build; a failed build is forgotten so the next call tries again. */
  static #remember<T>(
    state: DatasetState,
    key: 'decisions' | 'pairs' | 'conversations',
    build: () => Promise<T>,
  ): Promise<T> {
    const promise = build();
    (state as unknown as Record<string, Promise<T> | undefined>)[key] = promise;
    promise.catch(() => {
      if ((state as unknown as Record<string, Promise<T> | undefined>)[key] === promise) delete state[key];
    });
    return promise;
  }

  async decisions(datasetId: string): Promise<DecisionStore> {
    const state = await this.#state(datasetId);
    return (
      state.decisions ??
      CurationService.#remember(state, 'decisions', () =>
        DecisionStore.open(datasetFile(this.#workspace.dir, datasetId, 'decisions')),
      )
    );
  }

  /** The dataset's pair index, rebuilt if pairs.jsonl changed since it was built. */
  async pairs(datasetId: string): Promise<PairIndex> {
    const state = await this.#state(datasetId);
    const file = datasetFile(this.#workspace.dir, datasetId, 'pairs');
    if (state.pairs) {
      const index = await state.pairs;
      if (sameStamp(index.stamp, await stampOf(file))) return index;
    }
    const decisions = await this.decisions(datasetId);
    return CurationService.#remember(state, 'pairs', () => PairIndex.build(file, decisions));
  }

  async conversations(datasetId: string): Promise<ConversationIndex> {
    const state = await this.#state(datasetId);
    if (state.conversations) {
      const index = await state.conversations;
      if (!(await index.stale())) return index;
    }
    return CurationService.#remember(state, 'conversations', () =>
      ConversationIndex.build(
        datasetFile(this.#workspace.dir, datasetId, 'conversations'),
        datasetFile(this.#workspace.dir, datasetId, 'signals'),
      ),
    );
  }

  /** Runs a read once more when mining replaced a file under it (the second run rebuilds the index). */
  static async #fresh<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (!(error instanceof StaleIndexError)) throw error;
      return work();
    }
  }

  async listConversations(
    datasetId: string,
    filter: ConversationFilter,
    offset: number,
    limit: number,
  ): Promise<ConversationListResult> {
    return CurationService.#fresh(async () => {
      const [conversations, pairs] = await Promise.all([this.conversations(datasetId), this.pairs(datasetId)]);
      return conversations.list(filter, offset, limit, (id) => pairs.byConversation.get(id)?.length ?? 0);
    });
  }

  async getConversation(datasetId: string, id: string): Promise<ConversationDetail> {
    return CurationService.#fresh(async () => {
      const [conversations, pairs] = await Promise.all([this.conversations(datasetId), this.pairs(datasetId)]);
      const detail = await conversations.get(id);
      if (!detail) throw new AppFailure('not_found', `No conversation ${id} in dataset ${datasetId}.`);
      const positions = pairs.byConversation.get(id) ?? [];
      const read = await pairs.readMany(positions);
      return { ...detail, pairs: read.map((pair, index) => pairs.summary(positions[index]!, pair)) };
    });
  }

  async listPairs(
    datasetId: string,
    filter: PairFilter,
    sort: PairSort,
    offset: number,
    limit: number,
  ): Promise<PairListResult> {
    return CurationService.#fresh(async () => (await this.pairs(datasetId)).list(filter, sort, offset, limit));
  }

  async getPair(datasetId: string, id: string): Promise<{ pair: DsatPair; decision: PairDecision }> {
    return CurationService.#fresh(async () => {
      const index = await this.pairs(datasetId);
      const position = index.byId.get(id);
      if (position === undefined) throw new AppFailure('not_found', `No pair ${id} in dataset ${datasetId}.`);
      const [pair] = await index.readMany([position]);
      return { pair: pair!, decision: index.decisions.get(id) };
    });
  }

  /** Runs `work` after every earlier decision of the dataset finished. */
  async #serial<T>(datasetId: string, work: () => Promise<T>): Promise<T> {
    const state = await this.#state(datasetId);
    const run = state.queue.then(work, work);
    state.queue = run.catch(() => undefined);
    return run;
  }

  async decide(
    request: DecideRequest,
  ): Promise<{ batch: string | null; updated: number; decisions: Record<string, PairDecision> }> {
    return this.#serial(request.datasetId, async () => {
      const index = await this.pairs(request.datasetId);
      let ids: string[];
      if (request.pairIds) {
        const unknown = request.pairIds.filter((id) => !index.byId.has(id));
        if (unknown.length > 0) {
          throw new AppFailure(
            'not_found',
            `Dataset ${request.datasetId} has no pair ${unknown.slice(0, 3).join(', ')}${unknown.length > 3 ? ', ...' : ''}.`,
          );
        }
        ids = [...new Set(request.pairIds)];
      } else {
        ids = Array.from(index.select(request.filter ?? {}), (position) => index.ids[position]!);
      }
      const store = index.decisions;
      const at = new Date().toISOString();
      const { batch, changed } = await store.decide(
        ids.map((id) => ({ id, after: applyDecision(store.get(id), request, at) })),
      );
      index.decisionsChanged(changed);
      return {
        batch,
        updated: changed.length,
        decisions: changed.length <= DETAILED_BATCH ? Object.fromEntries(changed.map((id) => [id, store.get(id)])) : {},
      };
    });
  }

  async undo(datasetId: string): Promise<{ batch: string | null; restored: number; pairIds: string[] }> {
    return this.#serial(datasetId, async () => {
      const index = await this.pairs(datasetId);
      const { batch, restored } = await index.decisions.undo();
      index.decisionsChanged(restored);
      return { batch, restored: restored.length, pairIds: restored.slice(0, LISTED_IDS) };
    });
  }

  async freeze(datasetId: string, name: string, filter: PairFilter): Promise<PairSetEntry> {
    const entry = await this.#serial(datasetId, async () =>
      freezePairSet(this.#workspace, datasetId, name, filter, await this.pairs(datasetId)),
    );
    this.#events.emit('catalog:changed', { section: 'pairSets' });
    return entry;
  }

  listPairSets(): PairSetEntry[] {
    return [...this.#workspace.catalog.data.pairSets].sort(
      (a, b) => a.name.localeCompare(b.name) || a.version - b.version,
    );
  }

  async getPairSet(reference: string): Promise<{ entry: PairSetEntry; manifest: PairSetManifest }> {
    const entry = resolvePairSet(this.#workspace, reference);
    return { entry, manifest: await readPairSetManifest(this.#workspace.dir, entry) };
  }

  async report(datasetId: string): Promise<MiningReport | null> {
    await this.#state(datasetId);
    try {
      const text = await readFile(datasetFile(this.#workspace.dir, datasetId, 'miningReport'), 'utf8');
      return MiningReport.parse(JSON.parse(text));
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return null;
      throw error;
    }
  }

  async export(request: ExportRequest): Promise<ExportResult> {
    const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '');
    if (request.pairSet !== undefined) {
      const entry = resolvePairSet(this.#workspace, request.pairSet);
      const outDir =
        request.outDir ??
        resolveInside(this.#workspace.dir, 'exports', `${entry.name}-v${entry.version}-${request.format}-${stamp}`);
      return exportPairs(readPairSet(this.#workspace.dir, entry), null, { ...request, outDir });
    }
    const datasetId = request.datasetId!;
    const index = await this.pairs(datasetId);
    if (index.stamp === null) {
      throw new AppFailure('signals_not_mined', `Dataset ${datasetId} has no ${DATASET_FILES.pairs}.`);
    }
    const outDir =
      request.outDir ?? resolveInside(this.#workspace.dir, 'exports', `${datasetId}-${request.format}-${stamp}`);
    const selected = index.select(request.filter ?? {});
    const satFile = datasetFile(this.#workspace.dir, datasetId, 'sat');
    const satRecords = request.includeSat && (await stampOf(satFile)) !== null ? readSatRecords(satFile) : null;
    return exportPairs(index.curated(selected), satRecords, { ...request, outDir: path.resolve(outDir) });
  }
}

async function* readSatRecords(file: string): AsyncGenerator<SatRecord> {
  for await (const line of readJsonlLines(file)) yield SatRecord.parse(JSON.parse(line.text));
}
