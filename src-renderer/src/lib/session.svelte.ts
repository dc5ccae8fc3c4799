/**
 * The app session: what the host says about itself, start-up (load every store and follow
 * events), and errors that escaped every store, shown as a banner instead of a blank screen.
 */
import type { AppInfo } from '../../../src-main/api/contract.js';
import { api, type AppError } from './api.js';
import { backend } from './backend.svelte.js';
import { catalog } from './catalog.svelte.js';
import { jobs } from './jobs.svelte.js';
import { Resource } from './resource.svelte.js';
import { settings } from './settings.svelte.js';
import { workspace } from './workspace.svelte.js';

export class SessionState {
  readonly about = new Resource<AppInfo>(() => api.invoke('app:info', {}));
  /** The last unexpected error (a bug or a lost connection), if any. */
  unexpected: AppError | null = $state.raw(null);

  /** Connects every store to its events, loads them, and returns the function that disconnects. */
  start(): () => void {
    const stops = [workspace.connect(), catalog.connect(), jobs.connect(), settings.connect()];
    void Promise.all([
      this.about.load(),
      workspace.load(),
      backend.load(),
      catalog.load(),
      jobs.load(),
      settings.load(),
    ]).catch((thrown: unknown) => this.report(thrown));

    const onError = (event: ErrorEvent): void => this.report(event.error ?? event.message);
    const onRejection = (event: PromiseRejectionEvent): void => this.report(event.reason);
    window.addEventListener('error', onError);
    window.addEventListener('unhandledrejection', onRejection);
    return () => {
      stops.forEach((stop) => stop());
      window.removeEventListener('error', onError);
      window.removeEventListener('unhandledrejection', onRejection);
    };
  }

  report(thrown: unknown): void {
    const message = thrown instanceof Error ? thrown.message : String(thrown);
    this.unexpected = {
      code: 'internal_error',
      message,
      hint: 'Reload the window. If it happens again, the details are in the developer console.',
    };
  }
}

export const session = new SessionState();
