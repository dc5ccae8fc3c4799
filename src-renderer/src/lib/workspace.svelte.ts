/** The open workspace: its folder, catalog counts and warnings (from workspace:info and events). */
import type { WorkspaceInfo } from '../../../src-main/api/schemas.js';
import { api } from './api.js';
import { Resource } from './resource.svelte.js';

export class WorkspaceState {
  readonly info = new Resource<WorkspaceInfo>(() => api.invoke('workspace:info', {}));
  /** Warnings pushed while the app runs, shown beside the ones workspace:info reports. */
  pushedWarnings: string[] = $state.raw([]);
  /** Warnings the user closed; they stay closed for this session. */
  dismissed: string[] = $state.raw([]);
  readonly warnings: string[] = $derived(
    [...(this.info.value?.warnings ?? []), ...this.pushedWarnings].filter(
      (warning, index, all) => all.indexOf(warning) === index && !this.dismissed.includes(warning),
    ),
  );

  load(): Promise<void> {
    return this.info.load();
  }

  /** Follows workspace events; returns the function that stops following them. */
  connect(): () => void {
    const stops = [
      api.on('workspace:changed', (info) => this.info.set(info)),
      api.on('workspace:warning', ({ message }) => {
        this.pushedWarnings = [...this.pushedWarnings, message];
      }),
      // Catalog counts live in workspace:info.
      api.on('catalog:changed', () => void this.info.load()),
      api.onReconnect(() => void this.info.load()),
    ];
    return () => stops.forEach((stop) => stop());
  }

  dismissWarning(message: string): void {
    this.dismissed = [...this.dismissed, message];
  }
}

export const workspace = new WorkspaceState();
