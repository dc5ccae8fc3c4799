import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppFailure, ModelImportResult, dispatch, type Handlers } from '../../../src-main/api/index.js';
import { RewardModel, loadRewardModel } from '../../../src-main/engine/eval/reward-model.js';
import type { Engine } from '../../../src-main/engine/index.js';
import { openEngine } from '../../../src-main/engine/index.js';
import { createModel, loadHfModel } from '../../../src-main/engine/model/model.js';
import { inspectModelFolder } from '../../../src-main/engine/model/store.js';
import { tinyLlama, toyTokenizer, writeSequenceClassificationFolder } from '../eval/helpers.js';
import { TINY_LLAMA, useBackend } from './helpers.js';

let root: string;
let rewardFolder: string;
/** Weights the reward model holds: the decoder (no lm_head) and the score head. */
let rewardParameters: number;

beforeAll(async () => {
  await useBackend('wasm');
  root = await mkdtemp(path.join(os.tmpdir(), 'drift-reward-folder-'));
  rewardFolder = path.join(root, 'tiny-reward');
  const tokenizer = toyTokenizer();
  // Untied embeddings: the causal decoder has an lm_head, which a reward folder must not hold or count.
  const backbone = createModel(tinyLlama(tokenizer.vocabSize, { tie: false }), { seed: 1 });
  const reward = RewardModel.create(backbone, tokenizer, { seed: 2 });
  rewardParameters = [...reward.parameters()]
    .filter(([name]) => name !== 'lm_head.weight')
    .reduce((sum, [, variable]) => sum + variable.size, 0);
  await reward.save(rewardFolder);
  reward.dispose();
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function failureOf(work: Promise<unknown>): Promise<AppFailure> {
  const failure = await work.then(
    () => null,
    (error: unknown) => error,
  );
  expect(failure).toBeInstanceOf(AppFailure);
  return failure as AppFailure;
}

describe('a reward model folder (*ForSequenceClassification)', () => {
  it('inspects as a reward model: its class name, role and weights with the score head and no lm_head', async () => {
    const { summary, configJson } = await inspectModelFolder(rewardFolder);
    expect(summary).toMatchObject({
      architecture: 'LlamaForSequenceClassification',
      modelType: 'llama',
      role: 'reward',
      dtype: 'float32',
      hiddenSize: 32,
      layers: 1,
    });
    expect(summary.tokenizer).not.toBeNull();
    expect(summary.parameters).toBe(rewardParameters);
    const loaded = await loadRewardModel(rewardFolder);
    expect([...loaded.parameters().values()].reduce((sum, variable) => sum + variable.size, 0)).toBe(
      summary.parameters,
    );
    loaded.dispose();
    expect(configJson['architectures']).toEqual(['LlamaForSequenceClassification']);

    const policy = await inspectModelFolder(TINY_LLAMA);
    expect(policy.summary).toMatchObject({ architecture: 'LlamaForCausalLM', role: 'policy' });
  });

  it('is refused as a causal language model, with a hint that it is a reward model', async () => {
    const failure = await failureOf(loadHfModel(rewardFolder));
    expect(failure.code).toBe('model_unsupported_architecture');
    expect(failure.message).toMatch(/LlamaForSequenceClassification.*reward model/);
    expect(failure.details).toMatchObject({ role: 'reward', architecture: 'LlamaForSequenceClassification' });
  });
});

let engine: Engine;
let workspace: string;

const handlers = (): Handlers => ({
  ...engine.handlers,
  'dialog:open': async () => ({ canceled: true, paths: [] }),
  'link:open': async () => ({ opened: false }),
});

describe('model channels and jobs with a reward model', () => {
  beforeAll(async () => {
    workspace = path.join(root, 'workspace');
    await mkdir(workspace);
    engine = await openEngine({ workspaceDir: workspace, host: 'cli' });
  });
  afterAll(async () => {
    await engine.close();
  });

  it('imports it with role reward; model:get and model:inspect read it; generation refuses it', async () => {
    const job = await engine.runJob('model.import', { path: rewardFolder, name: 'Tiny reward' });
    expect(job.status, JSON.stringify(job.error)).toBe('succeeded');
    const result = ModelImportResult.parse(job.result);
    expect(result.summary.role).toBe('reward');
    expect(result.entry).toMatchObject({
      id: 'tiny-reward',
      architecture: 'LlamaForSequenceClassification',
      role: 'reward',
      parameters: rewardParameters,
      origin: 'imported',
    });

    const listed = await dispatch(handlers(), 'model:list', {});
    expect(listed.ok && listed.value).toEqual([expect.objectContaining({ id: 'tiny-reward', role: 'reward' })]);
    const got = await dispatch(handlers(), 'model:get', { id: 'tiny-reward' });
    expect(got.ok, JSON.stringify(got)).toBe(true);
    expect(got.ok && got.value).toMatchObject({
      entry: { role: 'reward' },
      config: { architectures: ['LlamaForSequenceClassification'] },
      tokenizer: { hasChatTemplate: expect.any(Boolean) },
      files: expect.arrayContaining([expect.objectContaining({ name: 'model.safetensors' })]),
    });
    const inspected = await dispatch(handlers(), 'model:inspect', { path: rewardFolder });
    expect(inspected.ok && inspected.value).toMatchObject({
      architecture: 'LlamaForSequenceClassification',
      role: 'reward',
      path: rewardFolder,
    });

    // The imported copy still loads as a reward model.
    (await loadRewardModel(path.join(workspace, 'models', 'tiny-reward'))).dispose();

    const generation = await engine.runJob('model.generate', { model: 'tiny-reward', prompts: ['Tell me'] });
    expect(generation.status).toBe('failed');
    expect(generation.error?.code).toBe('model_unsupported_architecture');
    expect(generation.error?.message).toMatch(/reward model/);
  });

  it('checks a reward folder with the reward loader: one without its score head is not imported', async () => {
    const broken = path.join(root, 'no-score');
    await mkdir(broken);
    const tokenizer = toyTokenizer();
    const { causal } = await writeSequenceClassificationFolder(broken, tinyLlama(tokenizer.vocabSize), tokenizer, {
      omitScore: true,
    });
    causal.dispose();
    const job = await engine.runJob('model.import', { path: broken, name: 'No score' });
    expect(job.status).toBe('failed');
    expect(job.error?.code).toBe('model_weights_mismatch');
    expect(await readdir(path.join(workspace, 'models'))).toEqual(['tiny-reward']);
  });
});
