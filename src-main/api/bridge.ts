/**
 * The interface the preload exposes as `window.workbench` and the browser-mode client
 * implements. Types only; the renderer's api.ts picks one of the two.
 */
import type { Channel, RequestOf, ResponseOf } from './contract.js';
import type { Result } from './errors.js';
import type { EventName, EventPayload } from './events.js';

export interface WorkbenchBridge {
  invoke<C extends Channel>(channel: C, request: RequestOf<C>): Promise<Result<ResponseOf<C>>>;
  /** Subscribes to an engine event; returns the unsubscribe function. */
  on<E extends EventName>(event: E, listener: (payload: EventPayload<E>) => void): () => void;
  /**
   * The path on disk of a file dropped on the window (desktop only: Electron's
   * `webUtils.getPathForFile`); '' when the file has none. Browser mode uploads dropped files instead.
   */
  pathForFile(file: File): string;
}

/**
 * What browser mode's `POST /api/upload?name=<file name>` answers (in a Result): where the server
 * saved a file dropped on the page, to import like a typed path. The desktop app needs no upload.
 */
export interface UploadedFile {
  /** Absolute path on the server, under `<workspace>/uploads/`. */
  path: string;
  /** The file name as saved (sanitised). */
  name: string;
  bytes: number;
}
