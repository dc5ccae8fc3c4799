/**
 * One value loaded from the main process: the last good value and the last error. Views render
 * both, so a failure is a banner and never a blank screen.
 */
import type { AppError, Result } from './api.js';

export class Resource<T> {
  value: T | null = $state.raw(null);
  error: AppError | null = $state.raw(null);
  readonly #fetch: () => Promise<Result<T>>;

  constructor(fetch: () => Promise<Result<T>>) {
    this.#fetch = fetch;
  }

  async load(): Promise<void> {
    const result = await this.#fetch();
    if (result.ok) {
      this.value = result.value;
      this.error = null;
    } else {
      this.error = result.error;
    }
  }

  /** Replaces the value with one pushed by an event. */
  set(value: T): void {
    this.value = value;
    this.error = null;
  }
}
