/** The demo's text output: the table of success by task group (the base and each run's final checkpoint). */
import { describe, expect, it } from 'vitest';
import { groupTable } from '../../src-main/cli/commands/demo.js';
import type { DemoCheckpointResult, DemoResult } from '../../src-main/engine/index.js';

function row(label: string, runId: string | null, groups: Record<string, number>): DemoCheckpointResult {
  return {
    label,
    method: label.split('-')[0]!,
    runId,
    seed: runId === null ? null : 42,
    modelId: `model-${label}`,
    success: null,
    meanReward: 0,
    winRate: null,
    vendiScore: null,
    formFailures: null,
    successByGroup: Object.fromEntries(
      Object.entries(groups).map(([group, success]) => [group, { success, samples: 40 }]),
    ),
  };
}

describe('groupTable', () => {
  it('lists each group with the base and the final checkpoint of each run', () => {
    const results = {
      base: row('base', null, { arithmetic: 0.1, 'capital (answer only)': 0.475 }),
      'drift-s42-iter1': row('drift-s42-iter1', 'run-1', { arithmetic: 0.9, 'capital (answer only)': 0.9 }),
      'drift-s42-iter2': row('drift-s42-iter2', 'run-1', { arithmetic: 0.075, 'capital (answer only)': 0.55 }),
    };
    const lines = groupTable({ results } as unknown as DemoResult);
    expect(lines[0]).toBe('By task group (final checkpoints):');
    expect(lines[1]!.split(/\s+/).filter(Boolean)).toEqual(['group', 'n', 'base', 'drift', 's42']);
    expect(lines[2]!.split(/\s+/).filter(Boolean)).toEqual(['arithmetic', '40', '10.0%', '7.5%']);
    expect(lines[3]!.trim().split(/\s{2,}/)).toEqual(['capital (answer only)', '40', '47.5%', '55.0%']);
    expect(lines).toHaveLength(4);
  });

  it('is empty when the checkpoints have no groups', () => {
    expect(groupTable({ results: { base: row('base', null, {}) } } as unknown as DemoResult)).toEqual([]);
  });
});
