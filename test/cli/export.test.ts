/** `drift-wb export` and `drift-wb import-run` as a user runs them: child processes on bin/drift-wb.js. */
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createModel, llamaConfig, saveHfModel } from '../../src-main/engine/model/index.js';
import { conversation, writeDataset } from '../engine/signals/helpers.js';
import { onlyDocument, root, runCli } from './helpers.js';

const tinyLlama = join(root, 'test', 'fixtures', 'models', 'ferrl-tiny-llama');

let workspace: string;
const inWorkspace = (args: string[]) => runCli(['--workspace', workspace, ...args], 120_000);

beforeAll(async () => {
  workspace = await mkdtemp(join(tmpdir(), 'drift-cli-export-'));
  await writeDataset(workspace, 'logs', [
    conversation('geo', [
      ['user', 'What is the capital of Australia?'],
      ['assistant', 'Sydney.'],
      ['user', "That's wrong."],
      ['assistant', 'Canberra.'],
      ['user', 'Thanks, perfect!'],
    ]),
    conversation('math', [
      ['user', 'What is 7 times 8?'],
      ['assistant', '54'],
      ['user', 'Wrong, that is incorrect.'],
    ]),
  ]);
  for (const args of [
    ['mine', '--dataset', 'logs'],
    ['pairs', 'freeze', '--dataset', 'logs', '--name', 'gold'],
    ['model', 'import', tinyLlama],
  ]) {
    const done = await inWorkspace(args);
    expect(done.code, done.stderr).toBe(0);
  }
}, 240_000);

afterAll(async () => {
  await rm(workspace, { recursive: true, force: true });
});

describe('drift-wb export --target trl', () => {
  it('compiles a run given by --method/--model/--pairs, then imports the cluster’s results with import-run', async () => {
    const bundle = join(workspace, 'bundle');
    const exported = await inWorkspace([
      'export',
      '--target',
      'trl',
      '--method',
      'drift',
      '--model',
      'ferrl-tiny-llama',
      '--pairs',
      'gold',
      '--iterations',
      '1',
      '--name',
      'cli-drift',
      '--accelerate',
      'fsdp',
      '--out',
      bundle,
      '--json',
    ]);
    expect(exported.code, exported.stderr).toBe(0);
    const result = onlyDocument<{ method: string; iterations: number; baseModel: unknown; files: { path: string }[] }>(
      exported.stdout,
    );
    // The fixture has no hub id: it is copied into the bundle.
    expect(result).toMatchObject({
      method: 'drift',
      iterations: 2,
      baseModel: { kind: 'path', reference: 'base-model' },
    });
    expect(result.files.map((file) => file.path)).toEqual(
      expect.arrayContaining([
        'bundle.json',
        'drift_driver.py',
        'data/dsat_data.jsonl',
        'base-model/model.safetensors',
      ]),
    );
    const dry = spawnSync('python3', ['drift_driver.py', '--dry-run'], { cwd: bundle, encoding: 'utf8' });
    expect(dry.status, dry.stderr).toBe(0);
    expect(dry.stdout).toContain('accelerate launch --config_file configs/accelerate/fsdp.yaml');

    // What the driver leaves after the seed step only: the run comes back as unfinished.
    const output = join(bundle, 'outputs', 'iter-0');
    const model = createModel(
      llamaConfig({ vocabSize: 32, hiddenSize: 16, intermediateSize: 24, numHiddenLayers: 1, numAttentionHeads: 2 }),
    );
    await saveHfModel(model, output);
    model.dispose();
    await writeFile(
      join(output, 'trainer_state.json'),
      JSON.stringify({
        global_step: 1,
        log_history: [
          { loss: 0.7, 'rewards/chosen': 0.01, 'rewards/rejected': 0, 'rewards/margins': 0.01, step: 1, epoch: 1 },
          { train_runtime: 3, step: 1 },
        ],
      }),
    );
    await writeFile(
      join(output, 'drift_done.json'),
      JSON.stringify({ iteration: 0, finishedAt: new Date().toISOString() }),
    );
    const imported = await inWorkspace(['import-run', bundle, '--json']);
    expect(imported.code, imported.stderr).toBe(0);
    const run = onlyDocument<{ runId: string; status: string; metricRows: number; models: { id: string }[] }>(
      imported.stdout,
    );
    expect(run).toMatchObject({ runId: 'cli-drift-trl', status: 'failed', metricRows: 1 });
    expect(run.models.map((entry) => entry.id)).toEqual(['cli-drift-trl-seed']);
    const listed = await inWorkspace(['model', 'list', '--json']);
    expect(onlyDocument<{ id: string }[]>(listed.stdout).map((entry) => entry.id)).toContain('cli-drift-trl-seed');
    const stored = JSON.parse(await readFile(join(workspace, 'runs', 'cli-drift-trl', 'run.json'), 'utf8')) as {
      error: string;
    };
    expect(stored.error).toContain('Only 1 of 2 iterations');
  }, 240_000);

  it('exports from a --config file, and refuses ambiguous or unknown sources', async () => {
    const file = join(workspace, 'config.json');
    await writeFile(
      file,
      JSON.stringify({ name: 'spin-run', method: 'spin', baseModelId: 'ferrl-tiny-llama', pairSet: 'gold@v1' }),
    );
    const fromFile = await inWorkspace(['export', '--config', file, '--out', join(workspace, 'spin'), '--json']);
    expect(fromFile.code, fromFile.stderr).toBe(0);
    expect(onlyDocument(fromFile.stdout)).toMatchObject({ method: 'spin' });

    const both = await inWorkspace(['export', '--run', 'x', '--config', file, '--out', join(workspace, 'x'), '--json']);
    expect(both.code).toBe(2);
    expect(onlyDocument(both.stdout)).toMatchObject({ ok: false, error: { code: 'invalid_arguments' } });
    const missing = await inWorkspace(['export', '--run', 'no-such-run', '--out', join(workspace, 'y'), '--json']);
    expect(missing.code).toBe(1);
    expect(onlyDocument(missing.stdout)).toMatchObject({ ok: false, error: { code: 'not_found' } });
    const notBundle = await inWorkspace(['import-run', workspace, '--json']);
    expect(notBundle.code).toBe(1);
    expect(onlyDocument(notBundle.stdout)).toMatchObject({ ok: false, error: { code: 'run_import_invalid' } });
  }, 240_000);
});
