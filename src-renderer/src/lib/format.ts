/** Small formatting helpers shared by the views. */
import type { Job } from '../../../src-main/api/schemas.js';

/** 0..100, rounded down so a bar never shows 100 % before the work is done. */
export function percentOf(done: number, total: number): number {
  if (!(total > 0)) return 0;
  return Math.max(0, Math.min(100, Math.floor((done / total) * 100)));
}

/** A job's progress in percent; a succeeded job is complete even if its last report was not. */
export function jobPercent(job: Pick<Job, 'status' | 'progress'>): number {
  return job.status === 'succeeded' ? 100 : percentOf(job.progress.done, job.progress.total);
}

/** 75 → "1 min 15 s"; null → "estimating…". */
export function formatEta(seconds: number | null): string {
  if (seconds === null) return 'estimating…';
  const rounded = Math.max(0, Math.round(seconds));
  if (rounded < 60) return `${rounded} s`;
  const minutes = Math.floor(rounded / 60);
  if (minutes < 60) return `${minutes} min ${rounded % 60} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/** Elapsed time between two ISO timestamps (or until now). */
export function formatDuration(startIso: string | null, endIso: string | null, now = Date.now()): string {
  if (!startIso) return '';
  const start = Date.parse(startIso);
  const end = endIso ? Date.parse(endIso) : now;
  if (Number.isNaN(start) || Number.isNaN(end)) return '';
  return formatEta((end - start) / 1000);
}

export function formatTime(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleTimeString();
}

export function formatCount(value: number, singular: string, plural = `${singular}s`): string {
  return `${value.toLocaleString()} ${value === 1 ? singular : plural}`;
}
