/** The eval:* channels (api/contract.ts) over the evaluation folders (store.ts). */
import type { EngineHandlers } from '../../api/index.js';
import type { Workspace } from '../workspace/index.js';
import { listEvaluations, readMeta, readResult, selectResponses, withoutSamples } from './store.js';

type EvaluationChannels = 'eval:list' | 'eval:get' | 'eval:responses';

export function createEvaluationHandlers(deps: { workspace: Workspace }): Pick<EngineHandlers, EvaluationChannels> {
  const { workspace } = deps;
  return {
    'eval:list': () => listEvaluations(workspace.dir),
    'eval:get': async ({ id }) => ({
      meta: await readMeta(workspace.dir, id),
      result: withoutSamples(await readResult(workspace.dir, id)),
    }),
    'eval:responses': async (request) => selectResponses(await readResult(workspace.dir, request.id), request),
  };
}
