/** `drift-wb run …` as a user runs it (child processes on bin/drift-wb.js) on the tiny run fixture. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Job, RunDetail, RunEntry } from '../../src-main/api/index.js';
import { RunJobOutput } from '../../src-main/api/index.js';
import { openEngine } from '../../src-main/engine/index.js';
import { removeWorkspaces, runWorkspace, tinyRunConfig } from '../engine/runs/helpers.js';
import { onlyDocument, runCli as runInWorkspace, type Finished } from './helpers.js';

let workspace: string;

beforeAll(async () => {
  workspace = await runWorkspace();
});
afterAll(removeWorkspaces);

function runCli(args: string[]): Promise<Finished> {
  return runInWorkspace(['--workspace', workspace, ...args], 120_000);
}

const SMALL = [
  ['testSize', '4'],
  ['testFraction', '0.25'],
  ['hyperparameters.batchSize', '4'],
  ['hyperparameters.maxLength', '96'],
  ['hyperparameters.maxPromptLength', '64'],
  ['hyperparameters.seedEpochs', '1'],
  ['hyperparameters.optimizer', 'adamw'],
  ['generation.maxNewTokens', '8'],
].flatMap(([key, value]) => ['--set', `${key}=${value}`]);

describe('drift-wb run', () => {
  it('starts a DRIFT run on a pair set and reports it with --json; status and list show it', async () => {
    const started = await runCli([
      'run',
      'start',
      '--method',
      'drift',
      '--model',
      'tiny-base',
      '--pairs',
      'sums',
      '--iterations',
      '1',
      '--name',
      'cli run',
      '--lr',
      '0.003',
      '--seed',
      '7',
      ...SMALL,
      '--json',
    ]);
    expect(started.code, started.stderr).toBe(0);
    const result = onlyDocument<{ runId: string; status: string; modelIds: string[]; run: RunDetail }>(started.stdout);
    expect(result).toMatchObject({
      runId: 'cli-run',
      status: 'succeeded',
      modelIds: ['cli-run-seed', 'cli-run-iter1'],
      run: { status: 'succeeded', config: { pairSet: 'sums@v1', seed: 7, hyperparameters: { learningRate: 0.003 } } },
    });

    const status = await runCli(['run', 'status', 'cli-run', '--json']);
    expect(status.code, status.stderr).toBe(0);
    expect(onlyDocument<RunDetail>(status.stdout)).toMatchObject({ id: 'cli-run', position: { phase: 'done' } });
    const human = await runCli(['run', 'status', 'cli-run']);
    expect(human.stdout).toContain('Run cli-run (drift) succeeded');
    expect(human.stdout).toMatch(/phase 1 +12\+4 pairs, \d+ steps, model cli-run-iter1, held-out margin/);

    const list = await runCli(['run', 'list', '--json']);
    expect(onlyDocument<RunEntry[]>(list.stdout)).toContainEqual(
      expect.objectContaining({ id: 'cli-run', status: 'succeeded', iterationsDone: 1 }),
    );
    const pause = await runCli(['run', 'pause', 'cli-run']);
    expect(pause.code).toBe(1);
    expect(pause.stderr).toContain('error [run_state_conflict]');
  });

  it('refuses a config that does not parse, naming the field', async () => {
    const bad = await runCli([
      'run',
      'start',
      '--method',
      'drift',
      '--model',
      'm',
      '--pairs',
      's',
      '--set',
      'generation.topP=2',
    ]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('error [invalid_arguments]: generation.topP');
  });

  it('pauses a run that another process owns through its stop request', async () => {
    const engine = await openEngine({ workspaceDir: workspace, host: 'cli' });
    try {
      const config = tinyRunConfig({ name: 'owned elsewhere', iterations: 1, hyperparameters: { seedEpochs: 100 } });
      const job = await engine.handlers['job:start']({ kind: 'run.train', params: { config } });
      await new Promise<void>((resolve) => {
        const off = engine.on('job:output', ({ jobId, data }) => {
          if (jobId === job.id && RunJobOutput.safeParse(data).data?.type === 'run-metric') {
            off();
            resolve();
          }
        });
      });
      const ended = new Promise<Job>((resolve) => {
        const off = engine.on('job:updated', (update) => {
          if (update.id === job.id && ['succeeded', 'failed', 'cancelled'].includes(update.status)) {
            off();
            resolve(update);
          }
        });
      });
      // This process holds the workspace, so the CLI asks through the run's folder.
      const pause = await runCli(['run', 'pause', 'owned-elsewhere', '--json']);
      expect(pause.code, pause.stderr).toBe(0);
      expect(onlyDocument(pause.stdout)).toMatchObject({ id: 'owned-elsewhere', requested: 'pause' });
      expect((await ended).status).toBe('cancelled');
      const detail = await engine.handlers['run:get']({ id: 'owned-elsewhere' });
      expect(detail).toMatchObject({ status: 'paused', jobId: null });
      expect(detail.position.step).toBeGreaterThan(0);
      expect(detail.position.step).toBeLessThan(300);
    } finally {
      await engine.close();
    }
  });
});
