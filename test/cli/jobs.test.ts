import { describe, expect, it } from 'vitest';
import type { Job } from '../../src-main/api/index.js';
import { describeJob, describeValue } from '../../src-main/cli/commands/jobs.js';

describe('describeValue', () => {
  it('aligns scalar fields and lists records one per line', () => {
    const lines = describeValue(
      {
        backend: 'wasm',
        parameters: [
          { name: 'embedding', shape: [13, 8], maxRelError: 0.0000288701912 },
          { name: 'norm.gain', shape: [8], maxRelError: 0.5 },
        ],
        passed: true,
        extra: { nested: { deep: 1 } },
      },
      '  ',
    );
    expect(lines).toEqual([
      '  backend     wasm',
      '  parameters (2)',
      '    name=embedding shape=[13,8] maxRelError=0.00002887',
      '    name=norm.gain shape=[8] maxRelError=0.5',
      '  passed      true',
      '  extra       {"nested":{"deep":1}}',
    ]);
  });

  it('prints a scalar result on one line and caps long record lists', () => {
    expect(describeValue(42, '')).toEqual(['42']);
    const many = describeValue({ rows: Array.from({ length: 25 }, (_, index) => ({ index })) }, '');
    expect(many).toHaveLength(1 + 20 + 1);
    expect(many.at(-1)).toBe('  … 5 more');
  });
});

describe('describeJob', () => {
  it('shows the error of a failed job', () => {
    const job: Job = {
      id: 'job-2',
      kind: 'selftest.gradients',
      title: 'Gradient check',
      params: {},
      status: 'failed',
      createdAt: '2025-01-01T00:00:00.000Z',
      startedAt: '2025-01-01T00:00:01.000Z',
      finishedAt: '2025-01-01T00:00:02.000Z',
      progress: { phase: 'gradient check', done: 3, total: 42, etaSeconds: 9 },
      error: { code: 'gradient_check_failed', message: 'attention.key differs by 0.3' },
    };
    expect(describeJob(job)).toEqual([
      'job-2  selftest.gradients  failed',
      '  progress  gradient check 3/42 7%',
      '  created   2025-01-01T00:00:00.000Z',
      '  started   2025-01-01T00:00:01.000Z',
      '  finished  2025-01-01T00:00:02.000Z',
      '  error     [gradient_check_failed] attention.key differs by 0.3',
    ]);
  });
});
