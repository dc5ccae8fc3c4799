import { afterEach, describe, expect, it } from 'vitest';
import type { WebSocket } from 'ws';
import { EVENT_NAMES } from '../../src-main/api/index.js';
import { connectEvents, nextFrames, SAMPLE_JOB, startTestServer, type Started } from './helpers.js';

let started: Started | undefined;

afterEach(async () => {
  await started?.stop();
  started = undefined;
});

async function open(server: Started, options: { autoPong?: boolean } = {}): Promise<WebSocket> {
  const connection = await connectEvents(server.server.port, {
    path: `/api/events?token=${server.server.token}`,
    ...options,
  });
  if (!('socket' in connection)) throw new Error(`refused with ${connection.refused}`);
  return connection.socket;
}

const closed = (socket: WebSocket) =>
  new Promise<number>((resolve) => {
    if (socket.readyState === socket.CLOSED) resolve(-1);
    else socket.once('close', (code) => resolve(code));
  });

describe('GET /api/events (WebSocket)', () => {
  it('delivers every engine event to every client as {event, payload}', async () => {
    started = await startTestServer();
    const first = await open(started);
    const second = await open(started);
    const payloads = {
      'job:updated': { ...SAMPLE_JOB, status: 'running' as const },
      'job:output': { jobId: SAMPLE_JOB.id, data: { text: 'Hello' } },
      'catalog:changed': { section: 'jobs' as const },
      'workspace:warning': { message: 'workbench.json was quarantined' },
      'workspace:changed': {
        path: '/w',
        schemaVersion: 1,
        warnings: [],
        counts: { datasets: 1, models: 0, runs: 0, reports: 0, jobs: 0 },
      },
    };
    expect(Object.keys(payloads).sort()).toEqual([...EVENT_NAMES].sort());
    const received = Promise.all([nextFrames(first, EVENT_NAMES.length), nextFrames(second, EVENT_NAMES.length)]);
    for (const event of EVENT_NAMES) started.engine.emit(event, payloads[event]);
    const expected = EVENT_NAMES.map((event) => ({ event, payload: payloads[event] }));
    expect(await received).toEqual([expected, expected]);
    first.close();
    second.close();
  });

  it('keeps serving the others when one client leaves, and subscribes to the engine only once', async () => {
    started = await startTestServer();
    const listenersBefore = started.engine.listenerCount();
    expect(listenersBefore).toBe(EVENT_NAMES.length);
    const leaving = await open(started);
    const staying = await open(started);
    expect(started.engine.listenerCount()).toBe(listenersBefore);
    leaving.close();
    await closed(leaving);
    const frame = nextFrames(staying, 1);
    started.engine.emit('catalog:changed', { section: 'runs' });
    expect(await frame).toEqual([{ event: 'catalog:changed', payload: { section: 'runs' } }]);
    staying.close();
  });

  it('drops a client that stops answering pings, and keeps one that answers', async () => {
    started = await startTestServer({ heartbeatMs: 100 });
    const silent = await open(started, { autoPong: false });
    const healthy = await open(started);
    const silentClosed = closed(silent);
    await new Promise((resolve) => setTimeout(resolve, 700));
    expect(silent.readyState).toBe(silent.CLOSED);
    await silentClosed;
    expect(healthy.readyState).toBe(healthy.OPEN);
    healthy.close();
  });

  it('refuses an upgrade on any other path with 404', async () => {
    started = await startTestServer();
    const connection = await connectEvents(started.server.port, { path: `/api/other?token=${started.server.token}` });
    expect(connection).toEqual({ refused: 404 });
  });

  it('closes its clients and unsubscribes from the engine when the server closes', async () => {
    started = await startTestServer();
    const socket = await open(started);
    const code = closed(socket);
    await started.server.close();
    expect(await code).toBe(1001);
    expect(started.engine.listenerCount()).toBe(0);
  });
});
