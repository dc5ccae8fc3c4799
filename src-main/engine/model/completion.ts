/**
 * Host side of `model.import`: the worker has renamed the checked copy into
 * `<workspace>/models/<id>/`; the host (the catalog's only writer) adds its entry and tells the
 * UI. If the catalog cannot take it, the folder is removed so no model exists outside the catalog.
 */
import type { ModelEntry, ModelSummary } from '../../api/index.js';
import type { JobCompletion } from '../jobs/types.js';
import type { ImportModelResult } from './jobs.js';
import { removeModelFolder } from './store.js';

/** A catalog entry for a model folder's summary (with its role when the summary says). */
export function modelEntryOf(
  id: string,
  name: string,
  summary: ModelSummary,
  origin: Pick<ModelEntry, 'origin' | 'source' | 'runId' | 'baseModel'>,
): ModelEntry {
  return {
    id,
    name,
    architecture: summary.architecture,
    parameters: summary.parameters,
    createdAt: new Date().toISOString(),
    ...origin,
    modelType: summary.modelType,
    dtype: summary.dtype,
    vocabSize: summary.vocabSize,
    contextLength: summary.contextLength,
    hiddenSize: summary.hiddenSize,
    layers: summary.layers,
    tokenizer: summary.tokenizer,
    sizeBytes: summary.sizeBytes,
    ...(summary.role === undefined ? {} : { role: summary.role }),
  };
}

/** Adds a model entry (replacing none: an id in use fails) and emits catalog:changed; removes the folder if that fails. */
export async function registerModel(entry: ModelEntry, host: Parameters<JobCompletion>[2]): Promise<void> {
  try {
    await host.workspace.catalog.update((draft) => {
      if (draft.models.some((model) => model.id === entry.id)) {
        throw new Error(`The catalog already has a model ${entry.id}.`);
      }
      draft.models.push(entry);
    });
  } catch (error) {
    await removeModelFolder(host.workspace.dir, entry.id);
    throw error;
  }
  host.events.emit('catalog:changed', { section: 'models' });
}

export const completeModelImport: JobCompletion = async (_job, result, host) => {
  const imported = result as ImportModelResult;
  const entry = modelEntryOf(imported.modelId, imported.name, imported.summary, {
    origin: 'imported',
    source: imported.source,
  });
  await registerModel(entry, host);
  return { ...imported, entry };
};
