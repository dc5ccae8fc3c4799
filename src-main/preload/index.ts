/**
 * The sandboxed preload: exposes `window.workbench = { invoke, on, pathForFile }` and nothing
 * else (security checklist item 20). Verbs over the channel allowlist, never `ipcRenderer`
 * itself; event listeners receive the payload only, never the IpcRendererEvent. `pathForFile`
 * gives the path of a file dropped on the window (Electron's `webUtils.getPathForFile`, which
 * replaced `File.path`), so the Import view can import a dropped file where it lies.
 *
 * It is bundled to one CJS file (a sandboxed preload cannot be ESM and may require only
 * `electron` and a few built-ins), so its only runtime import besides electron is the name
 * list in ../api/names.ts; the other imports are types and vanish at build time.
 */
import { contextBridge, ipcRenderer, webUtils } from 'electron';
import type { IpcRenderer, IpcRendererEvent, WebUtils } from 'electron';
import type { WorkbenchBridge } from '../api/bridge.js';
import type { AppError, ErrorCode } from '../api/errors.js';
import { CHANNEL_NAMES, EVENT_CHANNEL_PREFIX, EVENT_NAME_LIST } from '../api/names.js';

const channels: ReadonlySet<string> = new Set(CHANNEL_NAMES);
const eventNames: ReadonlySet<string> = new Set(EVENT_NAME_LIST);

function failure(code: ErrorCode, message: string): { ok: false; error: AppError } {
  return { ok: false, error: { code, message } };
}

/**
 * Builds the bridge over an `ipcRenderer` (and `webUtils` for dropped files). `invoke` resolves
 * with a Result in every case: an unknown channel gets `unknown_channel` without reaching the
 * main process, like the browser-mode client. `on` throws for an unknown event name (a
 * programming error, not data). `pathForFile` answers '' for anything that is not a file from disk.
 */
export function createBridge(
  renderer: Pick<IpcRenderer, 'invoke' | 'on' | 'removeListener'>,
  files?: Pick<WebUtils, 'getPathForFile'>,
): WorkbenchBridge {
  const invoke = (channel: string, request: unknown): Promise<unknown> => {
    if (typeof channel !== 'string' || !channels.has(channel)) {
      return Promise.resolve(
        failure('unknown_channel', `Unknown channel ${JSON.stringify(String(channel).slice(0, 80))}.`),
      );
    }
    return renderer
      .invoke(channel, request)
      .catch((thrown: unknown) =>
        failure('internal_error', thrown instanceof Error ? thrown.message : `IPC call ${channel} failed.`),
      );
  };

  const on = (event: string, listener: (payload: unknown) => void): (() => void) => {
    if (typeof event !== 'string' || !eventNames.has(event)) {
      throw new TypeError(`Unknown event ${JSON.stringify(String(event).slice(0, 80))}.`);
    }
    if (typeof listener !== 'function') throw new TypeError('The event listener must be a function.');
    const ipcChannel = EVENT_CHANNEL_PREFIX + event;
    const forward = (_event: IpcRendererEvent, payload: unknown): void => listener(payload);
    renderer.on(ipcChannel, forward);
    return () => {
      renderer.removeListener(ipcChannel, forward);
    };
  };

  const pathForFile = (file: File): string => {
    if (!files) return '';
    try {
      return files.getPathForFile(file);
    } catch {
      return ''; // not a File (webUtils throws a TypeError)
    }
  };

  return Object.freeze({ invoke, on, pathForFile }) as WorkbenchBridge;
}

// No fallback to `window.workbench = ...` when context isolation is off: exposeInMainWorld
// throws then, and the app fails loudly instead of running with an exposed bridge.
// `webUtils` is read when a file is dropped, not at load time.
contextBridge.exposeInMainWorld(
  'workbench',
  createBridge(ipcRenderer, { getPathForFile: (file) => webUtils.getPathForFile(file) }),
);
