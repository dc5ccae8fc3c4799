/**
 * The only file in the renderer that talks to the main process. Inside Electron the preload
 * exposes `window.workbench`; in browser mode (`drift-wb serve`) the same interface is built on
 * HTTP for requests and one shared WebSocket for events. Nothing else in the renderer knows
 * which of the two it is using. Protocol: notes/browser-protocol.md.
 */
import type { UploadedFile, WorkbenchBridge } from '../../../src-main/api/bridge.js';
import type { Channel, RequestOf, ResponseOf } from '../../../src-main/api/contract.js';
import type { AppError, Result } from '../../../src-main/api/errors.js';
import type { EventName, EventPayload } from '../../../src-main/api/events.js';
import { CHANNEL_NAMES, EVENT_NAME_LIST } from '../../../src-main/api/names.js';

declare global {
  interface Window {
    /** Set by the Electron preload; absent in browser mode. */
    workbench?: WorkbenchBridge;
  }
}

/** The renderer's view of the main process: the bridge plus the two things that differ by host. */
export interface WorkbenchApi extends WorkbenchBridge {
  /** Opens an https:// link outside the app (system browser, or a new tab in browser mode). */
  openLink(url: string): Promise<Result<{ opened: boolean }>>;
  /**
   * Called whenever the event stream is re-established after it dropped, so stores can reload
   * what they may have missed. Returns the unsubscribe function.
   */
  onReconnect(listener: () => void): () => void;
  /**
   * Browser mode: sends a file dropped on the page to the server, which saves it in the
   * workspace's uploads folder and answers its path there (a browser never learns a dropped
   * file's own path). `onProgress` gets the bytes sent so far. The desktop app has the file's
   * path instead (`pathForFile`), so there this answers an error.
   */
  upload(file: File, onProgress?: (sent: number, total: number) => void): Promise<Result<UploadedFile>>;
}

const TOKEN_PARAMETER = 'token';
const UPLOAD_PATH = '/api/upload';
const TOKEN_STORAGE_KEY = 'drift-wb-token';
const RECONNECT_MIN_MS = 500;
const RECONNECT_MAX_MS = 10_000;

function failure(code: AppError['code'], message: string, hint?: string): { ok: false; error: AppError } {
  const error: AppError = { code, message };
  if (hint !== undefined) error.hint = hint;
  return { ok: false, error };
}

function isResult(value: unknown): value is Result<unknown> {
  if (typeof value !== 'object' || value === null || !('ok' in value)) return false;
  if (value.ok === true) return 'value' in value;
  if (value.ok !== false || !('error' in value)) return false;
  const error = value.error;
  return (
    typeof error === 'object' &&
    error !== null &&
    'code' in error &&
    typeof error.code === 'string' &&
    'message' in error &&
    typeof error.message === 'string'
  );
}

function isKnownChannel(channel: string): channel is Channel {
  return (CHANNEL_NAMES as readonly string[]).includes(channel);
}

function isKnownEvent(event: unknown): event is EventName {
  return typeof event === 'string' && (EVENT_NAME_LIST as readonly string[]).includes(event);
}

/**
 * Reads the start token from `?token=` once, keeps it in sessionStorage for reloads, and removes
 * it from the address bar so it does not linger in history or screenshots.
 */
function takeToken(): string | null {
  const url = new URL(window.location.href);
  const fromUrl = url.searchParams.get(TOKEN_PARAMETER);
  if (fromUrl) {
    sessionStorage.setItem(TOKEN_STORAGE_KEY, fromUrl);
    url.searchParams.delete(TOKEN_PARAMETER);
    window.history.replaceState(window.history.state, '', url.pathname + url.search + url.hash);
    return fromUrl;
  }
  return sessionStorage.getItem(TOKEN_STORAGE_KEY);
}

type AnyListener = (payload: unknown) => void;

/** One WebSocket shared by every subscriber; reconnects with exponential backoff while anyone listens. */
class EventStream {
  readonly #listeners = new Map<EventName, Set<AnyListener>>();
  readonly #reconnectListeners = new Set<() => void>();
  readonly #token: string | null;
  #socket: WebSocket | null = null;
  #retryTimer: ReturnType<typeof setTimeout> | null = null;
  #delay = RECONNECT_MIN_MS;
  #hasConnected = false;

  constructor(token: string | null) {
    this.#token = token;
  }

  subscribe(event: EventName, listener: AnyListener): () => void {
    let set = this.#listeners.get(event);
    if (!set) {
      set = new Set();
      this.#listeners.set(event, set);
    }
    set.add(listener);
    this.#ensureOpen();
    return () => {
      set.delete(listener);
      if (set.size === 0) this.#listeners.delete(event);
      if (this.#listeners.size === 0) this.#close();
    };
  }

  onReconnect(listener: () => void): () => void {
    this.#reconnectListeners.add(listener);
    return () => this.#reconnectListeners.delete(listener);
  }

  #url(): string {
    const scheme = window.location.protocol === 'https:' ? 'wss:' : 'ws:';
    const query = this.#token ? `?${TOKEN_PARAMETER}=${encodeURIComponent(this.#token)}` : '';
    return `${scheme}//${window.location.host}/api/events${query}`;
  }

  #ensureOpen(): void {
    if (this.#socket || this.#retryTimer) return;
    const socket = new WebSocket(this.#url());
    this.#socket = socket;
    socket.addEventListener('open', () => {
      this.#delay = RECONNECT_MIN_MS;
      if (this.#hasConnected) for (const listener of this.#reconnectListeners) listener();
      this.#hasConnected = true;
    });
    socket.addEventListener('message', (message) => this.#deliver(message.data));
    socket.addEventListener('close', () => {
      if (this.#socket !== socket) return;
      this.#socket = null;
      if (this.#listeners.size > 0) this.#scheduleRetry();
    });
  }

  #scheduleRetry(): void {
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = null;
      if (this.#listeners.size > 0) this.#ensureOpen();
    }, this.#delay);
    this.#delay = Math.min(this.#delay * 2, RECONNECT_MAX_MS);
  }

  #close(): void {
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    this.#retryTimer = null;
    const socket = this.#socket;
    this.#socket = null;
    socket?.close();
  }

  #deliver(data: unknown): void {
    if (typeof data !== 'string') return;
    let frame: unknown;
    try {
      frame = JSON.parse(data);
    } catch {
      return;
    }
    if (typeof frame !== 'object' || frame === null || !('event' in frame) || !('payload' in frame)) return;
    if (!isKnownEvent(frame.event)) return;
    for (const listener of this.#listeners.get(frame.event) ?? []) listener(frame.payload);
  }
}

function browserApi(): WorkbenchApi {
  const token = takeToken();
  const stream = new EventStream(token);

  async function invoke<C extends Channel>(channel: C, request: RequestOf<C>): Promise<Result<ResponseOf<C>>> {
    if (!isKnownChannel(channel)) return failure('unknown_channel', `Unknown channel ${String(channel)}.`);
    const headers: Record<string, string> = { 'Content-Type': 'application/json' };
    if (token) headers.Authorization = `Bearer ${token}`;
    let response: Response;
    try {
      response = await fetch(`/api/${channel}`, {
        method: 'POST',
        headers,
        body: JSON.stringify(request ?? {}),
        credentials: 'same-origin',
      });
    } catch (thrown) {
      return failure(
        'internal_error',
        `The workbench server did not answer ${channel}: ${thrown instanceof Error ? thrown.message : String(thrown)}`,
        'Check that `drift-wb serve` is still running, then reload the page.',
      );
    }
    let body: unknown;
    try {
      body = await response.json();
    } catch {
      body = undefined;
    }
    if (isResult(body)) return body as Result<ResponseOf<C>>;
    return failure(
      'internal_error',
      `The workbench server answered ${channel} with HTTP ${response.status} and no result.`,
      'Reload the page; if it persists, restart `drift-wb serve`.',
    );
  }

  // XMLHttpRequest rather than fetch: it reports upload progress.
  function upload(file: File, onProgress?: (sent: number, total: number) => void): Promise<Result<UploadedFile>> {
    return new Promise((resolve) => {
      const request = new XMLHttpRequest();
      request.open('POST', `${UPLOAD_PATH}?name=${encodeURIComponent(file.name)}`);
      if (token) request.setRequestHeader('Authorization', `Bearer ${token}`);
      request.setRequestHeader('Content-Type', 'application/octet-stream');
      request.upload.addEventListener('progress', (event) =>
        onProgress?.(event.loaded, event.lengthComputable ? event.total : file.size),
      );
      request.addEventListener('load', () => {
        let body: unknown;
        try {
          body = JSON.parse(request.responseText);
        } catch {
          body = undefined;
        }
        if (isResult(body)) resolve(body as Result<UploadedFile>);
        else resolve(failure('internal_error', `The upload of ${file.name} was answered with HTTP ${request.status}.`));
      });
      request.addEventListener('error', () =>
        resolve(
          failure(
            'internal_error',
            `The upload of ${file.name} was interrupted.`,
            'The server closes the connection for files over its upload limit (2 GB); otherwise check that ' +
              '`drift-wb serve` is still running.',
          ),
        ),
      );
      request.send(file);
    });
  }

  return {
    invoke,
    on<E extends EventName>(event: E, listener: (payload: EventPayload<E>) => void): () => void {
      return stream.subscribe(event, listener as AnyListener);
    },
    // A browser never reveals where a dropped file lies; browser mode uploads it instead.
    pathForFile: () => '',
    upload,
    async openLink(url: string): Promise<Result<{ opened: boolean }>> {
      if (!/^https:\/\//i.test(url)) {
        return failure('url_not_allowed', `Refused to open ${url}: only https:// links can be opened.`);
      }
      const opened = window.open(url, '_blank', 'noopener,noreferrer');
      return { ok: true, value: { opened: opened !== null } };
    },
    onReconnect: (listener) => stream.onReconnect(listener),
  };
}

function electronApi(bridge: WorkbenchBridge): WorkbenchApi {
  return {
    invoke: (channel, request) => bridge.invoke(channel, request),
    on: (event, listener) => bridge.on(event, listener),
    openLink: (url) => bridge.invoke('link:open', { url }),
    pathForFile: (file) => bridge.pathForFile(file),
    upload: async (file) =>
      failure(
        'invalid_request',
        `${file.name} has no path on this computer (it was dragged from another application).`,
        'Save it to a folder first, then drop it from there or choose it with Browse….',
      ),
    // IPC events cannot drop while the window lives, so there is nothing to reconnect.
    onReconnect: () => () => {},
  };
}

/** The API for this window: the Electron preload when present, otherwise the browser-mode client. */
export const api: WorkbenchApi = window.workbench ? electronApi(window.workbench) : browserApi();

export type { AppError, Result, UploadedFile };
