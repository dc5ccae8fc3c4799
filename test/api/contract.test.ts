/**
 * One contract, everything derived from it (STYLE.md §2): the channel table, its schemas, the
 * name lists the preload bundles, the engine's handlers, the Electron IPC registrations, the
 * preload bridge and the browser-mode routes must agree key by key.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import {
  CHANNEL_NAMES,
  CHANNELS,
  contract,
  dispatch,
  EVENT_NAME_LIST,
  EVENT_NAMES,
  events,
  HOST_CHANNELS,
  type Channel,
  type Handlers,
  type Result,
} from '../../src-main/api/index.js';
import { openEngine, type Engine } from '../../src-main/engine/index.js';
import { startServer, type RunningServer } from '../../src-main/server/index.js';

vi.mock('electron', () => ({
  contextBridge: { exposeInMainWorld: vi.fn() },
  ipcRenderer: { invoke: vi.fn(), on: vi.fn(), removeListener: vi.fn() },
  dialog: { showOpenDialog: vi.fn() },
  shell: { openExternal: vi.fn() },
}));

const sorted = (keys: Iterable<string>) => [...keys].sort();

/** Read-only channels and a valid request for each, used to check response schemas end to end. */
const READ_ONLY: Partial<Record<Channel, unknown>> = {
  'app:info': {},
  'backend:info': {},
  'workspace:info': {},
  'settings:get': {},
  'dataset:list': {},
  'model:list': {},
  'run:list': {},
  'report:list': {},
  'job:list': {},
};

let dir: string;
let engine: Engine;
let server: RunningServer;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'drift-contract-'));
  const site = join(dir, 'site');
  await import('node:fs/promises').then((fs) => fs.mkdir(site));
  await writeFile(join(site, 'index.html'), '<!doctype html><title>t</title>');
  engine = await openEngine({ workspaceDir: join(dir, 'workspace'), host: 'browser' });
  server = await startServer({ engine, staticDir: site, port: 0, validateResponses: true });
});

afterAll(async () => {
  await server?.close();
  await engine?.close();
  await rm(dir, { recursive: true, force: true });
});

async function post(channel: string, body: unknown): Promise<{ status: number; result: Result<unknown> }> {
  const response = await fetch(`http://127.0.0.1:${server.port}/api/${channel}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${server.token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, result: (await response.json()) as Result<unknown> };
}

describe('the contract', () => {
  it('names channels noun:verb and lists exactly the names the preload bundles', () => {
    expect(sorted(Object.keys(contract))).toEqual(sorted(CHANNEL_NAMES));
    expect(sorted(CHANNELS)).toEqual(sorted(CHANNEL_NAMES));
    for (const channel of CHANNELS) expect(channel).toMatch(/^[a-z]+:[a-z][A-Za-z]*$/);
  });

  it('gives every channel a request and a response schema; requests reject unknown keys', () => {
    for (const channel of CHANNELS) {
      const spec = contract[channel];
      expect(spec.request, channel).toBeInstanceOf(z.ZodType);
      expect(spec.response, channel).toBeInstanceOf(z.ZodType);
      expect(spec.request.safeParse({ __unexpected: 1 }).success, `${channel} must be strict`).toBe(false);
    }
  });

  it('lists exactly the events of the event map', () => {
    expect(sorted(Object.keys(events))).toEqual(sorted(EVENT_NAME_LIST));
    expect(sorted(EVENT_NAMES)).toEqual(sorted(EVENT_NAME_LIST));
    for (const name of EVENT_NAMES) expect(events[name]).toBeInstanceOf(z.ZodType);
  });
});

describe('hosts agree with the contract key by key', () => {
  it('the engine handles every channel except the host channels', () => {
    const expected = CHANNELS.filter((c) => !(HOST_CHANNELS as readonly string[]).includes(c));
    expect(sorted(Object.keys(engine.handlers))).toEqual(sorted(expected));
  });

  it('the Electron shell registers one IPC handler per channel and supplies the host channels', async () => {
    const { registerIpcHandlers } = await import('../../src-main/shell/ipc.js');
    const { createHostHandlers } = await import('../../src-main/shell/dialogs.js');
    const hostHandlers = createHostHandlers(() => null);
    expect(sorted(Object.keys(hostHandlers))).toEqual(sorted(HOST_CHANNELS));
    const registered: string[] = [];
    registerIpcHandlers(
      { handle: (channel: string) => void registered.push(channel), removeHandler: () => undefined },
      { ...engine.handlers, ...hostHandlers } as Handlers,
      { kind: 'file', indexPath: '/app/out/renderer/index.html' },
    );
    expect(sorted(registered)).toEqual(sorted(CHANNELS));
  });

  it('the preload bridge forwards every channel and refuses others', async () => {
    const { createBridge } = await import('../../src-main/preload/index.js');
    const forwarded: string[] = [];
    const bridge = createBridge({
      invoke: async (channel: string) => {
        forwarded.push(channel);
        return { ok: true, value: null };
      },
      on: () => undefined as never,
      removeListener: () => undefined as never,
    } as never);
    for (const channel of CHANNELS) await bridge.invoke(channel, {} as never);
    expect(sorted(forwarded)).toEqual(sorted(CHANNELS));
    const refused = await bridge.invoke('fs:delete' as Channel, {} as never);
    expect(refused).toMatchObject({ ok: false, error: { code: 'unknown_channel' } });
    for (const event of EVENT_NAMES) expect(() => bridge.on(event, () => undefined)).not.toThrow();
  });

  it('browser mode routes every channel, and only those', async () => {
    for (const channel of CHANNELS) {
      const { result } = await post(channel, {});
      if (!result.ok) expect(result.error.code, channel).not.toBe('unknown_channel');
    }
    const unknown = await post('fs:delete', {});
    expect(unknown.result).toMatchObject({ ok: false, error: { code: 'unknown_channel' } });
  });

  it('read-only channels answer with values that match their response schemas, in both hosts', async () => {
    const handlers = { ...engine.handlers } as unknown as Handlers;
    for (const [channel, request] of Object.entries(READ_ONLY)) {
      const direct = await dispatch(handlers, channel, request, { validateResponses: true });
      expect(direct, channel).toMatchObject({ ok: true });
      const viaHttp = await post(channel, request);
      expect(viaHttp.result, channel).toMatchObject({ ok: true });
      if (channel !== 'backend:info' && channel !== 'app:info') {
        expect(viaHttp.result).toEqual(direct);
      }
    }
  });

  it('rejects a malformed request the same way in both hosts', async () => {
    const handlers = { ...engine.handlers } as unknown as Handlers;
    const direct = await dispatch(handlers, 'job:get', { id: '../etc/passwd' });
    const viaHttp = await post('job:get', { id: '../etc/passwd' });
    expect(direct).toMatchObject({ ok: false, error: { code: 'invalid_request' } });
    expect(viaHttp.result).toEqual(direct);
  });
});
