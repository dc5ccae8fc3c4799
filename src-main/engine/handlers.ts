/**
 * The engine's side of the contract: one handler per engine channel (hosts add dialog:open and
 * link:open). Requests arrive already validated by `dispatch`; handlers only do the work.
 */
import type { BackendInfo, EngineHandlers, Settings } from '../api/index.js';
import type { HostKind } from './index.js';
import type { JobManager } from './jobs/manager.js';
import type { Workspace } from './workspace/index.js';
import type { EngineEvents } from './events.js';
import { APP_NAME, APP_VERSION } from './version.js';

export interface HandlerDependencies {
  host: HostKind;
  workspace: Workspace;
  jobs: JobManager;
  events: EngineEvents;
  backendInfo: () => Promise<BackendInfo>;
  onSettingsChanged: (before: Settings, after: Settings) => void;
}

export function createEngineHandlers(deps: HandlerDependencies): EngineHandlers {
  const { workspace, jobs, events } = deps;
  const catalog = () => workspace.catalog.data;
  return {
    'app:info': async () => ({
      name: APP_NAME,
      version: APP_VERSION,
      host: deps.host === 'electron' ? 'electron' : 'browser',
      platform: `${process.platform}-${process.arch}`,
      nodeVersion: process.versions.node,
    }),
    'backend:info': () => deps.backendInfo(),
    'workspace:info': async () => workspace.info(),
    'settings:get': async () => catalog().settings,
    'settings:update': async (patch) => {
      const before = catalog().settings;
      const next = await workspace.catalog.update((draft) => {
        draft.settings = { ...draft.settings, ...patch };
      });
      deps.onSettingsChanged(before, next.settings);
      events.emit('catalog:changed', { section: 'settings' });
      return next.settings;
    },
    'dataset:list': async () => catalog().datasets,
    'model:list': async () => catalog().models,
    'run:list': async () => catalog().runs,
    'report:list': async () => catalog().reports,
    'job:list': async () => jobs.list(),
    'job:get': async ({ id }) => jobs.get(id),
    'job:start': async ({ kind, params }) => jobs.start(kind, params),
    'job:cancel': async ({ id }) => jobs.cancel(id),
  };
}
