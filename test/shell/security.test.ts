import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { WebPreferences } from 'electron';
import { AppFailure } from '../../src-main/api/index.js';
import {
  externalUrlProblem,
  hardenWebContents,
  installSessionPolicy,
  isRendererUrl,
  isTrustedSenderFrame,
  openExternalSafe,
  resolveRendererLocation,
  secureWebPreferences,
  secureWindowOptions,
  type RendererLocation,
} from '../../src-main/shell/security.js';

const electron = vi.hoisted(() => ({ shell: { openExternal: vi.fn(async (_url: string) => undefined) } }));
vi.mock('electron', () => electron);

afterEach(() => {
  electron.shell.openExternal.mockClear();
});

const devServer: RendererLocation = {
  kind: 'dev-server',
  url: 'http://localhost:5173/',
  origin: 'http://localhost:5173',
};
const rendererDir = join(mkdtempSync(join(tmpdir(), 'drift shell ')), 'out', 'renderer');
const bundled: RendererLocation = { kind: 'file', indexPath: join(rendererDir, 'index.html') };
const appBundle: RendererLocation = { kind: 'bundle', url: 'app://bundle/index.html', rendererDir };

/* eslint-disable no-restricted-syntax -- a hostile caller on purpose: these are the settings that must not win */
const hostile: WebPreferences = {
  nodeIntegration: true,
  nodeIntegrationInWorker: true,
  nodeIntegrationInSubFrames: true,
  sandbox: false,
  contextIsolation: false,
  webSecurity: false,
  allowRunningInsecureContent: true,
  webviewTag: true,
  experimentalFeatures: true,
  enableBlinkFeatures: 'CSSPseudoHas',
  preload: '/tmp/evil.js',
  zoomFactor: 1.5,
};
/* eslint-enable no-restricted-syntax */

const locked = {
  contextIsolation: true,
  sandbox: true,
  nodeIntegration: false,
  nodeIntegrationInWorker: false,
  nodeIntegrationInSubFrames: false,
  webSecurity: true,
  webviewTag: false,
  allowRunningInsecureContent: false,
  experimentalFeatures: false,
  spellcheck: false,
  navigateOnDragDrop: false,
};

describe('secure window options', () => {
  it('keep every security setting whatever the overrides say', () => {
    const preferences = secureWebPreferences('/app/out/preload/index.cjs', hostile);
    expect(preferences).toMatchObject(locked);
    expect(preferences.preload).toBe('/app/out/preload/index.cjs');
    expect(preferences).not.toHaveProperty('enableBlinkFeatures');
    expect(preferences.zoomFactor).toBe(1.5); // harmless overrides still pass
  });

  it('lock the window web preferences and keep the other window options', () => {
    const options = secureWindowOptions({
      width: 800,
      show: false,
      webPreferences: { ...hostile, preload: '/app/out/preload/index.cjs' },
    });
    expect(options.width).toBe(800);
    expect(options.show).toBe(false);
    expect(options.webPreferences).toMatchObject({ ...locked, preload: '/app/out/preload/index.cjs' });
  });
});

describe('session policy', () => {
  it('denies every permission request, check and device', () => {
    const session = {
      setPermissionRequestHandler: vi.fn(),
      setPermissionCheckHandler: vi.fn(),
      setDevicePermissionHandler: vi.fn(),
    };
    installSessionPolicy(session);

    const request = session.setPermissionRequestHandler.mock.calls[0]?.[0];
    for (const permission of ['media', 'notifications', 'geolocation', 'openExternal', 'clipboard-read']) {
      const callback = vi.fn();
      request({}, permission, callback, {});
      expect(callback).toHaveBeenCalledExactlyOnceWith(false);
    }
    const check = session.setPermissionCheckHandler.mock.calls[0]?.[0];
    expect(check(null, 'media', 'file://', {})).toBe(false);
    expect(check(null, 'clipboard-sanitized-write', 'http://localhost:5173', {})).toBe(false);
    const device = session.setDevicePermissionHandler.mock.calls[0]?.[0];
    expect(device({ deviceType: 'usb', origin: 'file://' })).toBe(false);
  });
});

type Listener = (event: { url?: string; preventDefault: () => void }) => void;

function fakeWebContents() {
  const listeners = new Map<string, Listener>();
  const contents = {
    on: vi.fn((name: string, listener: Listener) => {
      listeners.set(name, listener);
      return contents;
    }),
    setWindowOpenHandler: vi.fn(),
  };
  /** Emits `name` with a URL; returns whether the shell prevented it. */
  const emit = (name: string, url?: string): boolean => {
    const event = { url, preventDefault: vi.fn() };
    const listener = listeners.get(name);
    if (!listener) throw new Error(`no ${name} listener`);
    listener(event);
    return event.preventDefault.mock.calls.length > 0;
  };
  return { contents, emit };
}

describe('hardenWebContents', () => {
  it('keeps navigation and redirects on the dev server origin', () => {
    const { contents, emit } = fakeWebContents();
    hardenWebContents(contents as never, devServer);
    for (const event of ['will-navigate', 'will-redirect']) {
      expect(emit(event, 'http://localhost:5173/')).toBe(false);
      expect(emit(event, 'http://localhost:5173/index.html#/runs')).toBe(false);
      expect(emit(event, 'https://localhost:5173.attacker.com/')).toBe(true);
      expect(emit(event, 'http://localhost:5173.attacker.com/')).toBe(true);
      expect(emit(event, 'http://localhost:5174/')).toBe(true);
      expect(emit(event, 'https://example.com/')).toBe(true);
      expect(emit(event, 'file:///etc/passwd')).toBe(true);
      expect(emit(event, 'not a url')).toBe(true);
    }
  });

  it('keeps navigation and redirects on the app://bundle origin', () => {
    const { contents, emit } = fakeWebContents();
    hardenWebContents(contents as never, appBundle);
    for (const event of ['will-navigate', 'will-redirect']) {
      expect(emit(event, 'app://bundle/index.html')).toBe(false);
      expect(emit(event, 'app://bundle/index.html#/runs?x=1')).toBe(false);
      expect(emit(event, 'app://bundle/')).toBe(false);
      expect(emit(event, 'app://other/index.html')).toBe(true);
      expect(emit(event, 'app://bundle.evil/index.html')).toBe(true);
      expect(emit(event, 'app://bundle:1/index.html')).toBe(true);
      expect(emit(event, 'app://user@bundle/index.html')).toBe(true);
      expect(emit(event, pathToFileURL(join(rendererDir, 'index.html')).href)).toBe(true);
      expect(emit(event, 'file:///etc/passwd')).toBe(true);
      expect(emit(event, 'http://localhost:5173/')).toBe(true);
      expect(emit(event, 'https://bundle/index.html')).toBe(true);
      expect(emit(event, 'not a url')).toBe(true);
    }
  });

  it('allows only the bundled index.html when the renderer is a file', () => {
    const { contents, emit } = fakeWebContents();
    hardenWebContents(contents as never, bundled);
    expect(emit('will-navigate', pathToFileURL(bundled.kind === 'file' ? bundled.indexPath : '').href)).toBe(false);
    expect(emit('will-navigate', pathToFileURL(join(rendererDir, 'other.html')).href)).toBe(true);
    expect(emit('will-navigate', 'file:///etc/passwd')).toBe(true);
    expect(emit('will-navigate', 'http://localhost:5173/')).toBe(true);
  });

  it('denies every new window and opens nothing externally', () => {
    const { contents, emit } = fakeWebContents();
    hardenWebContents(contents as never, devServer);
    const handler = contents.setWindowOpenHandler.mock.calls[0]?.[0];
    for (const url of ['https://example.com/', 'http://localhost:5173/', 'javascript:alert(1)', 'file:///etc/passwd']) {
      expect(handler({ url, frameName: '', features: '', disposition: 'new-window' })).toEqual({ action: 'deny' });
    }
    expect(electron.shell.openExternal).not.toHaveBeenCalled();
    expect(emit('will-attach-webview')).toBe(true);
  });
});

describe('renderer location', () => {
  it('ignores ELECTRON_RENDERER_URL in a packaged app', () => {
    const location = resolveRendererLocation({
      isPackaged: true,
      devServerUrl: 'https://evil.example/',
      indexPath: '/app/out/renderer/index.html',
    });
    expect(location).toEqual({
      kind: 'bundle',
      url: 'app://bundle/index.html',
      rendererDir: resolve('/app/out/renderer'),
    });
  });

  it('serves the built renderer through app://bundle when there is no dev server', () => {
    expect(
      resolveRendererLocation({ isPackaged: false, devServerUrl: undefined, indexPath: '/x/out/renderer/index.html' }),
    ).toEqual({ kind: 'bundle', url: 'app://bundle/index.html', rendererDir: resolve('/x/out/renderer') });
  });

  it('uses the dev server in development, on loopback only', () => {
    expect(
      resolveRendererLocation({ isPackaged: false, devServerUrl: 'http://localhost:5173', indexPath: '/x/index.html' }),
    ).toEqual({ kind: 'dev-server', url: 'http://localhost:5173/', origin: 'http://localhost:5173' });
    expect(() =>
      resolveRendererLocation({ isPackaged: false, devServerUrl: 'https://evil.example/', indexPath: '/x/index.html' }),
    ).toThrow(/loopback/);
  });

  it('matches the index file through percent-encoding, query and fragment', () => {
    const url = new URL(pathToFileURL(join(rendererDir, 'index.html')).href);
    expect(url.href).toContain('%20'); // the temporary folder name has a space
    url.hash = '#/runs/1';
    url.search = '?mode=1';
    expect(isRendererUrl(bundled, url.href)).toBe(true);
    expect(isRendererUrl(bundled, 'file://remote-host/share/index.html')).toBe(false);
  });
});

describe('isTrustedSenderFrame', () => {
  it('accepts the app://bundle top frame only', () => {
    expect(isTrustedSenderFrame({ parent: null, url: 'app://bundle/index.html#/home' } as never, appBundle)).toBe(true);
    const top = { parent: null, url: 'app://bundle/index.html' };
    expect(isTrustedSenderFrame({ parent: top, url: top.url } as never, appBundle)).toBe(false);
    expect(isTrustedSenderFrame({ parent: null, url: 'app://other/index.html' } as never, appBundle)).toBe(false);
    const fileUrl = pathToFileURL(join(rendererDir, 'index.html')).href;
    expect(isTrustedSenderFrame({ parent: null, url: fileUrl } as never, appBundle)).toBe(false);
  });

  const indexUrl = pathToFileURL(join(rendererDir, 'index.html')).href;
  const top = { parent: null, url: indexUrl };

  it('accepts the renderer top frame only', () => {
    expect(isTrustedSenderFrame(top as never, bundled)).toBe(true);
    expect(isTrustedSenderFrame({ parent: top, url: indexUrl } as never, bundled)).toBe(false);
    expect(isTrustedSenderFrame({ parent: null, url: 'https://evil.example/' } as never, bundled)).toBe(false);
    expect(isTrustedSenderFrame({ parent: null } as never, bundled)).toBe(false);
    expect(isTrustedSenderFrame(null, bundled)).toBe(false);
    expect(isTrustedSenderFrame(undefined, bundled)).toBe(false);
  });

  it('refuses a frame that throws when read (destroyed)', () => {
    const destroyed = {
      get parent(): never {
        throw new Error('Render frame was disposed before WebFrameMain could be accessed');
      },
    };
    expect(isTrustedSenderFrame(destroyed as never, bundled)).toBe(false);
  });
});

describe('openExternalSafe', () => {
  const refused = [
    'file:///etc/passwd',
    'javascript:alert(1)',
    'smb://attacker.example/share',
    'ms-msdt:/id PCWDiagnostic',
    'http://example.com/',
    'data:text/html,<script>alert(1)</script>',
    'https://user:pw@example.com/',
    'https://user@example.com/',
    'not a url',
    '',
    'https://',
    `https://example.com/${'a'.repeat(3000)}`,
  ];

  it.each(refused)('refuses %s without calling shell.openExternal', async (url) => {
    expect(externalUrlProblem(url)).toEqual(expect.any(String));
    const failure = await openExternalSafe(url).catch((thrown: unknown) => thrown);
    expect(failure).toBeInstanceOf(AppFailure);
    expect((failure as AppFailure).code).toBe('url_not_allowed');
    expect(electron.shell.openExternal).not.toHaveBeenCalled();
  });

  it('opens an https link exactly once, normalised', async () => {
    await openExternalSafe('https://Example.com/a b');
    expect(electron.shell.openExternal).toHaveBeenCalledExactlyOnceWith('https://example.com/a%20b');
  });
});
