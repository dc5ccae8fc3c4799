import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Job } from '../../../src-main/api/index.js';
import { openEngine, type Engine } from '../../../src-main/engine/index.js';
import { estimateEta } from '../../../src-main/engine/jobs/manager.js';
import { openWorkspace } from '../../../src-main/engine/workspace/index.js';

let dir: string;
let engine: Engine | undefined;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'drift-jobs-'));
});
afterEach(async () => {
  await engine?.close();
  engine = undefined;
  await rm(dir, { recursive: true, force: true });
});

describe('estimateEta', () => {
  it('extrapolates the rate of progress', () => {
    expect(estimateEta(25, 100, 1000)).toBe(3);
    expect(estimateEta(0, 100, 1000)).toBeNull();
    expect(estimateEta(10, 0, 1000)).toBeNull();
    expect(estimateEta(100, 100, 1000)).toBe(0);
  });
});

describe('JobManager in worker threads', () => {
  it('runs a job to completion, streaming progress with done/total and an ETA', async () => {
    engine = await openEngine({ workspaceDir: dir, host: 'cli' });
    const updates: Job[] = [];
    const job = await engine.runJob('selftest.sleep', { seconds: 0.6, steps: 6 }, { onUpdate: (j) => updates.push(j) });
    expect(job.status).toBe('succeeded');
    expect(job.result).toEqual({ seconds: 0.6, steps: 6 });
    expect(job.progress).toMatchObject({ done: 6, total: 6 });
    const progress = updates.filter((u) => u.status === 'running' && u.progress.phase === 'waiting');
    expect(progress.length).toBeGreaterThanOrEqual(5);
    const dones = progress.map((u) => u.progress.done);
    expect(dones).toEqual([...dones].sort((a, b) => a - b));
    expect(progress.some((u) => u.progress.etaSeconds !== null && u.progress.etaSeconds > 0)).toBe(true);
    expect(updates.map((u) => u.status)).toEqual(expect.arrayContaining(['queued', 'running', 'succeeded']));
  });

  it('cancels a running job promptly and records it as cancelled', async () => {
    engine = await openEngine({ workspaceDir: dir, host: 'cli' });
    const started = await engine.handlers['job:start']({ kind: 'selftest.sleep', params: { seconds: 60, steps: 600 } });
    const running = new Promise<void>((resolve) => {
      const off = engine!.on('job:updated', (j) => {
        if (j.id === started.id && j.progress.done >= 2) {
          off();
          resolve();
        }
      });
    });
    await running;
    const before = Date.now();
    await engine.handlers['job:cancel']({ id: started.id });
    const finished = await new Promise<Job>((resolve) => {
      const check = () => {
        void engine!.handlers['job:get']({ id: started.id }).then((j) => {
          if (j.status === 'running') setTimeout(check, 20);
          else resolve(j);
        });
      };
      check();
    });
    expect(finished.status).toBe('cancelled');
    expect(finished.error?.code).toBe('job_cancelled');
    expect(Date.now() - before).toBeLessThan(3000);
  });

  it('queues jobs beyond maxConcurrentJobs and runs them in order', async () => {
    engine = await openEngine({ workspaceDir: dir, host: 'cli' });
    await engine.handlers['settings:update']({ maxConcurrentJobs: 1 });
    const first = await engine.handlers['job:start']({ kind: 'selftest.sleep', params: { seconds: 0.4, steps: 2 } });
    const second = await engine.handlers['job:start']({ kind: 'selftest.sleep', params: { seconds: 0.2, steps: 2 } });
    expect((await engine.handlers['job:get']({ id: second.id })).status).toBe('queued');
    const done = await engine.runJob('selftest.sleep', { seconds: 0.1, steps: 1 });
    expect(done.status).toBe('succeeded');
    const a = await engine.handlers['job:get']({ id: first.id });
    const b = await engine.handlers['job:get']({ id: second.id });
    expect(a.status).toBe('succeeded');
    expect(b.status).toBe('succeeded');
    expect(a.finishedAt! <= b.startedAt!).toBe(true);
  });

  it('reports invalid params as a failed job with a stable code', async () => {
    engine = await openEngine({ workspaceDir: dir, host: 'cli' });
    const job = await engine.runJob('selftest.sleep', { seconds: -1 });
    expect(job.status).toBe('failed');
    expect(job.error?.code).toBe('job_invalid_params');
  });

  it('records outcomes in the workspace and marks jobs of a dead process as interrupted', async () => {
    engine = await openEngine({ workspaceDir: dir, host: 'cli' });
    const job = await engine.runJob('selftest.sleep', { seconds: 0.1, steps: 1 });
    await engine.close();
    engine = undefined;

    // Simulate a process that died while a job was running.
    const workspace = await openWorkspace(dir);
    await workspace.catalog.update((draft) => {
      draft.jobs.push({ ...job, id: 'job-dead', status: 'running', finishedAt: null, result: undefined });
    });
    await workspace.close();

    engine = await openEngine({ workspaceDir: dir, host: 'cli' });
    const jobs = await engine.handlers['job:list']({});
    expect(jobs.find((j) => j.id === job.id)?.status).toBe('succeeded');
    const dead = jobs.find((j) => j.id === 'job-dead');
    expect(dead?.status).toBe('failed');
    expect(dead?.error?.code).toBe('job_interrupted');
  });

  it('answers unknown ids with job_not_found', async () => {
    engine = await openEngine({ workspaceDir: dir, host: 'cli' });
    await expect(engine.handlers['job:get']({ id: 'nope' })).rejects.toMatchObject({ code: 'job_not_found' });
  });
});

describe('streamed job output', () => {
  it('forwards what a job streams as job:output events', async () => {
    engine = await openEngine({ workspaceDir: dir, host: 'cli' });
    const outputs: unknown[] = [];
    const off = engine.on('job:output', (event) => outputs.push(event));
    const job = await engine.runJob('selftest.sleep', { seconds: 0.2, steps: 4, echo: true });
    off();
    expect(job.status).toBe('succeeded');
    expect(outputs).toEqual([0, 1, 2, 3].map((step) => ({ jobId: job.id, data: { step } })));
  });
});
