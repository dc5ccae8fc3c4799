/**
 * Host side of `dataset.import`: once the worker has renamed the finished dataset folder into
 * place, the host (the catalog's only writer) adds its entry and tells the UI. If the catalog
 * cannot take it, the folder is removed again so no dataset exists outside the catalog.
 */
import type { DatasetEntry } from '../../api/index.js';
import type { JobCompletion } from '../jobs/types.js';
import { ImportResult } from './import.js';
import { removeDatasetFolder } from './store.js';

export const completeImport: JobCompletion = async (_job, result, host) => {
  const imported = ImportResult.parse(result);
  const entry: DatasetEntry = {
    id: imported.datasetId,
    name: imported.name,
    format: imported.format,
    createdAt: new Date().toISOString(),
    conversations: imported.conversations,
    sourceFiles: imported.sourceFiles,
    messages: imported.messages,
    rejected: imported.rejected,
    duplicates: imported.duplicates,
    languages: imported.languages,
    piiCounts: imported.piiCounts,
    redacted: imported.redacted,
    reportPath: imported.reportPath,
  };
  try {
    await host.workspace.catalog.update((draft) => {
      draft.datasets.push(entry);
    });
  } catch (error) {
    await removeDatasetFolder(host.workspace.dir, imported.datasetId);
    throw error;
  }
  host.events.emit('catalog:changed', { section: 'datasets' });
  return imported;
};
