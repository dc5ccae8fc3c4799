/** The tfjs backend the engine chose, and why each better one was not taken. */
import type { BackendInfo } from '../../../src-main/api/schemas.js';
import { api } from './api.js';
import { Resource } from './resource.svelte.js';

export class BackendState {
  readonly info = new Resource<BackendInfo>(() => api.invoke('backend:info', {}));
  /** The attempts that were not chosen, with their reasons: what a tooltip explains. */
  readonly passedOver = $derived(this.info.value?.attempts.filter((attempt) => !attempt.chosen) ?? []);

  load(): Promise<void> {
    return this.info.load();
  }
}

export const backend = new BackendState();
