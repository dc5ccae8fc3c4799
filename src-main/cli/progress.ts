/**
 * Job progress on stderr. On a terminal: one redrawn bar (cli-progress) with phase, done/total,
 * percent and ETA. Elsewhere (a log file, CI, a pipe): plain lines, one per phase or status change
 * and at most one every two seconds in between, so logs stay readable.
 */
import cliProgress from 'cli-progress';
import type { Job, JobKind } from '../api/index.js';
import type { Engine } from '../engine/index.js';

export interface ProgressDisplay {
  /** Shows the job's latest state. */
  update(job: Job): void;
  /** Ends the display (the bar's line is kept). Safe to call twice. */
  stop(): void;
}

export interface ProgressOptions {
  /** Minimum time between two lines when not on a terminal. */
  lineIntervalMs?: number;
  now?: () => number;
}

export function createProgressDisplay(
  stream: NodeJS.WriteStream = process.stderr,
  options: ProgressOptions = {},
): ProgressDisplay {
  return stream.isTTY ? new BarDisplay(stream) : new LineDisplay(stream, options);
}

/** `phase 3/10 30% ETA 12s` (percent only when the total is known). */
export function describeProgress(job: Job): string {
  const { phase, done, total, etaSeconds } = job.progress;
  const parts = [phase || job.status, total > 0 ? `${formatCount(done)}/${formatCount(total)}` : formatCount(done)];
  if (total > 0) parts.push(`${Math.floor((100 * Math.min(done, total)) / total)}%`);
  if (!isFinished(job)) parts.push(`ETA ${etaSeconds === null ? '--' : formatDuration(etaSeconds)}`);
  if (job.progress.message) parts.push(`- ${job.progress.message}`);
  return parts.join(' ');
}

/** `45s`, `3m05s`, `1h02m`. */
export function formatDuration(seconds: number): string {
  const whole = Math.max(0, Math.round(seconds));
  if (whole < 60) return `${whole}s`;
  if (whole < 3600) return `${Math.floor(whole / 60)}m${String(whole % 60).padStart(2, '0')}s`;
  return `${Math.floor(whole / 3600)}h${String(Math.floor((whole % 3600) / 60)).padStart(2, '0')}m`;
}

function formatCount(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(2);
}

function isFinished(job: Job): boolean {
  return job.status === 'succeeded' || job.status === 'failed' || job.status === 'cancelled';
}

class BarDisplay implements ProgressDisplay {
  readonly #bar: cliProgress.SingleBar;
  #started = false;
  #latest: Job | undefined;

  constructor(stream: NodeJS.WriteStream) {
    this.#bar = new cliProgress.SingleBar({
      stream,
      hideCursor: true,
      clearOnComplete: false,
      barsize: 30,
      emptyOnZero: true,
      // The engine's ETA (from its rate estimate) rather than cli-progress's own.
      format: (options, params) => {
        const bar = cliProgress.Format.BarFormat(params.progress, options);
        return this.#latest ? `${this.#latest.kind} [${bar}] ${describeProgress(this.#latest)}` : `[${bar}]`;
      },
    });
  }

  update(job: Job): void {
    this.#latest = job;
    const { done, total } = job.progress;
    if (!this.#started) {
      this.#bar.start(total, done);
      this.#started = true;
    }
    this.#bar.setTotal(total);
    this.#bar.update(done);
    if (isFinished(job)) this.stop();
  }

  stop(): void {
    if (!this.#started) return;
    this.#started = false;
    this.#bar.stop();
  }
}

class LineDisplay implements ProgressDisplay {
  readonly #stream: NodeJS.WriteStream;
  readonly #intervalMs: number;
  readonly #now: () => number;
  #lastKey = '';
  #lastAt = Number.NEGATIVE_INFINITY;
  #pending: Job | undefined;

  constructor(stream: NodeJS.WriteStream, options: ProgressOptions) {
    this.#stream = stream;
    this.#intervalMs = options.lineIntervalMs ?? 2000;
    this.#now = options.now ?? Date.now;
  }

  update(job: Job): void {
    const key = `${job.status}\u0000${job.progress.phase}`;
    const now = this.#now();
    if (key !== this.#lastKey || isFinished(job) || now - this.#lastAt >= this.#intervalMs) {
      this.#print(job, key, now);
    } else {
      this.#pending = job;
    }
  }

  stop(): void {
    // Show where a throttled job ended up if its last state was never printed.
    if (this.#pending) this.#print(this.#pending, '', this.#now());
  }

  #print(job: Job, key: string, now: number): void {
    this.#stream.write(`[${job.kind}] ${job.status}: ${describeProgress(job)}\n`);
    this.#lastKey = key;
    this.#lastAt = now;
    this.#pending = undefined;
  }
}

/**
 * Runs a job with a progress display on stderr; Ctrl+C (or SIGTERM) cancels the job instead of
 * killing the process, so the job ends as `cancelled` and its partial output is cleaned up.
 */
export async function runJobWithProgress(
  engine: Pick<Engine, 'runJob'>,
  kind: JobKind,
  params: Record<string, unknown>,
): Promise<Job> {
  const progress = createProgressDisplay();
  const controller = new AbortController();
  const cancel = () => controller.abort();
  process.once('SIGINT', cancel);
  process.once('SIGTERM', cancel);
  try {
    return await engine.runJob(kind, params, { onUpdate: (job) => progress.update(job), signal: controller.signal });
  } finally {
    progress.stop();
    process.off('SIGINT', cancel);
    process.off('SIGTERM', cancel);
  }
}
