/**
 * `drift-wb demo --quick` end to end on a fresh workspace, as CI and a new user run it: the
 * committed demo logs and base model → import → mining → pair set → DRIFT → evaluation with the
 * simulator's checker → report. Slow by nature (a few minutes on two cores): one test.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { PairCheck } from '../../src-main/engine/demo/pair-checks.js';
import { onlyDocument, runCli } from './helpers.js';

interface DemoSummary {
  report: string;
  reportFiles: string[];
  results: Record<
    string,
    {
      success: number | null;
      method: string;
      meanReward: number;
      winRate: number | null;
      formFailures: number | null;
      successByGroup: Record<string, { success: number; samples: number }>;
    }
  >;
  drift: { base: number | null; bySeed: number[]; gain: number | null };
  runs: { method: string; runId: string; modelIds: string[] }[];
  pairChecks: Record<string, PairCheck[]>;
}

const folders: string[] = [];
afterAll(async () => {
  await Promise.all(folders.map((folder) => rm(folder, { recursive: true, force: true })));
});

describe('drift-wb demo --quick', () => {
  it('runs the demo end to end and reports every checkpoint’s held-out success', { timeout: 900_000 }, async () => {
    const workspace = join(await mkdtemp(join(tmpdir(), 'drift-demo-')), 'workspace');
    folders.push(join(workspace, '..'));
    const finished = await runCli(
      ['demo', '--quick', '--json', '--rpo-alpha', '0.002', '--workspace', workspace],
      880_000,
    );
    expect(finished.code, finished.stderr).toBe(0);
    expect(finished.stderr).toMatch(/\[1\/\d+\] Import the demo logs/);
    const summary = onlyDocument<DemoSummary>(finished.stdout);

    // The base model and each phase of the DRIFT run were evaluated with the gold checker.
    const base = summary.results['base'];
    expect(base?.success).toBeTypeOf('number');
    const drift = Object.values(summary.results).filter((row) => row.method === 'drift');
    expect(drift.length).toBe(summary.runs[0]?.modelIds.length);
    for (const row of drift) {
      expect(row.success).toBeGreaterThanOrEqual(0);
      expect(row.success).toBeLessThanOrEqual(1);
      expect(row.winRate).toBeTypeOf('number');
    }
    // Each checkpoint's samples that fail on form alone, by the checker (32 prompts × 2 samples).
    for (const row of Object.values(summary.results)) {
      expect(row.formFailures).toBeGreaterThanOrEqual(0);
      expect(row.formFailures).toBeLessThanOrEqual(Math.round((1 - (row.success ?? 0)) * 64));
    }
    expect(base?.formFailures).toBeGreaterThan(0); // the base model's habits
    // Success by task group adds up to the overall success, over all 64 samples.
    for (const row of Object.values(summary.results)) {
      const groups = Object.values(row.successByGroup);
      expect(groups.length).toBeGreaterThan(1);
      expect(groups.reduce((sum, group) => sum + group.samples, 0)).toBe(64);
      const successes = groups.reduce((sum, group) => sum + group.success * group.samples, 0);
      expect(successes / 64).toBeCloseTo(row.success ?? -1, 6);
    }
    expect(summary.drift.bySeed).toHaveLength(1);
    expect(summary.drift.gain).toBeTypeOf('number');

    // Every phase's pairs were checked against the deployed task they came from (ground truth).
    const phases = summary.pairChecks[summary.runs[0]!.runId] ?? [];
    expect(phases.map((phase) => phase.iteration)).toEqual(summary.runs[0]!.modelIds.map((_, index) => index));
    for (const phase of phases) {
      expect(phase.pairs).toBeGreaterThan(0);
      expect(phase.checked).toBeGreaterThan(0.9 * phase.pairs); // an answer to an off-topic turn has no task
      expect(phase.checked).toBeLessThanOrEqual(phase.pairs);
      expect(phase.improvements).toBeLessThanOrEqual(phase.chosenRight);
      expect(phase.formImprovements).toBeLessThanOrEqual(Math.min(phase.formFailures, phase.improvements));
      if (phase.iteration > 0) {
        // The deployed model has habits (corpus.ts): some of its disliked answers are wrong in form
        // alone, most in content.
        expect(phase.formFailures).toBeGreaterThan(0);
        expect(phase.formFailures).toBeLessThan((phase.checked - phase.rejectedRight) / 2);
      }
    }

    // The report exists on disk in each format and names the run.
    expect(summary.reportFiles).toEqual(expect.arrayContaining(['report.html', 'report.md', 'report.json']));
    const html = await readFile(join(summary.report, 'report.html'), 'utf8');
    expect(html).toContain(summary.runs[0]?.runId);
    expect(existsSync(join(workspace, 'runs', summary.runs[0]!.runId, 'metrics.jsonl'))).toBe(true);

    // --rpo-alpha reached the run's resolved config; the rest are the run form's defaults.
    const run = JSON.parse(await readFile(join(workspace, 'runs', summary.runs[0]!.runId, 'run.json'), 'utf8')) as {
      config: { hyperparameters: { rpoAlpha: number; beta: number; learningRate: number } };
    };
    expect(run.config.hyperparameters).toMatchObject({ rpoAlpha: 0.002, beta: 0.1, learningRate: 5e-5 });
  });

  it('refuses DPO settings the run form would refuse, naming the option', async () => {
    const workspace = join(await mkdtemp(join(tmpdir(), 'drift-demo-')), 'workspace');
    folders.push(join(workspace, '..'));
    for (const [flag, value] of [
      ['--lr', '-1'],
      ['--beta', 'abc'],
      ['--rpo-alpha', '-0.5'],
    ] as const) {
      const finished = await runCli(['demo', '--quick', flag, value, '--workspace', workspace], 60_000);
      expect(finished.code).toBe(2);
      expect(finished.stderr).toContain(flag);
    }
    expect(existsSync(join(workspace, 'runs'))).toBe(false);
  });
});
