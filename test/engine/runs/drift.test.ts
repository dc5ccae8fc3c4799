/**
 * A two-iteration DRIFT run of the `run.train` handler, in-process on the tiny fixture: the run
 * folder it writes (run.json, metrics, samples, pairs, models, checkpoints), the streamed outputs,
 * that the held-out DSAT responses lose likelihood against the reference while the margin grows,
 * and that no tensor outlives the run.
 */
import { readFile, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RunMetricRow, RunPairRow, RunSampleRow, RunTrainResult } from '../../../src-main/api/index.js';
import { selectBackend } from '../../../src-main/engine/backend.js';
import { tf } from '../../../src-main/engine/compute/tf.js';
import { defaultThreads } from '../../../src-main/engine/compute/threads.js';
import { RunFile } from '../../../src-main/engine/runs/files.js';
import { trainRun } from '../../../src-main/engine/runs/job.js';
import { findLatestCheckpoint } from '../../../src-main/engine/train/checkpoint.js';
import { fakeContext, removeWorkspaces, runWorkspace, sumPairs, tinyRunConfig } from './helpers.js';

let workspace: string;
let context: ReturnType<typeof fakeContext>;
let result: RunTrainResult;
let tensorsBefore: number;
let tensorsAfter: number;
const runFolder = () => path.join(workspace, 'runs', 'tiny-drift');
const jsonLines = async (file: string) =>
  (await readFile(file, 'utf8'))
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as unknown);

beforeAll(async () => {
  await selectBackend('wasm');
  workspace = await runWorkspace();
  context = fakeContext(workspace);
  tensorsBefore = tf.memory().numTensors;
  result = RunTrainResult.parse(await trainRun({ config: tinyRunConfig() }, context));
  tensorsAfter = tf.memory().numTensors;
});
afterAll(removeWorkspaces);

describe('a DRIFT run', () => {
  it('trains the seed warm start and two iterations, each saved as a workspace model', async () => {
    expect(result).toMatchObject({
      runId: 'tiny-drift',
      status: 'succeeded',
      modelIds: ['tiny-drift-seed', 'tiny-drift-iter1', 'tiny-drift-iter2'],
    });
    const run = RunFile.parse(JSON.parse(await readFile(path.join(runFolder(), 'run.json'), 'utf8')));
    expect(run).toMatchObject({
      status: 'succeeded',
      jobId: null,
      error: null,
      position: { iteration: 2, phase: 'done', step: 16 },
      datasetId: 'sums',
      environment: { backend: 'cpu', seed: '7' },
    });
    // The full resolved config: the reference pinned to its version, every default filled in.
    expect(run.config).toMatchObject({ pairSet: 'sums@v1', judge: { kind: 'likelihood' }, candidates: 2 });
    expect(run.config.hyperparameters).toMatchObject({ beta: 0.1, loss: 'sigmoid', schedule: 'linear' });
    expect(run.config.generation).toMatchObject({ guided: true, temperature: 0.7, topP: 0.9, samples: 1 });
    expect(run.notes.some((note) => note.includes('learning rate 0.003'))).toBe(true);
    expect(
      run.iterations.map((summary) => [summary.iteration, summary.pairs, summary.testPairs, summary.steps]),
    ).toEqual([
      [0, 8, 2, 4],
      [1, 16, 4, 6],
      [2, 16, 4, 6],
    ]);
    for (const summary of run.iterations) {
      for (const folder of [
        path.join(runFolder(), `iter-${summary.iteration}`, 'model'),
        path.join(workspace, 'models', summary.modelId as string),
      ]) {
        expect((await readdir(folder)).sort()).toEqual(
          expect.arrayContaining(['config.json', 'model.safetensors', 'tokenizer.json', 'generation_config.json']),
        );
      }
      // The workspace model shares the run's bytes (a hard link on this file system).
      const [inRun, inModels] = await Promise.all([
        stat(path.join(runFolder(), `iter-${summary.iteration}`, 'model', 'model.safetensors')),
        stat(path.join(workspace, 'models', summary.modelId as string, 'model.safetensors')),
      ]);
      expect(inModels.ino).toBe(inRun.ino);
    }
    const checkpoint = await findLatestCheckpoint(path.join(runFolder(), 'checkpoints'));
    expect(checkpoint.checkpoint?.step).toBe(16);
  });

  it('writes a metrics row per step and an eval row per phase, and streams each as it is written', async () => {
    const rows = (await jsonLines(path.join(runFolder(), 'metrics.jsonl'))).map((row) => RunMetricRow.parse(row));
    const train = rows.filter((row) => row.type === 'train');
    expect(train.map((row) => row.step)).toEqual(Array.from({ length: 16 }, (_, index) => index + 1));
    expect(train.map((row) => row.iteration)).toEqual([0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2]);
    const evals = rows.filter((row) => row.type === 'eval');
    expect(evals.map((row) => [row.iteration, row.step])).toEqual([
      [0, 4],
      [1, 10],
      [2, 16],
    ]);
    const outputs = context.outputs;
    const streamed = outputs.flatMap((output) => (output.type === 'run-metric' ? [output.row] : []));
    expect(streamed).toEqual(rows);
    expect(outputs.filter((output) => output.type === 'phase-finished').map((output) => output.iteration)).toEqual([
      0, 1, 2,
    ]);
    expect(outputs[0]).toEqual({ type: 'run-started', runId: 'tiny-drift', resumed: false, metricRows: 0 });
    for (const phase of ['seed: train', 'iteration 1: generate', 'iteration 1: reference', 'iteration 2: evaluate']) {
      expect(context.phases).toContain(phase);
    }
    // The sampling phases decode on the generation pool: one thread per core (up to 4) here.
    const threads = defaultThreads();
    expect(context.messages).toContain(
      `iteration 1: generate: prompts sampled on ${threads === 1 ? '1 thread' : `${threads} threads`}`,
    );
  });

  it('lowers the held-out DSAT responses’ likelihood against the reference and raises the held-out margin', async () => {
    const evals = (await jsonLines(path.join(runFolder(), 'metrics.jsonl')))
      .map((row) => RunMetricRow.parse(row))
      .filter((row) => row.type === 'eval' && row.iteration > 0);
    // Before training a phase the policy is its reference: every reward and margin is 0.
    for (const row of evals) {
      expect(row['rewards/rejected']).toBeLessThan(-0.05);
      expect(row['rewards/margins']).toBeGreaterThan(0.2);
      expect(row['rewards/accuracies']).toBeGreaterThan(0.5);
      expect(row.loss).toBeLessThan(Math.log(2));
    }
  });

  it('pairs each DSAT record’s logged response (rejected) with a guided sample of the policy (chosen)', async () => {
    const seed = (await jsonLines(path.join(runFolder(), 'iter-0', 'pairs.jsonl'))).map((row) => RunPairRow.parse(row));
    const seedRecords = sumPairs().filter((pair) => pair.chosen !== undefined);
    expect(seed.map((pair) => pair.chosen[0]?.content)).toEqual(seedRecords.map((pair) => pair.chosen?.content));
    expect(seed.map((pair) => pair.split)).toEqual(['test', 'test', ...Array<string>(6).fill('train')]);

    const samples = (await jsonLines(path.join(runFolder(), 'samples.jsonl'))).map((row) => RunSampleRow.parse(row));
    for (const iteration of [1, 2]) {
      const pairs = (await jsonLines(path.join(runFolder(), `iter-${iteration}`, 'pairs.jsonl'))).map((row) =>
        RunPairRow.parse(row),
      );
      const records = sumPairs();
      expect(pairs.map((pair) => pair.sourceId)).toEqual(records.map((pair) => pair.id));
      expect(pairs.map((pair) => pair.split)).toEqual([
        ...Array<string>(4).fill('test'),
        ...Array<string>(12).fill('train'),
      ]);
      const mine = samples.filter((sample) => sample.iteration === iteration);
      expect(mine.every((sample) => sample.role === 'chosen' && sample.score === null)).toBe(true);
      pairs.forEach((pair, index) => {
        const record = records[index]!;
        // The training prompt is the plain context; the logged DSAT answer is rejected.
        expect(pair.prompt).toEqual(record.context.map(({ role, content }) => ({ role, content })));
        expect(pair.rejected).toEqual([{ role: 'assistant', content: record.rejected.content }]);
        expect(pair.chosen[0]?.content).toBe(mine[index]?.completion);
        // y⁺ came from gen-drift.py's guided prompt: context, y⁻, feedback, instruction.
        expect(mine[index]?.prompt).toContain(
          `Assistant: ${record.rejected.content}\nUser: ${record.feedback.content}\n`,
        );
        expect(mine[index]?.prompt.endsWith('Assistant: ')).toBe(true);
      });
    }
  });

  it('frees every tensor it made', () => {
    expect(tensorsAfter).toBe(tensorsBefore);
  });
});
