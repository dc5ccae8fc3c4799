/** Browser mode over the real engine: a temporary workspace, real job workers, real events. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Job } from '../../src-main/api/index.js';
import { openEngine, type Engine } from '../../src-main/engine/index.js';
import { startServer, type RunningServer } from '../../src-main/server/index.js';
import { connectEvents, createTestSite, send, type TestSite } from './helpers.js';

let workspaceDir: string;
let site: TestSite;
let engine: Engine;
let server: RunningServer;

beforeEach(async () => {
  workspaceDir = await mkdtemp(join(tmpdir(), 'drift-server-engine-'));
  site = await createTestSite();
  engine = await openEngine({ workspaceDir, host: 'browser' });
  server = await startServer({ engine, staticDir: site.staticDir, validateResponses: true });
});
afterEach(async () => {
  await server.close();
  await engine.close();
  await site.remove();
  await rm(workspaceDir, { recursive: true, force: true });
});

interface Answer {
  ok: boolean;
  value?: { id?: string };
  error?: { code: string };
}

async function call(channel: string, payload: unknown = {}): Promise<Answer> {
  const response = await send(server.port, {
    method: 'POST',
    path: `/api/${channel}`,
    headers: { authorization: `Bearer ${server.token}`, 'content-type': 'application/json' },
    body: JSON.stringify(payload),
  });
  return JSON.parse(response.body);
}

describe('browser mode over the real engine', () => {
  it('answers the contract from the workspace it was opened on', async () => {
    expect(await call('app:info')).toMatchObject({ ok: true, value: { host: 'browser', name: 'DRIFT Workbench' } });
    expect(await call('workspace:info')).toMatchObject({ ok: true, value: { path: workspaceDir } });
    const updated = await call('settings:update', { theme: 'dark' });
    expect(updated).toMatchObject({ ok: true, value: { theme: 'dark' } });
    expect(await call('settings:get')).toMatchObject({ ok: true, value: { theme: 'dark' } });
    expect(await call('job:get', { id: 'no-such-job' })).toMatchObject({ ok: false, error: { code: 'job_not_found' } });
    expect(await call('dialog:open', { kind: 'file' })).toMatchObject({
      ok: false,
      error: { code: 'unsupported_in_browser_mode' },
    });
  });

  it('starts a job over HTTP and streams its progress over the WebSocket until it succeeds', async () => {
    const connection = await connectEvents(server.port, { path: `/api/events?token=${server.token}` });
    if (!('socket' in connection)) throw new Error(`refused with ${connection.refused}`);
    const { socket } = connection;
    const updates: Job[] = [];
    const finished = new Promise<Job>((resolve) => {
      socket.on('message', (data: Buffer) => {
        const frame = JSON.parse(data.toString()) as { event: string; payload: Job };
        if (frame.event !== 'job:updated') return;
        updates.push(frame.payload);
        if (frame.payload.status === 'succeeded' || frame.payload.status === 'failed') resolve(frame.payload);
      });
    });
    const started = await call('job:start', { kind: 'selftest.sleep', params: { seconds: 0.3, steps: 3 } });
    expect(started).toMatchObject({ ok: true, value: { kind: 'selftest.sleep' } });
    const job = await finished;
    expect(job).toMatchObject({ id: started.value?.id, status: 'succeeded', progress: { done: 3, total: 3 } });
    expect(updates.every((update) => update.id === started.value?.id)).toBe(true);
    expect(updates.some((update) => update.status === 'running' && update.progress.phase === 'waiting')).toBe(true);
    expect(await call('job:get', { id: job.id })).toMatchObject({ ok: true, value: { status: 'succeeded' } });
    socket.close();
  });
});
