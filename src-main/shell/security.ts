/**
 * The shell's security policy in one place (reference/reliability.md §2, Electron's security
 * checklist): locked-down window options, a deny-all permission policy, blocked navigation and
 * new windows, the check that IPC comes from our own top frame, and the only call to
 * `shell.openExternal` in the code base.
 */
import { shell } from 'electron';
import type {
  BrowserWindowConstructorOptions,
  Event,
  HandlerDetails,
  Session,
  WebContents,
  WebFrameMain,
  WebPreferences,
  WindowOpenHandlerResponse,
} from 'electron';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AppFailure } from '../api/index.js';
import { APP_INDEX_URL, isBundleUrl } from './protocol.js';

/**
 * Where the renderer comes from. The app loads the built renderer folder through the
 * `app://bundle/` protocol (protocol.ts); a development build may load electron-vite's dev
 * server instead. `file` (one index.html loaded from disk, matched by its exact path) is the
 * former loading, kept for callers that still describe the renderer that way.
 */
export type RendererLocation =
  | { kind: 'bundle'; url: string; rendererDir: string }
  | { kind: 'file'; indexPath: string }
  | { kind: 'dev-server'; url: string; origin: string };

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * Picks the renderer location. `ELECTRON_RENDERER_URL` (set by `electron-vite dev`) is honoured
 * only in an unpackaged app and only on loopback, so an environment variable can never point a
 * shipped app, or its preload bridge, at a remote page.
 */
export function resolveRendererLocation(options: {
  isPackaged: boolean;
  devServerUrl: string | undefined;
  indexPath: string;
}): RendererLocation {
  if (!options.isPackaged && options.devServerUrl) {
    const url = new URL(options.devServerUrl);
    if ((url.protocol !== 'http:' && url.protocol !== 'https:') || !LOOPBACK_HOSTS.has(url.hostname)) {
      throw new Error(`ELECTRON_RENDERER_URL must be a loopback http(s) URL, got ${url.origin}.`);
    }
    return { kind: 'dev-server', url: url.href, origin: url.origin };
  }
  return { kind: 'bundle', url: APP_INDEX_URL, rendererDir: dirname(resolve(options.indexPath)) };
}

function samePath(left: string, right: string): boolean {
  // Windows paths are case-insensitive; Chromium and Node may disagree on the drive letter's case.
  if (process.platform === 'win32') return left.toLowerCase() === right.toLowerCase();
  return left === right;
}

/**
 * True when `rawUrl` is the renderer itself: the `app://bundle` origin, or the same origin as the
 * dev server (compared as origins, never with startsWith, so `http://localhost:5173.attacker.com`
 * does not pass), or for a `file` location exactly its index.html (file: URLs all share the
 * opaque origin "null", so the path is compared instead; query and fragment are ignored).
 */
export function isRendererUrl(renderer: RendererLocation, rawUrl: string): boolean {
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    return false;
  }
  if (renderer.kind === 'bundle') return isBundleUrl(url.href);
  if (renderer.kind === 'dev-server') return url.origin === renderer.origin;
  if (url.protocol !== 'file:') return false;
  try {
    return samePath(resolve(fileURLToPath(url)), renderer.indexPath);
  } catch {
    return false; // e.g. a file URL with a remote host
  }
}

/**
 * The IPC sender check (checklist item 17, after VS Code's `validatedIpcMain`): the frame must
 * exist, be a top-level frame (not an iframe inside our page), and show the renderer.
 */
export function isTrustedSenderFrame(frame: WebFrameMain | null | undefined, renderer: RendererLocation): boolean {
  if (!frame) return false;
  try {
    // Reading a frame that navigated away or was destroyed can throw.
    return frame.parent === null && typeof frame.url === 'string' && isRendererUrl(renderer, frame.url);
  } catch {
    return false;
  }
}

/**
 * Web preferences with every security-relevant option forced. The overrides are spread first
 * and the locked values written after them, so no caller can turn the sandbox, context
 * isolation or web security off (VS Code's `defaultBrowserWindowOptions` does the same).
 */
export function secureWebPreferences(preloadPath: string, overrides: WebPreferences = {}): WebPreferences {
  // enableBlinkFeatures is dropped rather than overridden: any value switches features on.
  const { enableBlinkFeatures: _dropped, ...rest } = overrides;
  return {
    ...rest,
    preload: preloadPath,
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
    safeDialogs: true,
  };
}

/** BrowserWindow options whose web preferences go through {@link secureWebPreferences}. */
export function secureWindowOptions(
  options: BrowserWindowConstructorOptions & { webPreferences: WebPreferences & { preload: string } },
): BrowserWindowConstructorOptions {
  return { ...options, webPreferences: secureWebPreferences(options.webPreferences.preload, options.webPreferences) };
}

/**
 * Electron grants every permission request unless a handler says otherwise (security.md §5).
 * The workbench needs none (camera, notifications, clipboard reads, USB, ...), so all are denied.
 */
export function installSessionPolicy(
  session: Pick<Session, 'setPermissionRequestHandler' | 'setPermissionCheckHandler' | 'setDevicePermissionHandler'>,
): void {
  session.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  session.setPermissionCheckHandler(() => false);
  session.setDevicePermissionHandler(() => false);
}

/**
 * Locks one webContents down: navigation and redirects are cancelled unless they stay on the
 * renderer, `<webview>` cannot attach, and `window.open` / `target="_blank"` never opens a window.
 *
 * The window-open handler denies without forwarding https links to the system browser on
 * purpose: it also fires for iframes, which the IPC sender check refuses, so forwarding would
 * give a framed page (for example a report preview showing dataset text) a way to open links
 * that `link:open` does not. The UI opens links through `link:open` instead.
 */
export function hardenWebContents(
  contents: Pick<WebContents, 'on' | 'setWindowOpenHandler'>,
  renderer: RendererLocation,
): void {
  const keepOnRenderer = (event: Event<{ url: string }>): void => {
    if (!isRendererUrl(renderer, event.url)) event.preventDefault();
  };
  contents.on('will-navigate', keepOnRenderer);
  contents.on('will-redirect', keepOnRenderer);
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler((_details: HandlerDetails): WindowOpenHandlerResponse => ({ action: 'deny' }));
}

const MAX_EXTERNAL_URL_LENGTH = 2048;

/**
 * Why a link may not leave the app, or null when it may: only well-formed `https:` URLs
 * without embedded credentials pass. Everything else (`file:`, `javascript:`, `smb:`,
 * `ms-msdt:`, plain `http:`, `data:`) is what the checklist's item 15 warns about.
 */
export function externalUrlProblem(raw: string): string | null {
  if (raw.length > MAX_EXTERNAL_URL_LENGTH) return `The link is longer than ${MAX_EXTERNAL_URL_LENGTH} characters.`;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'The link is not a valid URL.';
  }
  if (url.protocol !== 'https:') return `Links with the ${url.protocol} scheme are not opened; only https:// is.`;
  if (url.username || url.password) return 'Links that carry a user name or password are not opened.';
  if (!url.hostname) return 'The link has no host.';
  return null;
}

/**
 * Opens an https:// link in the system browser. The only caller of `shell.openExternal` (a
 * lint rule bans it elsewhere). Throws `url_not_allowed` with the reason for any other link;
 * the normalised URL, not the raw string, is what reaches the operating system.
 */
export async function openExternalSafe(raw: string): Promise<void> {
  const problem = externalUrlProblem(raw);
  if (problem) throw new AppFailure('url_not_allowed', problem, { url: raw.slice(0, 200) });
  await shell.openExternal(new URL(raw).href);
}
