/**
 * `drift-wb reward train` and `drift-wb eval` as a user runs them, on the tiny workspace of
 * test/engine/runs (a tiny Llama `tiny-base` and the `sums` pair set): a reward model is trained,
 * two checkpoints are evaluated with it, and the evaluation is listed.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EvalRunResult, EvaluationResult, RewardTrainResult } from '../../src-main/api/index.js';
import { BASE_MODEL, PAIR_SET, removeWorkspaces, runWorkspace } from '../engine/runs/helpers.js';
import { onlyDocument, runCli as runInWorkspace, type Finished } from './helpers.js';

let workspace: string;

beforeAll(async () => {
  workspace = await runWorkspace();
});
afterAll(removeWorkspaces);

function runCli(args: string[]): Promise<Finished> {
  return runInWorkspace(['--workspace', workspace, ...args], 80_000);
}

describe('drift-wb eval', () => {
  it('trains a reward model, evaluates two checkpoints with it, and lists the evaluation', async () => {
    const trained = await runCli([
      'reward',
      'train',
      '--model',
      BASE_MODEL,
      '--pairs',
      PAIR_SET,
      '--epochs',
      '1',
      '--batch-size',
      '4',
      '--json',
    ]);
    expect(trained.code, trained.stderr).toBe(0);
    const reward = RewardTrainResult.parse(onlyDocument(trained.stdout));
    expect(reward.entry).toMatchObject({ role: 'reward', architecture: 'LlamaForSequenceClassification' });
    expect(reward.pairCounts.seed).toBe(8);

    const evaluated = await runCli([
      'eval',
      '--checkpoints',
      `${BASE_MODEL},${BASE_MODEL}`,
      '--labels',
      'base,again',
      '--pairs',
      PAIR_SET,
      '--reward',
      reward.modelId,
      '--samples',
      '2',
      '--max-new-tokens',
      '4',
      '--id',
      'cli-eval',
      '--json',
    ]);
    expect(evaluated.code, evaluated.stderr).toBe(0);
    // Progress went to stderr; stdout holds the one document.
    expect(evaluated.stderr).toContain('eval.run');
    const output = EvalRunResult.parse(onlyDocument(evaluated.stdout));
    expect(output.meta.checkpoints.map((checkpoint) => checkpoint.label)).toEqual(['base', 'again']);
    expect(output.meta.promptCount).toBe(3);
    const result = EvaluationResult.parse(JSON.parse(await readFile(path.join(output.folder, 'result.json'), 'utf8')));
    // The same model with the same seeds answers the same: every comparison is a tie.
    expect(result.winRates[0]).toMatchObject({ checkpoint: 1, opponent: 0, ties: 6, winRate: 0.5 });

    const listed = await runCli(['eval', '--list', '--json']);
    expect(listed.code, listed.stderr).toBe(0);
    expect(onlyDocument<{ id: string }[]>(listed.stdout).map((meta) => meta.id)).toEqual(['cli-eval']);
    const human = await runCli(['eval', '--list']);
    expect(human.stdout).toMatch(/cli-eval: base vs again — 3 prompts × 2 samples/);

    const usage = await runCli(['eval', '--checkpoints', BASE_MODEL, '--json']);
    expect(usage.code).toBe(2);
    expect(onlyDocument(usage.stdout)).toMatchObject({ ok: false, error: { code: 'invalid_arguments' } });
  });
});
