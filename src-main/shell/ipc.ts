/**
 * The one place the shell touches `ipcMain`. Every channel of the contract is registered through
 * the same wrapper: sender check, then `dispatch` (schema check, handler, thrown errors turned
 * into AppErrors). Handlers answer with a Result and never throw across IPC, because Electron
 * would pass only `error.message` to the renderer (docs/api/ipc-main.md).
 */
import type { IpcMain, IpcMainInvokeEvent, WebContents } from 'electron';
import {
  CHANNELS,
  EVENT_CHANNEL_PREFIX,
  EVENT_NAMES,
  dispatch,
  err,
  type DispatchOptions,
  type Handlers,
  type Result,
} from '../api/index.js';
import type { Engine } from '../engine/index.js';
import { isTrustedSenderFrame, type RendererLocation } from './security.js';

function describeSender(event: IpcMainInvokeEvent): string {
  try {
    const frame = event.senderFrame;
    if (!frame) return 'a frame that no longer exists';
    return `${frame.parent === null ? 'top frame' : 'subframe'} ${JSON.stringify(frame.url.slice(0, 200))}`;
  } catch {
    return 'a frame that can no longer be read';
  }
}

/**
 * Registers one `ipcMain.handle` per contract channel. A call is served only when it comes from
 * the renderer's top frame (see `isTrustedSenderFrame`); anything else gets `forbidden_sender`.
 * Returns a function that removes the handlers again.
 */
export function registerIpcHandlers(
  ipcMain: Pick<IpcMain, 'handle' | 'removeHandler'>,
  handlers: Handlers,
  renderer: RendererLocation,
  options: DispatchOptions = {},
): () => void {
  for (const channel of CHANNELS) {
    ipcMain.handle(channel, async (event: IpcMainInvokeEvent, payload: unknown): Promise<Result<unknown>> => {
      if (!isTrustedSenderFrame(event.senderFrame, renderer)) {
        const sender = describeSender(event);
        console.warn(`[ipc] ${channel}: refused a call from ${sender}`);
        return err('forbidden_sender', `${channel} refused a call from ${sender}.`);
      }
      return dispatch(handlers, channel, payload, options);
    });
  }
  return () => {
    for (const channel of CHANNELS) ipcMain.removeHandler(channel);
  };
}

/**
 * Forwards every engine event to one window as `event:<name>` with the payload as the only
 * argument. Returns a function that stops forwarding.
 */
export function forwardEvents(
  engine: Pick<Engine, 'on'>,
  contents: Pick<WebContents, 'send' | 'isDestroyed'>,
): () => void {
  const unsubscribers = EVENT_NAMES.map((name) =>
    engine.on(name, (payload) => {
      if (!contents.isDestroyed()) contents.send(EVENT_CHANNEL_PREFIX + name, payload);
    }),
  );
  return () => {
    for (const unsubscribe of unsubscribers) unsubscribe();
  };
}
