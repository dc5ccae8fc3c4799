import { EventEmitter } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it, vi } from 'vitest';
import { AppFailure, CHANNELS, type EngineHandlers, type Result } from '../../src-main/api/index.js';
import type { Engine, EngineOptions } from '../../src-main/engine/index.js';
import { startShell, type ShellOptions } from '../../src-main/shell/lifecycle.js';

vi.mock('electron', () => ({ shell: { openExternal: vi.fn() }, dialog: { showOpenDialog: vi.fn() } }));

const paths = {
  preload: '/app/out/preload/index.cjs',
  rendererIndex: '/app/out/renderer/index.html',
  worker: new URL('file:///app/out/main/job-worker.js'),
};

class FakeWebContents extends EventEmitter {
  send = vi.fn();
  isDestroyed = vi.fn(() => false);
  setWindowOpenHandler = vi.fn();
}

class FakeBrowserWindow extends EventEmitter {
  static instances: FakeBrowserWindow[] = [];
  static getAllWindows = (): FakeBrowserWindow[] => FakeBrowserWindow.instances.filter((window) => !window.closed);
  closed = false;
  webContents = new FakeWebContents();
  loadFile = vi.fn(async (_path: string) => undefined);
  loadURL = vi.fn(async (_url: string) => undefined);
  show = vi.fn();
  focus = vi.fn();
  restore = vi.fn();
  isMinimized = vi.fn(() => false);
  constructor(readonly options: Record<string, unknown>) {
    super();
    FakeBrowserWindow.instances.push(this);
  }
}

class FakeApp extends EventEmitter {
  isPackaged = true;
  hasLock = true;
  enableSandbox = vi.fn();
  requestSingleInstanceLock = vi.fn(() => this.hasLock);
  quit = vi.fn(() => {
    const event = { preventDefault: vi.fn() };
    this.emit('before-quit', event);
    if (!event.preventDefault.mock.calls.length) this.quitted = true;
  });
  quitted = false;
  relaunch = vi.fn();
  whenReady = vi.fn(async () => undefined);
  setAboutPanelOptions = vi.fn();
}

function fakeEngine() {
  const listeners = new Map<string, (payload: unknown) => void>();
  const handlers = {} as Record<string, unknown>;
  for (const channel of CHANNELS) handlers[channel] = vi.fn(async () => ({}));
  handlers['app:info'] = vi.fn(async () => ({
    name: 'DRIFT Workbench',
    version: '0.1.0',
    host: 'electron',
    platform: 'linux',
    nodeVersion: '20.0.0',
  }));
  const engine = {
    workspaceDir: '',
    handlers: handlers as EngineHandlers,
    on: vi.fn((name: string, listener: (payload: unknown) => void) => {
      listeners.set(name, listener);
      return () => listeners.delete(name);
    }),
    runJob: vi.fn(),
    close: vi.fn(async (): Promise<void> => undefined),
  };
  return { engine, listeners };
}

function setUp(overrides: { argv?: string[]; env?: Record<string, string>; platform?: NodeJS.Platform } = {}) {
  FakeBrowserWindow.instances = [];
  const app = new FakeApp();
  const session = {
    setPermissionRequestHandler: vi.fn(),
    setPermissionCheckHandler: vi.fn(),
    setDevicePermissionHandler: vi.fn(),
    protocol: { handle: vi.fn() },
  };
  const protocol = { registerSchemesAsPrivileged: vi.fn() };
  const Menu = { buildFromTemplate: vi.fn((template: unknown) => ({ template })), setApplicationMenu: vi.fn() };
  const dialog = { showOpenDialog: vi.fn(), showErrorBox: vi.fn() };
  const registered = new Map<string, (event: unknown, payload: unknown) => Promise<Result<unknown>>>();
  const ipcMain = {
    handle: vi.fn((channel: string, listener: (event: unknown, payload: unknown) => Promise<Result<unknown>>) =>
      registered.set(channel, listener),
    ),
    removeHandler: vi.fn(),
  };
  const { engine, listeners } = fakeEngine();
  const openEngine = vi.fn(async (_options: EngineOptions): Promise<Engine> => engine);
  const options: ShellOptions = {
    electron: {
      app,
      BrowserWindow: FakeBrowserWindow,
      Menu,
      dialog,
      ipcMain,
      protocol,
      session: { defaultSession: session },
    } as never,
    openEngine,
    defaultWorkspaceDir: () => '/home/analyst/.config/DRIFT Workbench/workspace',
    appName: 'DRIFT Workbench',
    appVersion: '0.1.0',
    argv: overrides.argv ?? ['/opt/drift/drift-workbench'],
    env: overrides.env ?? {},
    platform: overrides.platform ?? 'linux',
    paths,
  };
  return { app, session, protocol, Menu, dialog, ipcMain, registered, engine, listeners, openEngine, options };
}

describe('startShell', () => {
  it('quits at once when another instance holds the single-instance lock', () => {
    const setup = setUp();
    setup.app.hasLock = false;
    expect(startShell(setup.options)).toBeNull();
    expect(setup.app.enableSandbox).toHaveBeenCalledOnce();
    expect(setup.app.quit).toHaveBeenCalledOnce();
    expect(setup.app.whenReady).not.toHaveBeenCalled();
    expect(setup.openEngine).not.toHaveBeenCalled();
  });

  it('secures the session, opens the engine, registers IPC and shows a locked-down window', async () => {
    const setup = setUp({ argv: ['/opt/drift/drift-workbench', '--workspace', 'relative/ws'] });
    const shell = startShell(setup.options);
    await shell?.ready;

    expect(setup.app.enableSandbox).toHaveBeenCalledOnce();
    expect(setup.session.setPermissionRequestHandler).toHaveBeenCalledOnce();
    expect(setup.session.setPermissionCheckHandler).toHaveBeenCalledOnce();
    expect(setup.openEngine).toHaveBeenCalledExactlyOnceWith({
      workspaceDir: resolve('relative/ws'),
      host: 'electron',
      workerUrl: paths.worker,
      printToPdf: expect.any(Function),
    });
    expect([...setup.registered.keys()].sort()).toEqual([...CHANNELS].sort());
    expect(setup.Menu.setApplicationMenu).toHaveBeenCalledOnce();

    const [window] = FakeBrowserWindow.instances;
    expect(FakeBrowserWindow.instances).toHaveLength(1);
    expect(window?.options).toMatchObject({
      show: false,
      webPreferences: { preload: paths.preload, sandbox: true, contextIsolation: true, nodeIntegration: false },
    });
    expect(window?.loadURL).toHaveBeenCalledExactlyOnceWith('app://bundle/index.html');
    expect(window?.loadFile).not.toHaveBeenCalled();
    expect(window?.show).not.toHaveBeenCalled();
    window?.emit('ready-to-show');
    expect(window?.show).toHaveBeenCalledOnce();
  });

  it('serves IPC from the loaded page and forwards engine events to it', async () => {
    const setup = setUp();
    await startShell(setup.options)?.ready;
    const call = setup.registered.get('app:info');
    const topFrame = { parent: null, url: 'app://bundle/index.html#/runs' };
    await expect(call?.({ senderFrame: topFrame }, {})).resolves.toMatchObject({ ok: true });
    const fileFrame = { parent: null, url: pathToFileURL(resolve(paths.rendererIndex)).href };
    const otherHost = { parent: null, url: 'app://other/index.html' };
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    for (const senderFrame of [fileFrame, otherHost, { parent: topFrame, url: topFrame.url }]) {
      await expect(call?.({ senderFrame }, {})).resolves.toMatchObject({
        ok: false,
        error: { code: 'forbidden_sender' },
      });
    }
    expect(warn).toHaveBeenCalledTimes(3);
    warn.mockRestore();

    const payload = { message: 'catalog restored' };
    setup.listeners.get('workspace:warning')?.(payload);
    expect(FakeBrowserWindow.instances[0]?.webContents.send).toHaveBeenCalledExactlyOnceWith(
      'event:workspace:warning',
      payload,
    );
  });

  it('registers app:// as privileged before ready and serves the renderer folder through it after', async () => {
    const setup = setUp();
    let becomeReady: () => void = () => undefined;
    setup.app.whenReady.mockImplementation(
      () => new Promise<undefined>((done) => (becomeReady = () => done(undefined))),
    );
    const shell = startShell(setup.options);

    expect(setup.protocol.registerSchemesAsPrivileged).toHaveBeenCalledExactlyOnceWith([
      { scheme: 'app', privileges: { standard: true, secure: true, supportFetchAPI: true } },
    ]);
    expect(setup.protocol.registerSchemesAsPrivileged.mock.invocationCallOrder[0]).toBeLessThan(
      setup.app.whenReady.mock.invocationCallOrder[0] ?? 0,
    );
    expect(setup.session.protocol.handle).not.toHaveBeenCalled();

    becomeReady();
    await shell?.ready;
    expect(setup.session.protocol.handle).toHaveBeenCalledExactlyOnceWith('app', expect.any(Function));
    expect(shell?.renderer).toEqual({
      kind: 'bundle',
      url: 'app://bundle/index.html',
      rendererDir: resolve('/app/out/renderer'),
    });
    // The handler is the renderer folder's: it refuses anything that is not on app://bundle.
    const handler = setup.session.protocol.handle.mock.calls[0]?.[1] as (request: Request) => Promise<Response>;
    expect((await handler(new Request('app://other/index.html'))).status).toBe(404);
    expect(setup.protocol.registerSchemesAsPrivileged.mock.invocationCallOrder[0] ?? Infinity).toBeLessThan(
      setup.session.protocol.handle.mock.invocationCallOrder[0] ?? 0,
    );
  });

  it('loads app://bundle/index.html in an unpackaged app without a dev server', async () => {
    const setup = setUp();
    setup.app.isPackaged = false;
    await startShell(setup.options)?.ready;
    expect(FakeBrowserWindow.instances[0]?.loadURL).toHaveBeenCalledExactlyOnceWith('app://bundle/index.html');
  });

  it('loads the dev server only in an unpackaged app', async () => {
    const packaged = setUp({ env: { ELECTRON_RENDERER_URL: 'http://localhost:5173' } });
    await startShell(packaged.options)?.ready;
    expect(FakeBrowserWindow.instances[0]?.loadURL).toHaveBeenCalledExactlyOnceWith('app://bundle/index.html');

    const development = setUp({ env: { ELECTRON_RENDERER_URL: 'http://localhost:5173' } });
    development.app.isPackaged = false;
    await startShell(development.options)?.ready;
    expect(FakeBrowserWindow.instances[0]?.loadURL).toHaveBeenCalledExactlyOnceWith('http://localhost:5173/');
    expect(development.session.protocol.handle).not.toHaveBeenCalled();
  });

  it('fills a brand-new default workspace with the demo on the first start, and only then', async () => {
    const first = setUp();
    const prepareFirstStart = vi.fn(async () => undefined);
    await startShell({ ...first.options, prepareFirstStart })?.ready;
    expect(prepareFirstStart).toHaveBeenCalledExactlyOnceWith(first.engine);

    const explicit = setUp({ argv: ['/opt/drift/drift-workbench', '--workspace', '/data/ws'] });
    const notForExplicit = vi.fn(async () => undefined);
    await startShell({ ...explicit.options, prepareFirstStart: notForExplicit })?.ready;
    expect(notForExplicit).not.toHaveBeenCalled();

    const existing = await mkdtemp(join(tmpdir(), 'drift-shell-'));
    try {
      await writeFile(join(existing, 'workbench.json'), '{}');
      const again = setUp();
      const notForExisting = vi.fn(async () => undefined);
      await startShell({ ...again.options, defaultWorkspaceDir: () => existing, prepareFirstStart: notForExisting })
        ?.ready;
      expect(notForExisting).not.toHaveBeenCalled();
    } finally {
      await rm(existing, { recursive: true, force: true });
    }
  });

  it('uses the default workspace without a --workspace argument', async () => {
    const setup = setUp();
    const shell = startShell(setup.options);
    await shell?.ready;
    expect(shell?.workspaceDir).toBe(resolve('/home/analyst/.config/DRIFT Workbench/workspace'));
  });

  it('hardens every web contents the app creates', async () => {
    const setup = setUp();
    startShell(setup.options);
    const contents = new FakeWebContents();
    setup.app.emit('web-contents-created', {}, contents);
    expect(contents.setWindowOpenHandler).toHaveBeenCalledOnce();
    expect(contents.listenerCount('will-navigate')).toBe(1);
    const blocked = (url: string): boolean => {
      const navigation = { url, preventDefault: vi.fn() };
      contents.emit('will-navigate', navigation);
      return navigation.preventDefault.mock.calls.length > 0;
    };
    expect(blocked('https://evil.example/')).toBe(true);
    expect(blocked('app://other/index.html')).toBe(true);
    expect(blocked(pathToFileURL(resolve(paths.rendererIndex)).href)).toBe(true);
    expect(blocked('app://bundle/index.html#/runs')).toBe(false);
  });

  it('focuses the existing window when a second instance starts', async () => {
    const setup = setUp();
    await startShell(setup.options)?.ready;
    const window = FakeBrowserWindow.instances[0];
    window?.isMinimized.mockReturnValue(true);
    setup.app.emit('second-instance', {}, ['/opt/drift/drift-workbench'], '/');
    expect(window?.restore).toHaveBeenCalledOnce();
    expect(window?.focus).toHaveBeenCalledOnce();
    expect(FakeBrowserWindow.instances).toHaveLength(1);
  });

  it('closes the engine before letting the app quit', async () => {
    const setup = setUp();
    await startShell(setup.options)?.ready;
    let finishClose: () => void = () => undefined;
    setup.engine.close.mockImplementation(() => new Promise<void>((resolveClose) => (finishClose = resolveClose)));

    setup.app.emit('window-all-closed');
    expect(setup.engine.close).toHaveBeenCalledOnce();
    expect(setup.app.quitted).toBe(false);
    setup.app.quit(); // a second quit while closing waits too and does not close twice
    expect(setup.engine.close).toHaveBeenCalledOnce();

    finishClose();
    await vi.waitFor(() => expect(setup.app.quitted).toBe(true));
  });

  it('stays open on macOS when the last window closes', async () => {
    const setup = setUp({ platform: 'darwin' });
    await startShell(setup.options)?.ready;
    setup.app.emit('window-all-closed');
    expect(setup.app.quit).not.toHaveBeenCalled();
  });

  it('shows the error and quits when the engine cannot open', async () => {
    const setup = setUp();
    setup.openEngine.mockRejectedValue(new AppFailure('workspace_locked', 'Another process holds /ws/.lock.'));
    const error = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    await startShell(setup.options)?.ready;
    error.mockRestore();
    expect(setup.dialog.showErrorBox).toHaveBeenCalledOnce();
    expect(setup.dialog.showErrorBox.mock.calls[0]?.[1]).toContain('Another process holds /ws/.lock.');
    expect(setup.app.quitted).toBe(true);
    expect(FakeBrowserWindow.instances).toHaveLength(0);
  });

  it('relaunches on the folder chosen with Open Workspace Folder', async () => {
    const setup = setUp({ argv: ['/opt/drift/drift-workbench', '--workspace=/old'] });
    await startShell(setup.options)?.ready;
    setup.dialog.showOpenDialog.mockResolvedValue({ canceled: false, filePaths: [join('/data', 'new ws')] });
    const template = setup.Menu.buildFromTemplate.mock.calls[0]?.[0] as Array<{
      submenu?: Array<{ label?: string; click?: () => void }>;
    }>;
    const openItem = template
      .flatMap((menu) => menu.submenu ?? [])
      .find((item) => item.label?.startsWith('Open Workspace'));
    openItem?.click?.();
    await vi.waitFor(() => expect(setup.app.relaunch).toHaveBeenCalledOnce());
    expect(setup.app.relaunch).toHaveBeenCalledWith({ args: [`--workspace=${resolve('/data/new ws')}`] });
    expect(setup.engine.close).toHaveBeenCalledOnce();
  });
});
