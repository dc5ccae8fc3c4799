import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { Job } from '../../src-main/api/index.js';
import { createProgressDisplay, describeProgress, formatDuration } from '../../src-main/cli/progress.js';

function job(status: Job['status'], phase: string, done: number, total: number, etaSeconds: number | null = null): Job {
  return {
    id: 'job-1',
    kind: 'selftest.gradients',
    title: 'Gradient check',
    params: {},
    status,
    createdAt: '2025-01-01T00:00:00.000Z',
    startedAt: null,
    finishedAt: null,
    progress: { phase, done, total, etaSeconds },
  };
}

/** A stream that records writes; `isTTY` decides which display createProgressDisplay picks. */
function stream(isTTY: boolean) {
  const target = new PassThrough() as PassThrough & { isTTY: boolean; columns: number };
  target.isTTY = isTTY;
  target.columns = 120;
  let written = '';
  target.on('data', (chunk: Buffer) => (written += chunk.toString()));
  return { target: target as unknown as NodeJS.WriteStream, written: () => written };
}

describe('describeProgress and formatDuration', () => {
  it('shows phase, done/total, percent and ETA', () => {
    expect(describeProgress(job('running', 'gradients', 3, 10, 65))).toBe('gradients 3/10 30% ETA 1m05s');
    expect(describeProgress(job('running', 'loading', 0, 0))).toBe('loading 0 ETA --');
    expect(describeProgress(job('queued', '', 0, 0))).toBe('queued 0 ETA --');
  });

  it('formats durations compactly', () => {
    expect(formatDuration(4.4)).toBe('4s');
    expect(formatDuration(185)).toBe('3m05s');
    expect(formatDuration(3720)).toBe('1h02m');
  });
});

describe('progress on a pipe or log file', () => {
  it('prints a line per phase change and at most one per interval in between', () => {
    let now = 0;
    const { target, written } = stream(false);
    const display = createProgressDisplay(target, { lineIntervalMs: 2000, now: () => now });
    display.update(job('running', 'loading', 0, 1));
    now = 100;
    display.update(job('running', 'gradients', 1, 10));
    now = 500;
    display.update(job('running', 'gradients', 2, 10)); // throttled
    now = 1500;
    display.update(job('running', 'gradients', 3, 10)); // throttled
    now = 2200;
    display.update(job('running', 'gradients', 4, 10, 3)); // interval passed
    now = 2300;
    display.update(job('running', 'gradients', 5, 10)); // throttled, printed by stop()
    display.stop();
    expect(written().split('\n').filter(Boolean)).toEqual([
      '[selftest.gradients] running: loading 0/1 0% ETA --',
      '[selftest.gradients] running: gradients 1/10 10% ETA --',
      '[selftest.gradients] running: gradients 4/10 40% ETA 3s',
      '[selftest.gradients] running: gradients 5/10 50% ETA --',
    ]);
  });

  it('always prints the final state', () => {
    let now = 0;
    const { target, written } = stream(false);
    const display = createProgressDisplay(target, { now: () => now });
    display.update(job('running', 'gradients', 9, 10));
    now = 10;
    display.update(job('succeeded', 'gradients', 10, 10, 0));
    display.stop();
    expect(written()).toContain('[selftest.gradients] succeeded: gradients 10/10 100%\n');
  });
});

describe('progress on a terminal', () => {
  it('draws a bar with phase, counts, percent and ETA, and ends with a newline', () => {
    const { target, written } = stream(true);
    const display = createProgressDisplay(target);
    display.update(job('running', 'gradients', 5, 10, 12));
    display.update(job('succeeded', 'gradients', 10, 10, 0));
    display.stop();
    const text = written();
    expect(text).toMatch(/selftest\.gradients \[=+-*\] gradients 5\/10 50% ETA 12s/);
    expect(text).toMatch(/selftest\.gradients \[=+\] gradients 10\/10 100%/);
    expect(text.endsWith('\n')).toBe(true);
  });
});
