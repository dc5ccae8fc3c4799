import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { WorkbenchBridge } from '../../src-main/api/bridge.js';
import { CHANNEL_NAMES, EVENT_NAME_LIST } from '../../src-main/api/names.js';

const electron = vi.hoisted(() => ({
  contextBridge: { exposeInMainWorld: vi.fn() },
  ipcRenderer: { invoke: vi.fn(), on: vi.fn(), removeListener: vi.fn() },
  webUtils: { getPathForFile: vi.fn() },
}));
vi.mock('electron', () => electron);

/** Loads the preload afresh and returns what it exposed. */
async function loadPreload(): Promise<{ key: unknown; bridge: WorkbenchBridge }> {
  await import('../../src-main/preload/index.js');
  expect(electron.contextBridge.exposeInMainWorld).toHaveBeenCalledOnce();
  const [key, bridge] = electron.contextBridge.exposeInMainWorld.mock.calls[0] as [unknown, WorkbenchBridge];
  return { key, bridge };
}

beforeEach(() => {
  vi.resetModules();
});

afterEach(() => {
  electron.contextBridge.exposeInMainWorld.mockReset();
  electron.ipcRenderer.invoke.mockReset();
  electron.ipcRenderer.on.mockReset();
  electron.ipcRenderer.removeListener.mockReset();
  electron.webUtils.getPathForFile.mockReset();
});

describe('preload', () => {
  it('exposes a frozen window.workbench with exactly invoke, on and pathForFile', async () => {
    const { key, bridge } = await loadPreload();
    expect(key).toBe('workbench');
    expect(Object.keys(bridge).sort()).toEqual(['invoke', 'on', 'pathForFile']);
    expect(Object.isFrozen(bridge)).toBe(true);
  });

  it('gives a dropped file its path through webUtils.getPathForFile', async () => {
    const { bridge } = await loadPreload();
    const file = new File(['{}'], 'logs.jsonl');
    electron.webUtils.getPathForFile.mockReturnValue('/home/analyst/logs.jsonl');
    expect(bridge.pathForFile(file)).toBe('/home/analyst/logs.jsonl');
    expect(electron.webUtils.getPathForFile).toHaveBeenCalledExactlyOnceWith(file);
  });

  it("answers '' for something that is not a file from disk", async () => {
    const { bridge } = await loadPreload();
    electron.webUtils.getPathForFile.mockImplementation(() => {
      throw new TypeError('Expected File');
    });
    expect(bridge.pathForFile({ name: 'fake' } as unknown as File)).toBe('');
  });

  it('forwards a known channel to ipcRenderer.invoke and returns its Result', async () => {
    const { bridge } = await loadPreload();
    const answer = { ok: true, value: { name: 'DRIFT Workbench' } };
    electron.ipcRenderer.invoke.mockResolvedValue(answer);
    await expect(bridge.invoke('app:info', {})).resolves.toBe(answer);
    expect(electron.ipcRenderer.invoke).toHaveBeenCalledExactlyOnceWith('app:info', {});
  });

  it.each(['shell:openExternal', 'event:job:updated', '__proto__', 'constructor'])(
    'refuses the unknown channel %s without reaching the main process',
    async (channel) => {
      const { bridge } = await loadPreload();
      await expect(bridge.invoke(channel as never, {} as never)).resolves.toMatchObject({
        ok: false,
        error: { code: 'unknown_channel' },
      });
      expect(electron.ipcRenderer.invoke).not.toHaveBeenCalled();
    },
  );

  it('turns a rejected invoke into an internal_error Result', async () => {
    const { bridge } = await loadPreload();
    electron.ipcRenderer.invoke.mockRejectedValue(new Error("No handler registered for 'app:info'"));
    await expect(bridge.invoke('app:info', {})).resolves.toMatchObject({
      ok: false,
      error: { code: 'internal_error', message: "No handler registered for 'app:info'" },
    });
  });

  it('gives event listeners the payload only and unsubscribes the same wrapper', async () => {
    const { bridge } = await loadPreload();
    const listener = vi.fn();
    const unsubscribe = bridge.on('catalog:changed', listener);

    expect(electron.ipcRenderer.on).toHaveBeenCalledOnce();
    const [channel, wrapper] = electron.ipcRenderer.on.mock.calls[0] as [string, (...args: unknown[]) => void];
    expect(channel).toBe('event:catalog:changed');
    const payload = { section: 'runs' };
    wrapper({ sender: 'the IpcRendererEvent', ports: [] }, payload);
    expect(listener).toHaveBeenCalledOnce();
    expect(listener.mock.calls[0]).toEqual([payload]);

    unsubscribe();
    expect(electron.ipcRenderer.removeListener).toHaveBeenCalledExactlyOnceWith('event:catalog:changed', wrapper);
  });

  it('throws for an unknown event name and subscribes nothing', async () => {
    const { bridge } = await loadPreload();
    expect(() => bridge.on('ipc:raw' as never, vi.fn())).toThrow(TypeError);
    expect(electron.ipcRenderer.on).not.toHaveBeenCalled();
  });

  it('allows exactly the contract channels and events', async () => {
    const { bridge } = await loadPreload();
    electron.ipcRenderer.invoke.mockResolvedValue({ ok: true, value: {} });
    for (const channel of CHANNEL_NAMES) await bridge.invoke(channel, {} as never);
    expect(electron.ipcRenderer.invoke.mock.calls.map(([channel]) => channel)).toEqual([...CHANNEL_NAMES]);
    for (const event of EVENT_NAME_LIST) bridge.on(event, () => undefined)();
    expect(electron.ipcRenderer.on).toHaveBeenCalledTimes(EVENT_NAME_LIST.length);
  });

  it('fails loudly, with no fallback global, when context isolation is off', async () => {
    electron.contextBridge.exposeInMainWorld.mockImplementation(() => {
      throw new Error('contextBridge API can only be used when contextIsolation is enabled');
    });
    const globals = globalThis as { workbench?: unknown; window?: { workbench?: unknown } };
    globals.window = {};
    await expect(import('../../src-main/preload/index.js')).rejects.toThrow(/contextIsolation/);
    expect(globals.window.workbench).toBeUndefined();
    expect(globals.workbench).toBeUndefined();
    delete globals.window;
  });
});
