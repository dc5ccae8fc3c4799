/** A typed event bus for the engine's events (src-main/api/events.ts). */
import { EventEmitter } from 'node:events';
import type { EventName, EventPayload } from '../api/index.js';

export class EngineEvents {
  readonly #emitter = new EventEmitter();

  constructor() {
    // Hosts subscribe once per window or socket; many sockets are legitimate.
    this.#emitter.setMaxListeners(0);
  }

  emit<E extends EventName>(event: E, payload: EventPayload<E>): void {
    this.#emitter.emit(event, payload);
  }

  on<E extends EventName>(event: E, listener: (payload: EventPayload<E>) => void): () => void {
    this.#emitter.on(event, listener);
    return () => this.#emitter.off(event, listener);
  }
}
