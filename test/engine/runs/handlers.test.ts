/**
 * Runs through the engine as the UI drives them: the run.train job in its worker, the catalog
 * kept in step (the run entry and each phase's model, registered as the phase finishes), the
 * run:* channels' answers checked against the contract, pause and resume, refusals, and a run
 * left running by a dead process found paused when the workspace opens again.
 */
import { readFile, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  RunJobOutput,
  RunTrainResult,
  dispatch,
  type Channel,
  type Handlers,
  type Job,
  type RequestOf,
  type ResponseOf,
} from '../../../src-main/api/index.js';
import { openEngine, type Engine } from '../../../src-main/engine/index.js';
import { findLatestCheckpoint } from '../../../src-main/engine/train/checkpoint.js';
import { removeWorkspaces, runWorkspace, tinyRunConfig } from './helpers.js';

let workspace: string;
let engine: Engine;

const handlers = (): Handlers => ({
  ...engine.handlers,
  'dialog:open': async () => ({ canceled: true, paths: [] }),
  'link:open': async () => ({ opened: false }),
});
/** Calls a channel as a host does, with the responses checked against the contract. */
async function call<C extends Channel>(channel: C, request: RequestOf<C>): Promise<ResponseOf<C>> {
  const result = await dispatch(handlers(), channel, request, { validateResponses: true });
  if (!result.ok) throw Object.assign(new Error(result.error.message), { code: result.error.code });
  return result.value as ResponseOf<C>;
}
const refusal = (channel: Channel, request: unknown) =>
  dispatch(handlers(), channel, request, { validateResponses: true }).then((result) =>
    result.ok ? 'ok' : result.error.code,
  );
/** Resolves with the job once it has finished. */
function finished(jobId: string): Promise<Job> {
  return new Promise((resolve) => {
    const check = (job: Job) => {
      if (job.id === jobId && ['succeeded', 'failed', 'cancelled'].includes(job.status)) {
        unsubscribe();
        resolve(job);
      }
    };
    const unsubscribe = engine.on('job:updated', check);
    void call('job:get', { id: jobId }).then(check);
  });
}

beforeAll(async () => {
  workspace = await runWorkspace();
  engine = await openEngine({ workspaceDir: workspace, host: 'cli' });
});
afterAll(async () => {
  await engine.close();
  await removeWorkspaces();
});

describe('runs through the engine', () => {
  it('runs a job, registering each phase’s model as it finishes, and answers every run channel', async () => {
    const order: string[] = [];
    const offOutput = engine.on('job:output', ({ data }) => {
      const output = RunJobOutput.safeParse(data);
      if (output.success && output.data.type === 'phase-finished') order.push(`phase ${output.data.iteration}`);
    });
    const offCatalog = engine.on('catalog:changed', ({ section }) => {
      if (section === 'models') order.push('models');
    });
    const job = await engine.runJob('run.train', { config: tinyRunConfig({ name: 'engine run', iterations: 1 }) });
    offOutput();
    offCatalog();
    expect(job.status, JSON.stringify(job.error)).toBe('succeeded');
    expect(RunTrainResult.parse(job.result)).toMatchObject({
      runId: 'engine-run',
      status: 'succeeded',
      modelIds: ['engine-run-seed', 'engine-run-iter1'],
    });
    // The seed model was in the catalog before iteration 1 finished.
    expect(order.indexOf('models')).toBeGreaterThan(-1);
    expect(order.indexOf('models')).toBeLessThan(order.indexOf('phase 1'));

    expect(await call('run:list', {})).toContainEqual(
      expect.objectContaining({
        id: 'engine-run',
        method: 'drift',
        status: 'succeeded',
        datasetId: 'sums',
        pairSet: 'sums@v1',
        iterations: 1,
        iterationsDone: 1,
        jobId: null,
        modelIds: ['engine-run-seed', 'engine-run-iter1'],
      }),
    );
    const models = await call('model:list', {});
    for (const id of ['engine-run-seed', 'engine-run-iter1']) {
      expect(models).toContainEqual(
        expect.objectContaining({ id, origin: 'trained', runId: 'engine-run', source: 'drift:engine-run' }),
      );
    }
    const detail = await call('run:get', { id: 'engine-run' });
    expect(detail).toMatchObject({ id: 'engine-run', status: 'succeeded', jobId: null, position: { phase: 'done' } });
    expect(detail.iterations.map((summary) => summary.modelId)).toEqual(['engine-run-seed', 'engine-run-iter1']);

    const first = await call('run:metrics', { id: 'engine-run', after: 0, limit: 3 });
    expect(first.rows.map((row) => row.step)).toEqual([1, 2, 3]);
    expect(first.next).toBe(3);
    const rest = await call('run:metrics', { id: 'engine-run', after: first.next, limit: 2000 });
    expect(rest.rows.at(-1)).toMatchObject({ type: 'eval', iteration: 1 });
    expect(rest.next).toBe(first.next + rest.rows.length);
    expect(await call('run:metrics', { id: 'engine-run', after: rest.next, limit: 10 })).toEqual({
      rows: [],
      next: rest.next,
    });
    const samples = await call('run:samples', { id: 'engine-run', iteration: 1, offset: 4, limit: 5 });
    expect(samples.total).toBe(16);
    expect(samples.rows.map((row) => row.sourceId)).toEqual(['pair-04', 'pair-05', 'pair-06', 'pair-07', 'pair-08']);
    const seeds = await call('run:pairs', { id: 'engine-run', iteration: 0, offset: 0, limit: 100 });
    expect(seeds.total).toBe(8);
    expect(seeds.rows.every((row) => row.chosen[0]?.content.includes(' plus '))).toBe(true);

    expect(await refusal('run:pairs', { id: 'engine-run' })).toBe('invalid_request');
    expect(await refusal('run:get', { id: 'no-such-run' })).toBe('not_found');
    expect(await refusal('run:resume', { id: 'engine-run' })).toBe('run_state_conflict');
    expect(await refusal('run:pause', { id: 'engine-run' })).toBe('run_state_conflict');
    expect(await refusal('run:cancel', { id: 'engine-run' })).toBe('run_state_conflict');
  });

  it('pauses a running run (checkpoint kept) and resumes it to the end', async () => {
    const started = await call('job:start', {
      kind: 'run.train',
      params: { config: tinyRunConfig({ name: 'paused run', iterations: 1 }) },
    });
    await new Promise<void>((resolve) => {
      const off = engine.on('job:output', ({ jobId, data }) => {
        if (jobId === started.id && RunJobOutput.safeParse(data).data?.type === 'run-metric') {
          off();
          resolve();
        }
      });
    });
    const paused = await call('run:pause', { id: 'paused-run' });
    expect(paused).toMatchObject({ id: 'paused-run', status: 'paused', jobId: null });
    expect((await call('job:get', { id: started.id })).status).toBe('cancelled');
    expect(await call('run:list', {})).toContainEqual(
      expect.objectContaining({ id: 'paused-run', status: 'paused', jobId: null }),
    );
    const checkpoint = await findLatestCheckpoint(path.join(workspace, 'runs', 'paused-run', 'checkpoints'));
    expect(checkpoint.checkpoint?.step).toBeGreaterThanOrEqual(1);

    const resumed = await call('run:resume', { id: 'paused-run' });
    expect(['queued', 'running']).toContain(resumed.status);
    expect(resumed.jobId).not.toBeNull();
    const job = await finished(resumed.jobId as string);
    expect(job.status, JSON.stringify(job.error)).toBe('succeeded');
    expect(await call('run:get', { id: 'paused-run' })).toMatchObject({ status: 'succeeded', jobId: null });
    expect(await call('run:list', {})).toContainEqual(
      expect.objectContaining({ id: 'paused-run', status: 'succeeded', iterationsDone: 1, jobId: null }),
    );
  });

  it('finds a run left running by a dead process paused when the workspace opens again', async () => {
    await engine.close();
    const source = JSON.parse(await readFile(path.join(workspace, 'runs', 'engine-run', 'run.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    await mkdir(path.join(workspace, 'runs', 'ghost'));
    await writeFile(
      path.join(workspace, 'runs', 'ghost', 'run.json'),
      JSON.stringify({ ...source, id: 'ghost', status: 'running', jobId: 'job-of-a-dead-process', iterations: [] }),
    );
    engine = await openEngine({ workspaceDir: workspace, host: 'cli' });
    const ghost = await call('run:get', { id: 'ghost' });
    expect(ghost).toMatchObject({ status: 'paused', jobId: null });
    expect(ghost.notes.at(-1)).toMatch(/^Interrupted at .*resuming continues from the last checkpoint\.$/);
    expect(await call('run:list', {})).toContainEqual(expect.objectContaining({ id: 'ghost', status: 'paused' }));
    expect(await call('run:cancel', { id: 'ghost' })).toMatchObject({ status: 'cancelled' });
    expect(await call('run:list', {})).toContainEqual(expect.objectContaining({ id: 'ghost', status: 'cancelled' }));
  });
});
