/**
 * Host side of `model.train-sft`: adds the trained model (origin "trained") and the run (method
 * "sft") to the catalog once the worker has saved the model folder.
 */
import type { RunEntry } from '../../api/index.js';
import type { JobCompletion } from '../jobs/types.js';
import { modelEntryOf, registerModel } from '../model/completion.js';
import type { TrainSftResult } from './job.js';

export const completeTraining: JobCompletion = async (_job, result, host) => {
  const trained = result as TrainSftResult;
  const baseModel = 'preset' in trained.base ? `preset:${trained.base.preset}` : trained.base.model;
  const entry = modelEntryOf(trained.modelId, trained.modelName, trained.summary, {
    origin: 'trained',
    source: `sft:${trained.runId}`,
    runId: trained.runId,
    baseModel,
  });
  await registerModel(entry, host);
  const run: RunEntry = {
    id: trained.runId,
    name: trained.modelName,
    method: 'sft',
    status: 'succeeded',
    createdAt: new Date().toISOString(),
    baseModelId: baseModel,
    datasetId: trained.datasetId ?? 'files',
  };
  await host.workspace.catalog.update((draft) => {
    draft.runs = [...draft.runs.filter((existing) => existing.id !== run.id), run];
  });
  host.events.emit('catalog:changed', { section: 'runs' });
  return { ...trained, entry };
};
