/** The workspace catalog's lists: datasets, models, runs and reports. Reloaded on catalog:changed. */
import type { DatasetEntry, ModelEntry, ReportEntry, RunEntry } from '../../../src-main/api/schemas.js';
import { api } from './api.js';
import { Resource } from './resource.svelte.js';

export class CatalogState {
  readonly datasets = new Resource<DatasetEntry[]>(() => api.invoke('dataset:list', {}));
  readonly models = new Resource<ModelEntry[]>(() => api.invoke('model:list', {}));
  readonly runs = new Resource<RunEntry[]>(() => api.invoke('run:list', {}));
  readonly reports = new Resource<ReportEntry[]>(() => api.invoke('report:list', {}));

  async load(): Promise<void> {
    await Promise.all([this.datasets.load(), this.models.load(), this.runs.load(), this.reports.load()]);
  }

  connect(): () => void {
    const sections = {
      datasets: this.datasets,
      models: this.models,
      runs: this.runs,
      reports: this.reports,
    } as const;
    const stops = [
      api.on('catalog:changed', ({ section }) => {
        if (section in sections) void sections[section as keyof typeof sections].load();
      }),
      api.onReconnect(() => void this.load()),
    ];
    return () => stops.forEach((stop) => stop());
  }
}

export const catalog = new CatalogState();
