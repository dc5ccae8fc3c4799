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
}
