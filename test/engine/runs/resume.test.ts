/**
 * Interrupting a run and resuming it: a crash mid-phase (rows past the checkpoint are dropped and
 * retrained), a cancel during generation (the partial samples are dropped and regenerated), and
 * the resumed run ends with the rows, pairs, samples and weights of an uninterrupted one. A
 * cancellation stops within one batch, keeps a valid checkpoint of the step it reached and leaves
 * the run paused; a cancel asked through stop-request.json leaves it cancelled for good.
 */
import { readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppFailure, RunTrainResult } from '../../../src-main/api/index.js';
import { selectBackend } from '../../../src-main/engine/backend.js';
import { RunFile, writeStopRequest } from '../../../src-main/engine/runs/files.js';
import { trainRun } from '../../../src-main/engine/runs/job.js';
import { findLatestCheckpoint } from '../../../src-main/engine/train/checkpoint.js';
import { fakeContext, removeWorkspaces, runWorkspace, tinyRunConfig } from './helpers.js';

let workspace: string;
const folder = (runId: string) => path.join(workspace, 'runs', runId);
const readRun = async (runId: string) =>
  RunFile.parse(JSON.parse(await readFile(path.join(folder(runId), 'run.json'), 'utf8')));
const lines = async (file: string) =>
  (await readFile(file, 'utf8'))
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
/** metrics.jsonl without the wall-clock fields. */
const metrics = async (runId: string) =>
  (await lines(path.join(folder(runId), 'metrics.jsonl'))).map(({ seconds: _seconds, time: _time, ...row }) => row);
const failure = async (work: Promise<unknown>) => {
  const error = await work.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(AppFailure);
  return error as AppFailure;
};

beforeAll(async () => {
  await selectBackend('wasm');
  workspace = await runWorkspace();
  await trainRun({ config: tinyRunConfig({ name: 'reference run' }), runId: 'whole' }, fakeContext(workspace));
});
afterAll(removeWorkspaces);

describe('resuming a run', () => {
  it('after a crash mid-phase and a cancel mid-generation, ends exactly as the uninterrupted run', async () => {
    const config = tinyRunConfig({ name: 'interrupted run' });
    // 1. The process dies right after step 7 (iteration 1's third step) was logged; the last checkpoint is step 6.
    const crash = await trainRun(
      { config, runId: 'broken' },
      fakeContext(workspace, (output) => {
        if (output.type === 'run-metric' && output.row.step === 7) throw new Error('power cut');
      }),
    ).then(
      () => new Error('it did not crash'),
      (error: unknown) => error as Error,
    );
    expect(crash.message).toBe('power cut');
    expect((await metrics('broken')).at(-1)).toMatchObject({ type: 'train', iteration: 1, step: 7 });
    expect((await findLatestCheckpoint(path.join(folder('broken'), 'checkpoints'))).checkpoint?.step).toBe(6);
    // A killed process leaves run.json saying it runs (nothing settled it).
    const died = await readRun('broken');
    await writeFile(path.join(folder('broken'), 'run.json'), JSON.stringify({ ...died, status: 'running' }));

    // 2. Resumed, then cancelled as soon as iteration 2 has sampled its first batch.
    const second = fakeContext(workspace, (output, controller) => {
      if (output.type === 'run-samples' && output.rows[0]?.iteration === 2) controller.abort();
    });
    expect((await failure(trainRun({ runId: 'broken', resume: true }, second))).code).toBe('job_cancelled');
    // It dropped step 7 (past the checkpoint): seed rows 1-4, the seed eval row, steps 5 and 6.
    expect(second.outputs[0]).toEqual({ type: 'run-started', runId: 'broken', resumed: true, metricRows: 7 });
    expect(second.outputs.find((output) => output.type === 'run-metric')).toMatchObject({ row: { step: 7 } });
    const paused = await readRun('broken');
    expect(paused).toMatchObject({ status: 'paused', jobId: null, position: { iteration: 2, phase: 'generate' } });
    // Its pairs were never written (they are written whole), so the samples of its first batch are dropped on resume.
    expect(await readdir(folder('broken'))).not.toContain('iter-2');
    expect(
      (await lines(path.join(folder('broken'), 'samples.jsonl'))).filter((row) => row['iteration'] === 2),
    ).toHaveLength(8);

    // 3. Resumed to the end.
    const last = fakeContext(workspace);
    const result = RunTrainResult.parse(await trainRun({ runId: 'broken', resume: true }, last));
    expect(result.status).toBe('succeeded');
    expect(last.outputs[0]).toMatchObject({ type: 'run-started', resumed: true, metricRows: 12 });
    const finished = await readRun('broken');
    expect(finished.notes).toEqual(
      expect.arrayContaining(['Resumed phase 1 at step 6.', 'Resumed at the start of phase 2.']),
    );

    expect(await metrics('broken')).toEqual(await metrics('whole'));
    for (const file of ['samples.jsonl', 'iter-0/pairs.jsonl', 'iter-1/pairs.jsonl', 'iter-2/pairs.jsonl']) {
      expect(await lines(path.join(folder('broken'), file)), file).toEqual(
        await lines(path.join(folder('whole'), file)),
      );
    }
    for (const iteration of [0, 1, 2]) {
      const weights = (runId: string) =>
        readFile(path.join(folder(runId), `iter-${iteration}`, 'model', 'model.safetensors'));
      expect(Buffer.compare(await weights('broken'), await weights('whole')), `iteration ${iteration}`).toBe(0);
    }
    expect(finished.iterations.map(({ finishedAt: _at, modelId: _id, ...summary }) => summary)).toEqual(
      (await readRun('whole')).iterations.map(({ finishedAt: _at, modelId: _id, ...summary }) => summary),
    );
  });

  it('stops within one batch when cancelled, saving the step it reached, and resumes from it', async () => {
    let abortedAt = 0;
    const context = fakeContext(workspace, (output, controller) => {
      if (output.type === 'run-metric' && output.row.step === 1) {
        abortedAt = performance.now();
        controller.abort();
      }
    });
    const error = await failure(trainRun({ config: tinyRunConfig({ name: 'stopped' }), runId: 'stopped' }, context));
    expect(error.code).toBe('job_cancelled');
    expect(performance.now() - abortedAt).toBeLessThan(2000);
    expect(await readRun('stopped')).toMatchObject({ status: 'paused', position: { iteration: 0, step: 1 } });
    // The pause saved step 1 (checkpointEvery is 2): nothing trained is lost.
    const search = await findLatestCheckpoint(path.join(folder('stopped'), 'checkpoints'));
    expect(search.checkpoint?.step).toBe(1);
    expect(search.skipped).toEqual([]);

    // Another process asks the resumed run to cancel (stop-request.json): it stops after its step, cancelled for good.
    const resumed = fakeContext(workspace, (output) => {
      if (output.type === 'run-metric' && output.row.step === 2) void writeStopRequest(folder('stopped'), 'cancel');
    });
    expect((await failure(trainRun({ runId: 'stopped', resume: true }, resumed))).code).toBe('job_cancelled');
    const cancelled = await readRun('stopped');
    expect(cancelled.status).toBe('cancelled');
    expect(cancelled.position.step).toBeGreaterThanOrEqual(2);
    expect(resumed.outputs[0]).toMatchObject({ type: 'run-started', resumed: true, metricRows: 1 });
    const again = await failure(trainRun({ runId: 'stopped', resume: true }, fakeContext(workspace)));
    expect(again.code).toBe('run_state_conflict');
  });
});
