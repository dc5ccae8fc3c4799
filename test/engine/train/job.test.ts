import { mkdir, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  GenerateTokenOutput,
  ModelGenerateResult,
  ModelTrainSftResult,
  TrainMetricsOutput,
  dispatch,
  type Handlers,
  type ModelEntry,
} from '../../../src-main/api/index.js';
import type { Engine } from '../../../src-main/engine/index.js';
import { openEngine } from '../../../src-main/engine/index.js';
import { arithmeticRecords, removeTempFolders, tempFolder } from './helpers.js';

let workspace: string;
let engine: Engine;

/** The engine's handlers plus stand-ins for the host channels, as a host would pass to dispatch. */
const handlers = (): Handlers => ({
  ...engine.handlers,
  'dialog:open': async () => ({ canceled: true, paths: [] }),
  'link:open': async () => ({ opened: false }),
});

beforeAll(async () => {
  workspace = await tempFolder('drift-train-job-');
  // A dataset folder as the import writes it: conversations.jsonl of canonical conversations.
  const dataset = path.join(workspace, 'datasets', 'sums');
  await mkdir(dataset, { recursive: true });
  const lines = arithmeticRecords(12).map((record, index) =>
    JSON.stringify({
      id: `c${index}`,
      source: { file: 'sums.jsonl', line: index + 1, byteOffset: 0 },
      format: 'openai',
      messages: 'messages' in record ? record.messages.map((message, turn) => ({ ...message, turn })) : [],
    }),
  );
  await writeFile(path.join(dataset, 'conversations.jsonl'), `${lines.join('\n')}\n`);
  engine = await openEngine({ workspaceDir: workspace, host: 'cli' });
});
afterAll(async () => {
  await engine.close();
  await removeTempFolders();
});

describe('model.train-sft and model.generate jobs', () => {
  it('trains on a workspace dataset, streams metrics, and registers the model and the run', async () => {
    const outputs: unknown[] = [];
    const unsubscribe = engine.on('job:output', ({ data }) => outputs.push(data));
    const job = await engine.runJob('model.train-sft', {
      preset: 'tiny',
      datasetId: 'sums',
      outputName: 'Sums tiny',
      hyperparameters: { maxSteps: 4, batchSize: 4, learningRate: 3e-3, optimizer: 'rmsprop', schedule: 'cosine' },
      threads: 1,
    });
    unsubscribe();
    expect(job.status, JSON.stringify(job.error)).toBe('succeeded');
    // The result and the streamed pieces match the contract's schemas.
    const result = ModelTrainSftResult.parse(job.result);
    expect(result).toMatchObject({ runId: 'sums-tiny', modelId: 'sums-tiny', steps: 4, datasetId: 'sums', threads: 1 });
    const metrics = outputs.map((data) => TrainMetricsOutput.parse(data));
    expect(metrics.map((point) => point.step)).toEqual([1, 2, 3, 4]);
    expect(result.finalLoss).toBe(metrics[3]?.loss);
    const models = await dispatch(handlers(), 'model:list', {});
    expect(models.ok && models.value).toContainEqual(
      expect.objectContaining({
        id: 'sums-tiny',
        origin: 'trained',
        runId: 'sums-tiny',
        baseModel: 'preset:tiny',
        tokenizer: expect.objectContaining({ eosToken: '<|im_end|>', hasChatTemplate: true }),
      }),
    );
    const runs = await dispatch(handlers(), 'run:list', {});
    expect(runs.ok && runs.value).toContainEqual(
      expect.objectContaining({ id: 'sums-tiny', method: 'sft', status: 'succeeded', datasetId: 'sums' }),
    );
    expect(await readdir(path.join(workspace, 'runs', 'sums-tiny', 'checkpoints'))).toContain('step-000000004');
  });

  it('generates from the trained model, streaming {row, token, text} pieces that add up to each completion', async () => {
    const pieces = new Map<number, string>();
    const unsubscribe = engine.on('job:output', ({ data }) => {
      const { row, text } = GenerateTokenOutput.parse(data);
      pieces.set(row, (pieces.get(row) ?? '') + text);
    });
    const job = await engine.runJob('model.generate', {
      model: 'sums-tiny',
      prompts: ['What is 2 plus 3?', [{ role: 'user', content: 'What is 5 plus 1?' }]],
      chat: true,
      maxNewTokens: 12,
      temperature: 0.8,
      topK: 20,
      seed: 4,
    });
    unsubscribe();
    expect(job.status, JSON.stringify(job.error)).toBe('succeeded');
    const result = ModelGenerateResult.parse(job.result);
    expect(result.completions).toHaveLength(2);
    result.completions.forEach((completion, row) => expect(pieces.get(row) ?? '').toBe(completion.text));
    expect(result.tokens).toBe(result.completions.reduce((sum, completion) => sum + completion.completionTokens, 0));
  });

  it('refuses bad params with job_invalid_params', async () => {
    const both = await engine.runJob('model.train-sft', { preset: 'tiny', model: 'x', datasetId: 'sums' });
    expect(both.error?.code).toBe('job_invalid_params');
    const none = await engine.runJob('model.generate', { model: 'sums-tiny', prompts: [] });
    expect(none.error?.code).toBe('job_invalid_params');
  });

  it('stops a cancelled training between steps, leaving only complete checkpoints', async () => {
    const controller = new AbortController();
    const job = await engine.runJob(
      'model.train-sft',
      {
        preset: 'tiny',
        datasetId: 'sums',
        outputName: 'cancelled',
        hyperparameters: { epochs: 200, batchSize: 2, checkpointEvery: 3 },
        threads: 1,
      },
      {
        onUpdate: (update) => {
          if (update.progress.phase === 'training' && update.progress.done >= 4) controller.abort();
        },
        signal: controller.signal,
      },
    );
    expect(job.status).toBe('cancelled');
    const checkpoints = await readdir(path.join(workspace, 'runs', 'cancelled', 'checkpoints'));
    expect(checkpoints.filter((name) => name.startsWith('.'))).toEqual([]);
    expect(checkpoints).toContain('step-000000003');
    const models = await dispatch(handlers(), 'model:list', {});
    expect(models.ok && (models.value as ModelEntry[]).some((model) => model.id === 'cancelled')).toBe(false);
  });
});
