/** Workspace settings, and the colour theme applied to the document. */
import type { Settings } from '../../../src-main/api/schemas.js';
import { api, type AppError } from './api.js';
import { Resource } from './resource.svelte.js';

export class SettingsState {
  readonly current = new Resource<Settings>(() => api.invoke('settings:get', {}));
  saveError: AppError | null = $state.raw(null);
  saving = $state(false);
  readonly theme = $derived(this.current.value?.theme ?? 'system');

  load(): Promise<void> {
    return this.current.load();
  }

  async update(patch: Partial<Settings>): Promise<void> {
    this.saving = true;
    const result = await api.invoke('settings:update', patch);
    this.saving = false;
    if (result.ok) {
      this.current.set(result.value);
      this.saveError = null;
    } else {
      this.saveError = result.error;
    }
  }

  connect(): () => void {
    const stops = [
      api.on('catalog:changed', ({ section }) => {
        if (section === 'settings') void this.load();
      }),
    ];
    return () => stops.forEach((stop) => stop());
  }
}

export const settings = new SettingsState();
