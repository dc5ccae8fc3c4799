/** The engine's handlers for the signals, conversations, pairs and pair-set channels. */
import type { EngineHandlers } from '../../api/index.js';
import type { EngineEvents } from '../events.js';
import { RUBRIC } from '../signals/categories.js';
import { listClassifiers } from '../signals/classifier/store.js';
import { ruleCatalog } from '../signals/rules/detector.js';
import type { Workspace } from '../workspace/index.js';
import { CurationService } from './service.js';

export type CurationChannel =
  | 'signals:rubric'
  | 'signals:report'
  | 'classifier:list'
  | 'conversation:list'
  | 'conversation:get'
  | 'pair:list'
  | 'pair:get'
  | 'pair:decide'
  | 'pair:undo'
  | 'pair:export'
  | 'pairset:freeze'
  | 'pairset:list'
  | 'pairset:get';

export function createCurationHandlers(deps: {
  workspace: Workspace;
  events: EngineEvents;
}): Pick<EngineHandlers, CurationChannel> {
  const curation = new CurationService(deps.workspace, deps.events);
  return {
    'signals:rubric': async () => ({ categories: [...RUBRIC], rules: ruleCatalog() }),
    'signals:report': ({ datasetId }) => curation.report(datasetId),
    'classifier:list': () => listClassifiers(deps.workspace.dir),
    'conversation:list': ({ datasetId, filter, offset, limit }) =>
      curation.listConversations(datasetId, filter, offset, limit),
    'conversation:get': ({ datasetId, id }) => curation.getConversation(datasetId, id),
    'pair:list': ({ datasetId, filter, sort, offset, limit }) =>
      curation.listPairs(datasetId, filter, sort, offset, limit),
    'pair:get': ({ datasetId, id }) => curation.getPair(datasetId, id),
    'pair:decide': (request) => curation.decide(request),
    'pair:undo': ({ datasetId }) => curation.undo(datasetId),
    'pair:export': (request) => curation.export(request),
    'pairset:freeze': ({ datasetId, name, filter }) => curation.freeze(datasetId, name, filter),
    'pairset:list': async () => curation.listPairSets(),
    'pairset:get': ({ id }) => curation.getPairSet(id),
  };
}
