/**
 * `run.export` and `run.import` through the engine on a mined, frozen pair set: the bundle's data
 * match DRIFT's files and TRL's conversational preference schema, its configs use TRL's current
 * DPO API, its Python compiles and the driver's --dry-run validates and prints every command;
 * then a simulated cluster result (HF folders saved by saveHfModel, a trainer_state.json made
 * here) comes back as a run with metrics, pairs and registered models.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  dispatch,
  RunConfig,
  RunMetricRow,
  RunPairRow,
  type Conversation,
  type Handlers,
  type ModelEntry,
} from '../../../src-main/api/index.js';
import { openEngine, type Engine, type RunImportResult, type TrlExportResult } from '../../../src-main/engine/index.js';
import { createModel, llamaConfig, saveHfModel } from '../../../src-main/engine/model/index.js';
import { RunFile } from '../../../src-main/engine/runs/files.js';
import { conversation, writeDataset } from '../signals/helpers.js';

const CONVERSATIONS: Conversation[] = [
  conversation('geo', [
    ['system', 'You answer geography questions.'],
    ['user', 'What is the capital of Australia?'],
    ['assistant', 'Sydney.'],
    ['user', "That's wrong."],
    ['assistant', 'Canberra.'],
    ['user', 'Thanks, perfect!'],
  ]),
  conversation('essay', [
    ['user', 'Write an essay about bees.'],
    ['assistant', 'Bees are insects. '.repeat(60)],
    ['user', 'Too long, make it shorter.'],
    ['assistant', 'Bees pollinate flowers.'],
    ['user', 'Thanks, great!'],
  ]),
  conversation('math', [
    ['user', 'What is 7 times 8?'],
    ['assistant', '54'],
    ['user', 'Wrong, that is incorrect.'],
  ]),
  conversation('poem', [
    ['user', 'Write a poem about spring.'],
    ['assistant', 'Spring.'],
    ['user', 'Too short, more detail please.'],
    ['assistant', 'Blossoms wake and rivers sing.'],
    ['user', 'Thank you, perfect!'],
  ]),
  conversation('joke', [
    ['user', 'Tell me a joke.'],
    ['assistant', 'Why did the chicken cross the road?'],
    ['user', 'Haha, great, thanks!'],
  ]),
];

const TINY = llamaConfig({
  vocabSize: 40,
  hiddenSize: 16,
  intermediateSize: 24,
  numHiddenLayers: 2,
  numAttentionHeads: 4,
});

let root: string;
let workspace: string;
let engine: Engine;

const call = async <T>(channel: Parameters<typeof dispatch>[1], request: unknown): Promise<T> => {
  const result = await dispatch(engine.handlers as unknown as Handlers, channel, request, { validateResponses: true });
  if (!result.ok) throw Object.assign(new Error(result.error.message), { code: result.error.code });
  return result.value as T;
};

async function runJob<T>(kind: Parameters<Engine['runJob']>[0], params: Record<string, unknown>): Promise<T> {
  const job = await engine.runJob(kind, params);
  if (job.status !== 'succeeded') throw Object.assign(new Error(job.error?.message), { code: job.error?.code });
  return job.result as T;
}

async function jsonl(file: string): Promise<Record<string, unknown>[]> {
  return (await readFile(file, 'utf8'))
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

function python(args: string[], cwd: string): { code: number | null; stdout: string; stderr: string } {
  const result = spawnSync('python3', args, {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' },
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** A YAML file read by PyYAML (what drift_train.py does). */
function readYaml(file: string): Record<string, Record<string, unknown>> {
  const code = 'import json, sys, yaml\nprint(json.dumps(yaml.safe_load(open(sys.argv[1]))))';
  return JSON.parse(execFileSync('python3', ['-c', code, file], { encoding: 'utf8' })) as Record<
    string,
    Record<string, unknown>
  >;
}

const message = { role: expect.stringMatching(/^(system|user|assistant)$/), content: expect.any(String) };
const assistantTurn = [{ role: 'assistant', content: expect.any(String) }];

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'drift-export-'));
  workspace = join(root, 'workspace');
  await writeDataset(workspace, 'chats', CONVERSATIONS);
  engine = await openEngine({ workspaceDir: workspace, host: 'cli' });
  await runJob('signals.mine', { datasetId: 'chats' });
  await call('pairset:freeze', { datasetId: 'chats', name: 'gold', filter: {} });
  // A model imported from a Hugging Face cache folder: the bundle names it by its hub id.
  const cached = join(root, 'hf-cache', 'models--acme--tiny-chat', 'snapshots', '0123abc');
  const model = createModel(TINY, { seed: 1 });
  await saveHfModel(model, cached);
  model.dispose();
  await runJob('model.import', { path: cached, name: 'tiny-chat' });
}, 120_000);

afterAll(async () => {
  await engine?.close();
  await rm(root, { recursive: true, force: true });
});

const config = RunConfig.parse({
  name: 'drift-cluster',
  method: 'drift',
  baseModelId: 'tiny-chat',
  pairSet: 'gold',
  iterations: 2,
  testSize: 1,
  testFraction: 0.5,
});

describe('run.export (target trl)', () => {
  let bundle: string;
  let result: TrlExportResult;

  beforeAll(async () => {
    bundle = join(root, 'bundle');
    result = await runJob<TrlExportResult>('run.export', { config, outDir: bundle });
  });

  it('writes DRIFT’s data files in their shapes, with TRL’s conversational messages', async () => {
    expect(result.counts['dsat']).toBeGreaterThanOrEqual(3);
    expect(result.counts['seedPairs']).toBeGreaterThanOrEqual(2);
    const dsat = await jsonl(join(bundle, 'data/dsat_data.jsonl'));
    expect(dsat).toHaveLength(result.counts['dsat']!);
    for (const row of dsat) {
      expect(Object.keys(row)).toEqual(['prompt', 'rejected', 'user_preference']);
      expect(row).toEqual({
        prompt: expect.arrayContaining([message]),
        rejected: assistantTurn,
        user_preference: { role: 'user', content: expect.any(String) },
      });
    }
    const seedTest = await jsonl(join(bundle, 'data/seed-data/test.jsonl'));
    const seedTrain = await jsonl(join(bundle, 'data/seed-data/train.jsonl'));
    expect(seedTest).toHaveLength(1);
    expect(seedTest.length + seedTrain.length).toBe(result.counts['seedPairs']);
    for (const row of [...seedTest, ...seedTrain]) {
      expect(Object.keys(row)).toEqual(['prompt', 'chosen', 'rejected']);
      expect(row).toEqual({
        prompt: expect.arrayContaining([message]),
        chosen: assistantTurn,
        rejected: assistantTurn,
      });
    }
    const geo = [...seedTest, ...seedTrain].find((row) => JSON.stringify(row).includes('Australia'));
    expect(geo).toMatchObject({ chosen: [{ content: 'Canberra.' }], rejected: [{ content: 'Sydney.' }] });
    for (const row of await jsonl(join(bundle, 'data/sat_data.jsonl'))) {
      expect(row).toEqual({ prompt: expect.arrayContaining([message]), chosen: assistantTurn });
    }
  });

  it('names the base model by the hub id of the cache folder it came from', () => {
    expect(result.baseModel).toEqual({ kind: 'hub', reference: 'acme/tiny-chat' });
  });

  it('writes per-iteration DPO configs for TRL’s current API (loss_type + loss_weights, no rpo_alpha)', async () => {
    const manifest = JSON.parse(await readFile(join(bundle, 'bundle.json'), 'utf8')) as {
      plan: { iteration: number; kind: string; policy: unknown }[];
    };
    expect(manifest.plan.map((step) => [step.iteration, step.kind])).toEqual([
      [0, 'train-fixed'],
      [1, 'generate'],
      [2, 'generate'],
    ]);
    const seed = readYaml(join(bundle, 'configs/dpo/iter-0.yaml'));
    expect(seed['drift']).toMatchObject({
      model: { kind: 'hub', reference: 'acme/tiny-chat' },
      train_file: 'data/seed-data/train.jsonl',
    });
    expect(seed['dpo']).toMatchObject({ num_train_epochs: 3, beta: 0.1, output_dir: 'outputs/iter-0' });
    const second = readYaml(join(bundle, 'configs/dpo/iter-2.yaml'));
    expect(second['drift']).toMatchObject({
      model: { kind: 'path', reference: 'outputs/iter-1' },
      train_file: 'work/iter-2/train.jsonl',
      eval_file: 'work/iter-2/test.jsonl',
      max_prompt_length: 384,
    });
    expect(second['dpo']).toMatchObject({
      loss_type: ['sigmoid', 'sft'],
      loss_weights: [1, 0.001],
      optim: 'rmsprop',
      lr_scheduler_type: 'linear',
      num_train_epochs: 1,
      bf16: true,
      seed: 42,
    });
    expect(second['dpo']).not.toHaveProperty('rpo_alpha');
    expect(second['dpo']).not.toHaveProperty('max_prompt_length');
    expect(readYaml(join(bundle, 'configs/accelerate/zero3.yaml'))).toMatchObject({
      distributed_type: 'DEEPSPEED',
      deepspeed_config: { zero_stage: 3, zero3_save_16bit_model: true },
      num_processes: 8,
    });
    expect(readYaml(join(bundle, 'configs/accelerate/fsdp.yaml'))).toMatchObject({
      distributed_type: 'FSDP',
      fsdp_config: { fsdp_sharding_strategy: 'FULL_SHARD', fsdp_state_dict_type: 'FULL_STATE_DICT' },
    });
    const requirements = await readFile(join(bundle, 'requirements.txt'), 'utf8');
    expect(requirements).toMatch(/^trl==\d+\.\d+\.\d+$/m);
    expect(await readFile(join(bundle, 'slurm/drift.sbatch'), 'utf8')).toContain('drift_driver.py --launcher slurm');
    expect(await readFile(join(bundle, 'README.md'), 'utf8')).toContain('acme/tiny-chat');
  });

  it('ships Python that compiles (python3 -m py_compile on every .py)', async () => {
    const scripts = (await readdir(bundle)).filter((name) => name.endsWith('.py'));
    expect(scripts.sort()).toEqual([
      'drift_data.py',
      'drift_driver.py',
      'drift_generate.py',
      'drift_pairs.py',
      'drift_train.py',
    ]);
    const compiled = python(['-m', 'py_compile', ...scripts], bundle);
    expect(compiled.code, compiled.stderr).toBe(0);
  });

  it('dry-runs: validates the data and prints generation, pairs and accelerate launch per iteration', () => {
    const dry = python(['drift_driver.py', '--dry-run'], bundle);
    expect(dry.code, dry.stderr).toBe(0);
    const lines = dry.stdout.split('\n');
    expect(lines).toContain('== iteration 0 (seed warm start)');
    expect(lines).toContain(
      '[train] accelerate launch --config_file configs/accelerate/zero3.yaml drift_train.py --bundle . --config configs/dpo/iter-0.yaml',
    );
    for (const iteration of [1, 2]) {
      expect(lines).toContain(`== iteration ${iteration} (generate)`);
      const generate = lines.find(
        (line) => line.startsWith('[generate]') && line.includes(`--iteration ${iteration} `),
      );
      expect(generate).toContain(`--policy ${join(bundle, `outputs/iter-${iteration - 1}`)}`);
      expect(
        lines.some(
          (line) => line.startsWith('[pairs] ') && line.endsWith(` drift_pairs.py --bundle . --iteration ${iteration}`),
        ),
      ).toBe(true);
      expect(lines).toContain(
        `[train] accelerate launch --config_file configs/accelerate/zero3.yaml drift_train.py --bundle . --config configs/dpo/iter-${iteration}.yaml`,
      );
    }
    const slurm = python(
      ['drift_driver.py', '--dry-run', '--launcher', 'slurm', '--accelerate-config', 'fsdp'],
      bundle,
    );
    expect(slurm.code, slurm.stderr).toBe(0);
    expect(slurm.stdout).toContain('[train] srun --nodes=$SLURM_NNODES --ntasks-per-node=1 bash -c');
    expect(slurm.stdout).toContain(
      'configs/accelerate/fsdp.yaml --num_machines $SLURM_NNODES --machine_rank $SLURM_PROCID',
    );
  });

  it('refuses data that does not match the schemas, naming the line', async () => {
    const broken = join(root, 'broken');
    await runJob('run.export', { config, outDir: broken });
    const file = join(broken, 'data/dsat_data.jsonl');
    const rows = (await readFile(file, 'utf8')).split('\n');
    rows[1] = JSON.stringify({ prompt: [{ role: 'user', content: 'q' }], rejected: [{ role: 'user', content: 'a' }] });
    await writeFile(file, rows.join('\n'));
    const dry = python(['drift_driver.py', '--dry-run'], broken);
    expect(dry.code).toBe(1);
    expect(dry.stderr).toContain('dsat_data.jsonl:2: rejected[0].role');
    expect(dry.stderr).toContain('dsat_data.jsonl:2: user_preference: not an object');
  });

  it('builds an iteration’s pairs from its generations and holds out the first ones', async () => {
    const dsat = await jsonl(join(bundle, 'data/dsat_data.jsonl'));
    const generations = dsat.map((_, index) => ({
      source_index: index,
      source_id: `id-${index}`,
      role: 'chosen',
      prompt: 'p',
      completion: `better answer ${index}`,
      finish_reason: 'eos',
      score: null,
    }));
    await mkdir(join(bundle, 'work/iter-1'), { recursive: true });
    await writeFile(
      join(bundle, 'work/iter-1/generations.jsonl'),
      generations.map((row) => `${JSON.stringify(row)}\n`).join(''),
    );
    const built = python(['drift_pairs.py', '--iteration', '1'], bundle);
    expect(built.code, built.stderr).toBe(0);
    const test = await jsonl(join(bundle, 'work/iter-1/test.jsonl'));
    const train = await jsonl(join(bundle, 'work/iter-1/train.jsonl'));
    expect(test).toHaveLength(1);
    expect(train).toHaveLength(dsat.length - 1);
    expect(test[0]).toMatchObject({
      prompt: dsat[0]!['prompt'],
      chosen: [{ role: 'assistant', content: 'better answer 0' }],
      rejected: dsat[0]!['rejected'],
    });
  });

  it('copies a base model without a hub id into the bundle, and refuses KTO and a full folder', async () => {
    const copied = await runJob<TrlExportResult>('run.export', {
      config,
      outDir: join(root, 'copied'),
      baseModel: { kind: 'copy' },
    });
    expect(copied.baseModel).toEqual({ kind: 'path', reference: 'base-model' });
    expect(copied.files.map((file) => file.path)).toEqual(
      expect.arrayContaining(['base-model/config.json', 'base-model/model.safetensors']),
    );
    const kto = RunConfig.parse({ ...config, hyperparameters: { loss: 'kto' } });
    await expect(runJob('run.export', { config: kto, outDir: join(root, 'kto') })).rejects.toMatchObject({
      code: 'export_unsupported',
    });
    await expect(runJob('run.export', { config, outDir: bundle })).rejects.toMatchObject({
      code: 'export_target_not_empty',
    });
  });
});

/** What the driver leaves on a cluster: an HF folder, trainer_state.json and drift_done.json per iteration. */
async function simulateCluster(bundle: string, iterations: number[]): Promise<void> {
  for (const iteration of iterations) {
    const folder = join(bundle, 'outputs', `iter-${iteration}`);
    const model = createModel(TINY, { seed: 10 + iteration });
    await saveHfModel(model, folder);
    model.dispose();
    const train = (step: number) => ({
      loss: 0.69 - 0.1 * step,
      grad_norm: 1.5,
      learning_rate: 5e-5,
      'rewards/chosen': 0.02 * step,
      'rewards/rejected': -0.01 * step,
      'rewards/accuracies': 0.5 + 0.25 * step,
      'rewards/margins': 0.03 * step,
      'logps/chosen': -40,
      'logps/rejected': -55,
      'logits/chosen': -1,
      'logits/rejected': -1.2,
      epoch: step / 2,
      step,
    });
    const state = {
      global_step: 2,
      max_steps: 2,
      log_history: [
        train(1),
        train(2),
        {
          eval_loss: 0.6,
          'eval_rewards/chosen': 0.05,
          'eval_rewards/rejected': -0.03,
          'eval_rewards/accuracies': 1,
          'eval_rewards/margins': 0.08,
          'eval_logps/chosen': -38,
          'eval_logps/rejected': -60,
          eval_runtime: 0.5,
          epoch: 1,
          step: 2,
        },
        { train_runtime: 20, train_loss: 0.54, epoch: 1, step: 2 },
      ],
    };
    await writeFile(join(folder, 'trainer_state.json'), JSON.stringify(state));
    await writeFile(
      join(folder, 'drift_done.json'),
      JSON.stringify({
        iteration,
        globalStep: 2,
        trainPairs: 3,
        testPairs: 1,
        finishedAt: `2026-05-0${iteration + 1}T12:00:00.000Z`,
        versions: { trl: '1.9.0', torch: '2.8.0' },
      }),
    );
  }
}

describe('run.import', () => {
  it('refuses a bundle with no finished iteration', async () => {
    const empty = join(root, 'unfinished');
    await runJob('run.export', { config, outDir: empty });
    await expect(runJob('run.import', { dir: empty })).rejects.toMatchObject({ code: 'run_import_invalid' });
    await expect(runJob('run.import', { dir: join(root, 'nothing-here') })).rejects.toMatchObject({
      code: 'run_import_invalid',
    });
  });

  it('reads checkpoints and trainer logs back as a run with metrics, pairs and models', async () => {
    const bundle = join(root, 'bundle');
    await simulateCluster(bundle, [0, 1, 2]);
    const imported = await runJob<RunImportResult>('run.import', { dir: bundle });
    expect(imported).toMatchObject({ runId: 'drift-cluster-trl', status: 'succeeded', metricRows: 9 });
    expect(imported.iterations.map((item) => [item.iteration, item.steps, item.modelId])).toEqual([
      [0, 2, 'drift-cluster-trl-seed'],
      [1, 2, 'drift-cluster-trl-iter-1'],
      [2, 2, 'drift-cluster-trl-iter-2'],
    ]);

    const folder = join(workspace, 'runs', imported.runId);
    const run = RunFile.parse(JSON.parse(await readFile(join(folder, 'run.json'), 'utf8')));
    expect(run).toMatchObject({
      status: 'succeeded',
      datasetId: 'chats',
      config: { method: 'drift', pairSet: 'gold' },
    });
    expect(run.environment).toMatchObject({ engine: 'trl', trl: '1.9.0' });
    expect(run.notes.join('\n')).toMatch(/kl is the mean sequence log-ratio/);

    const rows = (await jsonl(join(folder, 'metrics.jsonl'))).map((row) => RunMetricRow.parse(row));
    expect(rows.map((row) => [row.type, row.iteration, row.step])).toEqual([
      ['train', 0, 1],
      ['train', 0, 2],
      ['eval', 0, 2],
      ['train', 1, 3],
      ['train', 1, 4],
      ['eval', 1, 4],
      ['train', 2, 5],
      ['train', 2, 6],
      ['eval', 2, 6],
    ]);
    const second = rows[1]!;
    expect(second).toMatchObject({
      loss: expect.closeTo(0.49),
      'rewards/chosen': 0.04,
      'rewards/margins': 0.06,
      grad_norm: 1.5,
      epoch: 1,
    });
    expect(second.kl).toBeCloseTo((0.04 - 0.02) / (2 * 0.1));
    expect(second.gradientWeight.mean).toBeCloseTo(1 / (1 + Math.exp(0.06)));
    expect(second.gradientWeight.histogram).toEqual(Array(10).fill(0));
    expect(rows[2]).toMatchObject({ loss: 0.6, 'rewards/margins': 0.08, 'logps/rejected': -60 });
    expect(rows[4]!.seconds).toBeCloseTo(40);
    expect(
      rows.every((row) => Object.values(row).every((value) => typeof value !== 'number' || Number.isFinite(value))),
    ).toBe(true);

    // The pairs each step trained on: the seed pairs, and the pairs built on the cluster for iteration 1.
    const pairs = (await jsonl(join(folder, 'iter-1', 'pairs.jsonl'))).map((row) => RunPairRow.parse(row));
    expect(pairs[0]).toMatchObject({ split: 'test', chosen: [{ content: 'better answer 0' }] });
    expect((await jsonl(join(folder, 'iter-0', 'pairs.jsonl'))).length).toBeGreaterThanOrEqual(2);
    expect((await jsonl(join(folder, 'samples.jsonl')))[0]).toMatchObject({
      iteration: 1,
      role: 'chosen',
      completion: 'better answer 0',
    });

    // Registered: the run and its models, readable through the same channels as a local run.
    const models = await call<ModelEntry[]>('model:list', {});
    expect(
      models
        .filter((model) => model.runId === imported.runId)
        .map((model) => model.id)
        .sort(),
    ).toEqual(['drift-cluster-trl-iter-1', 'drift-cluster-trl-iter-2', 'drift-cluster-trl-seed']);
    const detail = await call<{ status: string; iterations: unknown[] }>('run:get', { id: imported.runId });
    expect(detail).toMatchObject({ status: 'succeeded' });
    expect(detail.iterations).toHaveLength(3);
    const metrics = await call<{ rows: unknown[] }>('run:metrics', { id: imported.runId });
    expect(metrics.rows).toHaveLength(9);

    // Importing again makes a second run, not a clash.
    const again = await runJob<RunImportResult>('run.import', { dir: bundle, models: false });
    expect(again.runId).toBe('drift-cluster-trl-2');
    expect(again.iterations.every((item) => item.modelId === null)).toBe(true);
  }, 120_000);
});
