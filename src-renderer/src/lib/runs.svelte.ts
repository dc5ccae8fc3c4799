/**
 * The Runs view's state: the selected run's detail (run:get), its metrics read incrementally
 * with run:metrics' `after`/`next` cursor, a page of its generated pairs and of its samples, and
 * pause / resume / cancel. A refresh follows job:updated and job:output of the run's job and
 * catalog:changed; refreshes are coalesced so a fast job costs a few requests a second at most.
 */
import type { RunDetail, RunMetricRow, RunPairRow, RunSampleRow } from '../../../src-main/api/runs.js';
import type { Job, PairSetEntry, RunEntry } from '../../../src-main/api/schemas.js';
import { api, type AppError } from './api.js';
import { catalog } from './catalog.svelte.js';
import { jobs } from './jobs.svelte.js';
import { Resource } from './resource.svelte.js';
import { runIterations } from './runs-metrics.js';

const METRICS_PAGE = 2000;
export const ROWS_PAGE = 20;
const REFRESH_DELAY_MS = 250;

export type RunAction = 'pause' | 'resume' | 'cancel';

/** One page of a run's pairs or samples. `iteration` null: every iteration. */
export interface RowsPage<T> {
  iteration: number | null;
  offset: number;
  rows: T[];
  total: number;
  loading: boolean;
  error: AppError | null;
}

function emptyPage<T>(iteration: number | null): RowsPage<T> {
  return { iteration, offset: 0, rows: [], total: 0, loading: false, error: null };
}

/** Whether the run moved to another phase or finished one, so its pairs and samples may have grown. */
function moved(before: RunDetail | null, after: RunDetail): boolean {
  return (
    before === null ||
    before.position.iteration !== after.position.iteration ||
    before.position.phase !== after.position.phase ||
    before.iterations.length !== after.iterations.length ||
    before.status !== after.status
  );
}

/** The run a job:output payload's data (RunJobOutput) or a run.train job's result names, if any. */
function runIdIn(value: unknown): string | null {
  if (typeof value !== 'object' || value === null || !('runId' in value)) return null;
  return typeof value.runId === 'string' ? value.runId : null;
}

export class RunsState {
  readonly pairSets = new Resource<PairSetEntry[]>(() => api.invoke('pairset:list', {}));
  /** The New run form is open. */
  creating = $state(false);
  selectedId: string | null = $state(null);
  detail: RunDetail | null = $state.raw(null);
  error: AppError | null = $state.raw(null);
  /** The control request in flight. */
  action: RunAction | null = $state(null);
  actionError: AppError | null = $state.raw(null);
  /** Every metrics.jsonl row read so far, in file order. */
  metrics: RunMetricRow[] = $state.raw([]);
  pairs: RowsPage<RunPairRow> = $state.raw(emptyPage(0));
  samples: RowsPage<RunSampleRow> = $state.raw(emptyPage(null));
  /** The job of a run just launched, until its run is known. */
  launchedJobId: string | null = $state(null);
  /** The selected run's latest job (kept after a pause, so its bar shows how it ended). */
  jobId: string | null = $state(null);
  readonly job: Job | null = $derived(jobs.list.find((job) => job.id === this.jobId) ?? null);

  /** Bumped on every selection: answers for an earlier selection are dropped. */
  #generation = 0;
  /** metrics.jsonl lines read so far (run:metrics' cursor). */
  #next = 0;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #refreshing = false;
  #again = false;
  #pairsRequest = 0;
  #samplesRequest = 0;

  connect(): () => void {
    const stops = [
      api.on('job:updated', (job) => {
        if (job.kind !== 'run.train') return;
        if (job.id === this.launchedJobId) this.#adopt(runIdIn(job.result));
        if (this.#concerns(job.id)) this.#schedule();
      }),
      api.on('job:output', ({ jobId, data }) => {
        const runId = runIdIn(data);
        if (jobId === this.launchedJobId) this.#adopt(runId);
        if (this.#concerns(jobId) || (runId !== null && runId === this.selectedId)) this.#schedule();
      }),
      api.on('catalog:changed', ({ section }) => {
        if (section === 'runs' && this.selectedId !== null) this.#schedule();
        if (section === 'pairSets') void this.pairSets.load();
      }),
      api.onReconnect(() => {
        void this.pairSets.load();
        this.#schedule();
      }),
    ];
    void this.pairSets.load();
    if (this.selectedId !== null) this.#schedule();
    return () => {
      stops.forEach((stop) => stop());
      if (this.#timer !== null) clearTimeout(this.#timer);
      this.#timer = null;
    };
  }

  select(id: string | null): void {
    if (id === this.selectedId) return;
    this.#generation++;
    this.selectedId = id;
    this.detail = null;
    this.error = null;
    this.actionError = null;
    this.metrics = [];
    this.#next = 0;
    this.jobId = null;
    this.pairs = emptyPage(0);
    this.samples = emptyPage(null);
    if (id !== null) {
      this.creating = false;
      void this.#refreshLoop();
    }
  }

  /** A run.train job was started from the form: its run is selected once the catalog lists it. */
  launched(job: Job): void {
    this.launchedJobId = job.id;
    this.creating = false;
    this.adoptFrom(catalog.runs.value ?? []);
  }

  /** Selects the launched run when the run list names its job. */
  adoptFrom(runs: readonly RunEntry[]): void {
    if (this.launchedJobId === null) return;
    const run = runs.find((entry) => entry.jobId === this.launchedJobId);
    if (run) this.#adopt(run.id);
  }

  async control(action: RunAction): Promise<void> {
    const id = this.selectedId;
    if (id === null || this.action !== null) return;
    this.action = action;
    this.actionError = null;
    const request = { id };
    const result =
      action === 'pause'
        ? await api.invoke('run:pause', request)
        : action === 'resume'
          ? await api.invoke('run:resume', request)
          : await api.invoke('run:cancel', request);
    this.action = null;
    if (!result.ok) {
      this.actionError = result.error;
      return;
    }
    if (this.selectedId === id) {
      this.detail = result.value;
      if (result.value.jobId) this.jobId = result.value.jobId;
    }
    void catalog.runs.load();
    this.#schedule();
  }

  async loadPairs(iteration: number, offset = 0): Promise<void> {
    const id = this.selectedId;
    if (id === null) return;
    const request = ++this.#pairsRequest;
    this.pairs = { ...this.pairs, iteration, offset, loading: true };
    const result = await api.invoke('run:pairs', { id, iteration, offset, limit: ROWS_PAGE });
    if (request !== this.#pairsRequest || id !== this.selectedId) return;
    this.pairs = result.ok
      ? { iteration, offset, rows: result.value.rows, total: result.value.total, loading: false, error: null }
      : { ...emptyPage<RunPairRow>(iteration), error: result.error };
  }

  async loadSamples(iteration: number | null, offset = 0): Promise<void> {
    const id = this.selectedId;
    if (id === null) return;
    const request = ++this.#samplesRequest;
    this.samples = { ...this.samples, iteration, offset, loading: true };
    const result = await api.invoke('run:samples', {
      id,
      offset,
      limit: ROWS_PAGE,
      ...(iteration === null ? {} : { iteration }),
    });
    if (request !== this.#samplesRequest || id !== this.selectedId) return;
    this.samples = result.ok
      ? { iteration, offset, rows: result.value.rows, total: result.value.total, loading: false, error: null }
      : { ...emptyPage<RunSampleRow>(iteration), error: result.error };
  }

  /** Reloads the detail and the new metrics now (the Retry of an error banner). */
  refresh(): void {
    void this.#refreshLoop();
  }

  #adopt(runId: string | null): void {
    if (runId === null) return;
    this.launchedJobId = null;
    this.select(runId);
  }

  #concerns(jobId: string): boolean {
    return this.selectedId !== null && (jobId === this.jobId || jobId === this.detail?.jobId || this.detail === null);
  }

  #schedule(): void {
    if (this.#timer !== null) return;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      void this.#refreshLoop();
    }, REFRESH_DELAY_MS);
  }

  /** One refresh at a time; a request during one runs another right after it. */
  async #refreshLoop(): Promise<void> {
    if (this.#refreshing) {
      this.#again = true;
      return;
    }
    this.#refreshing = true;
    try {
      do {
        this.#again = false;
        await this.#refresh();
      } while (this.#again);
    } finally {
      this.#refreshing = false;
    }
  }

  async #refresh(): Promise<void> {
    const id = this.selectedId;
    if (id === null) return;
    const generation = this.#generation;
    const result = await api.invoke('run:get', { id });
    if (generation !== this.#generation) return;
    if (!result.ok) {
      this.error = result.error;
      return;
    }
    const before = this.detail;
    this.detail = result.value;
    this.error = null;
    if (result.value.jobId) this.jobId = result.value.jobId;
    await this.#loadMetrics(id, generation);
    if (generation !== this.#generation || !moved(before, result.value)) return;
    if (before === null) {
      const first = runIterations(result.value.config)[0] ?? 0;
      await Promise.all([this.loadPairs(first), this.loadSamples(null)]);
    } else {
      await Promise.all([
        this.loadPairs(this.pairs.iteration ?? 0, this.pairs.offset),
        this.loadSamples(this.samples.iteration, this.samples.offset),
      ]);
    }
  }

  async #loadMetrics(id: string, generation: number): Promise<void> {
    for (;;) {
      const after = this.#next;
      const result = await api.invoke('run:metrics', { id, after, limit: METRICS_PAGE });
      if (generation !== this.#generation) return;
      if (!result.ok) {
        this.error = result.error;
        return;
      }
      const { rows, next } = result.value;
      if (next < after) {
        // The file is shorter than what was read: it was rewritten (a resume from an earlier checkpoint).
        this.metrics = [];
        this.#next = 0;
        continue;
      }
      if (rows.length > 0) this.metrics = this.metrics.concat(rows);
      this.#next = next;
      if (rows.length < METRICS_PAGE) return;
    }
  }
}

export const runs = new RunsState();
