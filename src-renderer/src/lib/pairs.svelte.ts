/**
 * The DSAT pairs view's state: the filter, the filtered list loaded page by page as it scrolls,
 * facet counts and chart data, the selected pair, decisions (with undo) and pair sets.
 */
import type { PairSetEntry } from '../../../src-main/api/schemas.js';
import type {
  DecisionStatus,
  DsatPair,
  PairDecision,
  PairEdit,
  PairFacets,
  PairFilter,
  PairListResult,
  PairSummary,
} from '../../../src-main/api/signals.js';
import { api, type AppError } from './api.js';

export const PAIRS_PAGE_SIZE = 100;
const SEARCH_DEBOUNCE_MS = 250;

/** A decision change as `pair:decide` takes it (without the pairs it applies to). */
export interface PairChange {
  status?: DecisionStatus;
  edit?: PairEdit | null;
  tags?: string[];
  note?: string;
}

export class PairsState {
  datasetId: string | null = $state(null);
  /** The facet part of the filter; the search box is `query`. */
  filter: PairFilter = $state({});
  query = $state('');
  total = $state(0);
  all = $state(0);
  facets: PairFacets | null = $state.raw(null);
  stats: PairListResult['stats'] | null = $state.raw(null);
  undoable = $state(false);
  /** Loaded pages by page number. */
  pages: Record<number, PairSummary[]> = $state.raw({});
  loading = $state(false);
  error: AppError | null = $state.raw(null);
  selectedIndex = $state(0);
  detail: { pair: DsatPair; decision: PairDecision } | null = $state.raw(null);
  pairSets: PairSetEntry[] = $state.raw([]);
  /** Last message of a decision, undo or freeze, for the live region. */
  notice = $state('');

  readonly selected: PairSummary | null = $derived(this.itemAt(this.selectedIndex));
  /** The whole filter as the API takes it. */
  readonly fullFilter: PairFilter = $derived(
    this.query.trim() ? { ...this.filter, query: this.query.trim() } : { ...this.filter },
  );

  #generation = 0;
  /** Pages requested and not answered yet (bookkeeping, not rendered). */
  #pending: number[] = [];
  #searchTimer: ReturnType<typeof setTimeout> | null = null;

  itemAt(index: number): PairSummary | null {
    return this.pages[Math.floor(index / PAIRS_PAGE_SIZE)]?.[index % PAIRS_PAGE_SIZE] ?? null;
  }

  /** Shows a dataset: resets the filter and loads its first page. */
  async open(datasetId: string): Promise<void> {
    if (this.datasetId !== datasetId) {
      this.datasetId = datasetId;
      this.filter = {};
      this.query = '';
      this.selectedIndex = 0;
      this.detail = null;
    }
    await Promise.all([this.reload(), this.loadPairSets()]);
  }

  /** Reloads from the first page (after a filter change), keeping the selection when it still exists. */
  async reload(keepSelection = false): Promise<void> {
    const datasetId = this.datasetId;
    if (!datasetId) return;
    const generation = ++this.#generation;
    this.#pending = [];
    this.loading = true;
    const page = keepSelection ? Math.floor(this.selectedIndex / PAIRS_PAGE_SIZE) : 0;
    const result = await this.#list(datasetId, page);
    if (generation !== this.#generation) return;
    this.loading = false;
    if (!result.ok) {
      this.error = result.error;
      return;
    }
    this.error = null;
    this.#takeMeta(result.value);
    this.pages = { [page]: result.value.items };
    if (!keepSelection) this.selectedIndex = 0;
    this.selectedIndex = Math.min(this.selectedIndex, Math.max(0, this.total - 1));
    await this.loadDetail();
  }

  /** Loads the pages that rows first..last fall on, if not loaded yet. */
  ensure(first: number, last: number): void {
    const datasetId = this.datasetId;
    if (!datasetId) return;
    const generation = this.#generation;
    for (let page = Math.floor(first / PAIRS_PAGE_SIZE); page <= Math.floor(last / PAIRS_PAGE_SIZE); page++) {
      if (page * PAIRS_PAGE_SIZE >= this.total || this.pages[page] || this.#pending.includes(page)) continue;
      this.#pending.push(page);
      void this.#list(datasetId, page).then((result) => {
        this.#pending = this.#pending.filter((pending) => pending !== page);
        if (generation !== this.#generation || !result.ok) return;
        this.pages = { ...this.pages, [page]: result.value.items };
      });
    }
  }

  setQuery(query: string): void {
    this.query = query;
    if (this.#searchTimer) clearTimeout(this.#searchTimer);
    this.#searchTimer = setTimeout(() => void this.reload(), SEARCH_DEBOUNCE_MS);
  }

  /** Adds or removes one value of a list facet. */
  toggle<K extends 'categories' | 'detectors' | 'statuses' | 'languages' | 'kinds' | 'sources' | 'tags'>(
    facet: K,
    value: string,
  ): void {
    const current = (this.filter[facet] ?? []) as string[];
    const next = current.includes(value) ? current.filter((item) => item !== value) : [...current, value];
    const filter: PairFilter = { ...this.filter };
    if (next.length === 0) delete filter[facet];
    else (filter as Record<string, unknown>)[facet] = next;
    this.filter = filter;
    void this.reload();
  }

  /** Sets (or clears, with null) a numeric bound of the filter. */
  setBound(bound: 'confidenceMin' | 'confidenceMax' | 'lengthMin' | 'lengthMax', value: number | null): void {
    const filter: PairFilter = { ...this.filter };
    if (value === null || Number.isNaN(value)) delete filter[bound];
    else filter[bound] = value;
    this.filter = filter;
    void this.reload();
  }

  clearFilter(): void {
    this.filter = {};
    this.query = '';
    void this.reload();
  }

  select(index: number): void {
    if (this.total === 0) return;
    const next = Math.max(0, Math.min(this.total - 1, index));
    if (next === this.selectedIndex && this.detail) return;
    this.selectedIndex = next;
    this.ensure(next, next);
    void this.loadDetail();
  }

  async loadDetail(): Promise<void> {
    const datasetId = this.datasetId;
    const index = this.selectedIndex;
    let summary = this.itemAt(index);
    if (!summary && datasetId && index < this.total) {
      const page = Math.floor(index / PAIRS_PAGE_SIZE);
      const listed = await this.#list(datasetId, page);
      if (listed.ok) this.pages = { ...this.pages, [page]: listed.value.items };
      summary = this.itemAt(index);
    }
    if (!summary || !datasetId) {
      this.detail = null;
      return;
    }
    const result = await api.invoke('pair:get', { datasetId, id: summary.id });
    if (index !== this.selectedIndex || datasetId !== this.datasetId) return;
    if (result.ok) this.detail = result.value;
    else this.error = result.error;
  }

  /** Changes the selected pair's decision. */
  async decideSelected(change: PairChange): Promise<boolean> {
    const selected = this.selected;
    if (!selected || !this.datasetId) return false;
    return this.#decide({ pairIds: [selected.id] }, change);
  }

  /** Changes every pair matching the current filter; answers how many changed. */
  async decideFiltered(change: PairChange): Promise<boolean> {
    return this.#decide({ filter: this.fullFilter }, change);
  }

  async undo(): Promise<void> {
    if (!this.datasetId) return;
    const result = await api.invoke('pair:undo', { datasetId: this.datasetId });
    if (!result.ok) {
      this.error = result.error;
      return;
    }
    this.notice =
      result.value.batch === null ? 'Nothing to undo.' : `Undid the last change (${result.value.restored} pair(s)).`;
    await this.reload(true);
  }

  async loadPairSets(): Promise<void> {
    const result = await api.invoke('pairset:list', {});
    if (result.ok) this.pairSets = result.value.filter((set) => set.datasetId === this.datasetId);
  }

  /** Freezes the filtered pairs as the next version of `name`; answers the entry or null on error. */
  async freeze(name: string): Promise<PairSetEntry | null> {
    if (!this.datasetId) return null;
    const result = await api.invoke('pairset:freeze', { datasetId: this.datasetId, name, filter: this.fullFilter });
    if (!result.ok) {
      this.error = result.error;
      return null;
    }
    this.notice = `Froze ${result.value.pairs} pair(s) as ${result.value.id}.`;
    await this.loadPairSets();
    return result.value;
  }

  async #decide(target: { pairIds: string[] } | { filter: PairFilter }, change: PairChange): Promise<boolean> {
    const datasetId = this.datasetId;
    if (!datasetId) return false;
    const result = await api.invoke('pair:decide', { datasetId, ...target, ...change });
    if (!result.ok) {
      this.error = result.error;
      return false;
    }
    this.error = null;
    const { decisions, updated } = result.value;
    this.notice = change.status ? `${updated} pair(s) marked ${change.status}.` : `${updated} pair(s) updated.`;
    if ('filter' in target || Object.keys(decisions).length < updated) {
      await this.reload(true);
      return true;
    }
    // Rows stay where they are (even if they no longer match a status filter) until the filter changes.
    const pages: Record<number, PairSummary[]> = {};
    for (const [page, items] of Object.entries(this.pages)) {
      pages[Number(page)] = items.map((item) => {
        const decision = decisions[item.id];
        return decision ? { ...item, decision } : item;
      });
    }
    this.pages = pages;
    const detail = this.detail;
    if (detail && decisions[detail.pair.id]) this.detail = { ...detail, decision: decisions[detail.pair.id]! };
    await this.#refreshMeta(datasetId);
    return true;
  }

  async #refreshMeta(datasetId: string): Promise<void> {
    const result = await api.invoke('pair:list', {
      datasetId,
      filter: this.fullFilter,
      sort: { by: 'order', direction: 'asc' },
      offset: 0,
      limit: 1,
    });
    if (result.ok && datasetId === this.datasetId) {
      this.facets = result.value.facets;
      this.stats = result.value.stats;
      this.undoable = result.value.undoable;
      this.all = result.value.all;
    }
  }

  #takeMeta(value: PairListResult): void {
    this.total = value.total;
    this.all = value.all;
    this.facets = value.facets;
    this.stats = value.stats;
    this.undoable = value.undoable;
  }

  #list(datasetId: string, page: number) {
    return api.invoke('pair:list', {
      datasetId,
      filter: this.fullFilter,
      sort: { by: 'order', direction: 'asc' },
      offset: page * PAIRS_PAGE_SIZE,
      limit: PAIRS_PAGE_SIZE,
    });
  }
}

export const pairs = new PairsState();
