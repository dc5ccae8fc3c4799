import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it, vi } from 'vitest';
import {
  AppFailure,
  CHANNELS,
  EVENT_NAMES,
  type EventName,
  type Handlers,
  type Result,
} from '../../src-main/api/index.js';
import { forwardEvents, registerIpcHandlers } from '../../src-main/shell/ipc.js';
import type { RendererLocation } from '../../src-main/shell/security.js';

vi.mock('electron', () => ({ shell: { openExternal: vi.fn() } }));

const indexPath = join('/opt', 'DRIFT Workbench', 'resources', 'app.asar', 'out', 'renderer', 'index.html');
const bundled: RendererLocation = { kind: 'file', indexPath };
const devServer: RendererLocation = {
  kind: 'dev-server',
  url: 'http://localhost:5173/',
  origin: 'http://localhost:5173',
};
const topFrame = { parent: null, url: `${pathToFileURL(indexPath).href}#/home` };

type Listener = (event: unknown, payload?: unknown) => Promise<Result<unknown>>;

function fakeIpcMain() {
  const registered = new Map<string, Listener>();
  return {
    registered,
    handle: vi.fn((channel: string, listener: Listener) => {
      if (registered.has(channel)) throw new Error(`second handler for ${channel}`);
      registered.set(channel, listener);
    }),
    removeHandler: vi.fn((channel: string) => registered.delete(channel)),
    /** Invokes a channel as a renderer frame would. */
    call(channel: string, senderFrame: unknown, payload?: unknown): Promise<Result<unknown>> {
      const listener = registered.get(channel);
      if (!listener) throw new Error(`no handler for ${channel}`);
      return listener({ senderFrame }, payload);
    },
  };
}

/** Every handler fails the test if called, except the ones given. */
function handlerTable(overrides: Partial<Handlers>): Handlers {
  const table: Record<string, unknown> = {};
  for (const channel of CHANNELS) {
    table[channel] = vi.fn(async () => {
      throw new Error(`${channel} should not have been called`);
    });
  }
  return { ...table, ...overrides } as Handlers;
}

const appInfo = { name: 'DRIFT Workbench', version: '0.1.0', host: 'electron', platform: 'linux', nodeVersion: '20' };

describe('registerIpcHandlers', () => {
  it('registers exactly the contract channels and removes them again', () => {
    const ipcMain = fakeIpcMain();
    const unregister = registerIpcHandlers(ipcMain, handlerTable({}), bundled);
    expect([...ipcMain.registered.keys()].sort()).toEqual([...CHANNELS].sort());
    unregister();
    expect(ipcMain.registered.size).toBe(0);
  });

  it('serves a call from the renderer top frame with an ok Result', async () => {
    const ipcMain = fakeIpcMain();
    const appInfoHandler = vi.fn(async () => appInfo as never);
    registerIpcHandlers(ipcMain, handlerTable({ 'app:info': appInfoHandler }), bundled, { validateResponses: true });
    await expect(ipcMain.call('app:info', topFrame, {})).resolves.toEqual({ ok: true, value: appInfo });
    expect(appInfoHandler).toHaveBeenCalledOnce();
  });

  describe('refuses senders that are not the renderer top frame', () => {
    const senders: Array<[string, unknown, RendererLocation]> = [
      ['an iframe inside the renderer', { parent: topFrame, url: topFrame.url }, bundled],
      ['a foreign origin', { parent: null, url: 'https://evil.example/' }, bundled],
      ['another local file', { parent: null, url: 'file:///tmp/evil.html' }, bundled],
      ['a look-alike dev origin', { parent: null, url: 'http://localhost:5173.attacker.com/' }, devServer],
      ['a missing senderFrame', null, bundled],
      ['a frame without a URL', { parent: null }, bundled],
      ['a URL that does not parse', { parent: null, url: '::::' }, devServer],
    ];

    it.each(senders)('%s gets forbidden_sender and the handler is not called', async (_name, frame, renderer) => {
      const ipcMain = fakeIpcMain();
      const handlers = handlerTable({});
      registerIpcHandlers(ipcMain, handlers, renderer);
      const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
      const result = await ipcMain.call('app:info', frame, {});
      warn.mockRestore();
      expect(result).toMatchObject({ ok: false, error: { code: 'forbidden_sender' } });
      expect(handlers['app:info']).not.toHaveBeenCalled();
    });

    it('serves the dev server top frame in development', async () => {
      const ipcMain = fakeIpcMain();
      registerIpcHandlers(ipcMain, handlerTable({ 'app:info': async () => appInfo as never }), devServer);
      const result = await ipcMain.call('app:info', { parent: null, url: 'http://localhost:5173/#/runs' }, {});
      expect(result.ok).toBe(true);
    });
  });

  it('answers invalid_request for a payload that breaks the schema, without calling the handler', async () => {
    const ipcMain = fakeIpcMain();
    const handlers = handlerTable({});
    registerIpcHandlers(ipcMain, handlers, bundled);
    const result = await ipcMain.call('job:get', topFrame, { id: 5, extra: true });
    expect(result).toMatchObject({ ok: false, error: { code: 'invalid_request' } });
    expect(handlers['job:get']).not.toHaveBeenCalled();
  });

  it('turns a thrown AppFailure into its code and anything else into internal_error', async () => {
    const ipcMain = fakeIpcMain();
    registerIpcHandlers(
      ipcMain,
      handlerTable({
        'job:get': async () => {
          throw new AppFailure('job_not_found', 'No job job-1.');
        },
        'job:list': async () => {
          throw new TypeError('boom');
        },
      }),
      bundled,
    );
    await expect(ipcMain.call('job:get', topFrame, { id: 'job-1' })).resolves.toMatchObject({
      ok: false,
      error: { code: 'job_not_found', message: 'No job job-1.' },
    });
    await expect(ipcMain.call('job:list', topFrame, {})).resolves.toMatchObject({
      ok: false,
      error: { code: 'internal_error', message: 'boom' },
    });
  });
});

describe('forwardEvents', () => {
  function fakeEngine() {
    const listeners = new Map<EventName, (payload: unknown) => void>();
    const unsubscribers = new Map<EventName, ReturnType<typeof vi.fn>>();
    const engine = {
      on: vi.fn((name: EventName, listener: (payload: unknown) => void) => {
        listeners.set(name, listener);
        const unsubscribe = vi.fn();
        unsubscribers.set(name, unsubscribe);
        return unsubscribe;
      }),
    };
    return { engine, listeners, unsubscribers };
  }

  it('sends every engine event as event:<name> with the payload only, and unsubscribes', () => {
    const { engine, listeners, unsubscribers } = fakeEngine();
    const contents = { send: vi.fn(), isDestroyed: vi.fn(() => false) };
    const stop = forwardEvents(engine as never, contents);
    expect([...listeners.keys()].sort()).toEqual([...EVENT_NAMES].sort());

    const payload = { section: 'datasets' };
    listeners.get('catalog:changed')?.(payload);
    expect(contents.send).toHaveBeenCalledExactlyOnceWith('event:catalog:changed', payload);

    stop();
    for (const unsubscribe of unsubscribers.values()) expect(unsubscribe).toHaveBeenCalledOnce();
  });

  it('does not send to a destroyed window', () => {
    const { engine, listeners } = fakeEngine();
    const contents = { send: vi.fn(), isDestroyed: vi.fn(() => true) };
    forwardEvents(engine as never, contents);
    listeners.get('workspace:warning')?.({ message: 'x' });
    expect(contents.send).not.toHaveBeenCalled();
  });
});
