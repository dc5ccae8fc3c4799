/**
 * Jobs: the list from job:list, kept live by job:updated events, plus start and cancel.
 * Events arrive in order, so an event always wins; a response to start or cancel only fills
 * in a job the events have not described yet, or moves it to a later status.
 */
import type { Job, JobKind, JobStatus } from '../../../src-main/api/schemas.js';
import { api, type AppError } from './api.js';

const STATUS_RANK: Record<JobStatus, number> = { queued: 0, running: 1, succeeded: 2, failed: 2, cancelled: 2 };

export function isActive(job: Job): boolean {
  return job.status === 'queued' || job.status === 'running';
}

export class JobsState {
  /** Newest first. */
  list: Job[] = $state.raw([]);
  error: AppError | null = $state.raw(null);
  /** True once job:list has answered; until then an empty list means "unknown". */
  loaded = $state(false);
  panelOpen = $state(false);
  /** Kinds with a start request in flight, so their buttons can say so. */
  starting: JobKind[] = $state.raw([]);
  readonly active = $derived(this.list.filter(isActive));

  async load(): Promise<void> {
    const result = await api.invoke('job:list', {});
    if (result.ok) {
      this.list = [...result.value].sort((a, b) => b.createdAt.localeCompare(a.createdAt));
      this.error = null;
      this.loaded = true;
    } else {
      this.error = result.error;
    }
  }

  connect(): () => void {
    const stops = [api.on('job:updated', (job) => this.#upsert(job, true)), api.onReconnect(() => void this.load())];
    return () => stops.forEach((stop) => stop());
  }

  /** Starts a job and opens the panel so its progress is visible. Resolves with the job or null on error. */
  async start(kind: JobKind, params: Record<string, unknown> = {}): Promise<Job | null> {
    this.starting = [...this.starting, kind];
    const result = await api.invoke('job:start', { kind, params });
    this.starting = this.starting.filter((pending) => pending !== kind);
    if (!result.ok) {
      this.error = result.error;
      return null;
    }
    this.error = null;
    this.#upsert(result.value, false);
    this.panelOpen = true;
    return result.value;
  }

  async cancel(id: string): Promise<void> {
    const result = await api.invoke('job:cancel', { id });
    if (result.ok) {
      this.error = null;
      this.#upsert(result.value, false);
    } else {
      this.error = result.error;
    }
  }

  isStarting(kind: JobKind): boolean {
    return this.starting.includes(kind);
  }

  togglePanel(): void {
    this.panelOpen = !this.panelOpen;
  }

  dismissError(): void {
    this.error = null;
  }

  #upsert(job: Job, fromEvent: boolean): void {
    const index = this.list.findIndex((existing) => existing.id === job.id);
    if (index === -1) {
      this.list = [job, ...this.list];
      return;
    }
    const existing = this.list[index]!;
    if (!fromEvent && STATUS_RANK[job.status] <= STATUS_RANK[existing.status]) return;
    this.list = this.list.with(index, job);
  }
}

export const jobs = new JobsState();
