/**
 * The Conversations view's state: the filter (search and facets), the filtered list loaded page
 * by page as it scrolls, and the open conversation with its signals.
 */
import type {
  ConversationDetail,
  ConversationFilter,
  ConversationListResult,
  ConversationSummary,
} from '../../../src-main/api/signals.js';
import { api, type AppError } from './api.js';

export const CONVERSATIONS_PAGE_SIZE = 100;
const SEARCH_DEBOUNCE_MS = 250;

export class ConversationsState {
  datasetId: string | null = $state(null);
  filter: ConversationFilter = $state({});
  query = $state('');
  total = $state(0);
  all = $state(0);
  mined = $state(false);
  facets: ConversationListResult['facets'] | null = $state.raw(null);
  pages: Record<number, ConversationSummary[]> = $state.raw({});
  loading = $state(false);
  error: AppError | null = $state.raw(null);
  openId: string | null = $state(null);
  detail: ConversationDetail | null = $state.raw(null);

  #generation = 0;
  /** Pages requested and not answered yet (bookkeeping, not rendered). */
  #pending: number[] = [];
  #searchTimer: ReturnType<typeof setTimeout> | null = null;

  itemAt(index: number): ConversationSummary | null {
    return this.pages[Math.floor(index / CONVERSATIONS_PAGE_SIZE)]?.[index % CONVERSATIONS_PAGE_SIZE] ?? null;
  }

  async open(datasetId: string): Promise<void> {
    if (this.datasetId !== datasetId) {
      this.datasetId = datasetId;
      this.filter = {};
      this.query = '';
      this.openId = null;
      this.detail = null;
    }
    await this.reload();
  }

  async reload(): Promise<void> {
    const datasetId = this.datasetId;
    if (!datasetId) return;
    const generation = ++this.#generation;
    this.#pending = [];
    this.loading = true;
    const result = await this.#list(datasetId, 0);
    if (generation !== this.#generation) return;
    this.loading = false;
    if (!result.ok) {
      this.error = result.error;
      return;
    }
    this.error = null;
    this.total = result.value.total;
    this.all = result.value.all;
    this.mined = result.value.mined;
    this.facets = result.value.facets;
    this.pages = { 0: result.value.items };
  }

  ensure(first: number, last: number): void {
    const datasetId = this.datasetId;
    if (!datasetId) return;
    const generation = this.#generation;
    const lastPage = Math.floor(last / CONVERSATIONS_PAGE_SIZE);
    for (let page = Math.floor(first / CONVERSATIONS_PAGE_SIZE); page <= lastPage; page++) {
      if (page * CONVERSATIONS_PAGE_SIZE >= this.total || this.pages[page] || this.#pending.includes(page)) continue;
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

  toggle(facet: 'languages' | 'categories' | 'sources' | 'formats', value: string): void {
    const current = (this.filter[facet] ?? []) as string[];
    const next = current.includes(value) ? current.filter((item) => item !== value) : [...current, value];
    const filter: ConversationFilter = { ...this.filter };
    if (next.length === 0) delete filter[facet];
    else (filter as Record<string, unknown>)[facet] = next;
    this.filter = filter;
    void this.reload();
  }

  /** `hasDsat`/`hasSat`: true, false, or null for either. */
  setFlag(flag: 'hasDsat' | 'hasSat', value: boolean | null): void {
    const filter: ConversationFilter = { ...this.filter };
    if (value === null) delete filter[flag];
    else filter[flag] = value;
    this.filter = filter;
    void this.reload();
  }

  async show(id: string): Promise<void> {
    const datasetId = this.datasetId;
    if (!datasetId) return;
    this.openId = id;
    const result = await api.invoke('conversation:get', { datasetId, id });
    if (this.openId !== id) return;
    if (result.ok) {
      this.detail = result.value;
      this.error = null;
    } else {
      this.error = result.error;
    }
  }

  #list(datasetId: string, page: number) {
    const filter: ConversationFilter = this.query.trim() ? { ...this.filter, query: this.query.trim() } : this.filter;
    return api.invoke('conversation:list', {
      datasetId,
      filter: { ...filter },
      offset: page * CONVERSATIONS_PAGE_SIZE,
      limit: CONVERSATIONS_PAGE_SIZE,
    });
  }
}

export const conversations = new ConversationsState();
