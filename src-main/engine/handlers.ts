/**
 * The engine's side of the contract: one handler per engine channel (hosts add dialog:open and
 * link:open). Requests arrive already validated by `dispatch`; handlers only do the work.
 */
import path from 'node:path';
import { AppFailure, type BackendInfo, type EngineHandlers, type Settings } from '../api/index.js';
import type { HostKind } from './host.js';
import type { PrintToPdf } from './report/pdf.js';
import type { JobManager } from './jobs/manager.js';
import { reportDir, type Workspace } from './workspace/index.js';
import type { EngineEvents } from './events.js';
import { createCurationHandlers } from './curation/handlers.js';
import { createRunHandlers } from './runs/handlers.js';
import { createEvaluationHandlers } from './evaluations/handlers.js';
import { APP_NAME, APP_VERSION } from './version.js';

export interface HandlerDependencies {
  host: HostKind;
  workspace: Workspace;
  jobs: JobManager;
  events: EngineEvents;
  backendInfo: () => Promise<BackendInfo>;
  onSettingsChanged: (before: Settings, after: Settings) => void;
  /** Prints report.html for `report:pdf`; default: a system Chromium. */
  printToPdf?: PrintToPdf;
  /** How long `dataset:detect` may read a Parquet file in its worker (default 10 s). */
  detectTimeoutMs?: number;
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
    'dataset:formats': async () => (await import('./data/index.js')).listFormats(),
    'dataset:detect': async (request) => {
      const { detectDataset, DEFAULT_LIMITS, PARQUET_DETECT_TIMEOUT_MS } = await import('./data/index.js');
      return detectDataset(request, DEFAULT_LIMITS, {
        timeoutMs: deps.detectTimeoutMs ?? PARQUET_DETECT_TIMEOUT_MS,
        run: (isolatedRequest, timeoutMs) => jobs.runTask('dataset.detect', { ...isolatedRequest }, timeoutMs),
      });
    },
    'dataset:get': async ({ id }) => {
      const entry = catalog().datasets.find((dataset) => dataset.id === id);
      if (!entry) throw new AppFailure('not_found', `No dataset ${id} in this workspace.`);
      const { readImportReport } = await import('./data/index.js');
      return { entry, report: await readImportReport(workspace.dir, id) };
    },
    'dataset:delete': async ({ id }) => {
      if (!catalog().datasets.some((dataset) => dataset.id === id)) {
        throw new AppFailure('not_found', `No dataset ${id} in this workspace.`);
      }
      await workspace.catalog.update((draft) => {
        draft.datasets = draft.datasets.filter((dataset) => dataset.id !== id);
      });
      await (await import('./data/index.js')).removeDatasetFolder(workspace.dir, id);
      events.emit('catalog:changed', { section: 'datasets' });
      return { deleted: true };
    },
    'model:list': async () => catalog().models,
    'model:get': async ({ id }) => {
      const entry = catalog().models.find((model) => model.id === id);
      if (!entry) throw new AppFailure('not_found', `No model ${id} in this workspace.`);
      return (await import('./model/store.js')).describeWorkspaceModel(workspace.dir, entry);
    },
    'model:inspect': async ({ path }) => {
      const { inspectModelFolder } = await import('./model/store.js');
      const { summary, configJson } = await inspectModelFolder(path);
      return { path, ...summary, config: configJson };
    },
    'model:delete': async ({ id }) => {
      if (!catalog().models.some((model) => model.id === id)) {
        throw new AppFailure('not_found', `No model ${id} in this workspace.`);
      }
      await workspace.catalog.update((draft) => {
        draft.models = draft.models.filter((model) => model.id !== id);
      });
      await (await import('./model/store.js')).removeModelFolder(workspace.dir, id);
      events.emit('catalog:changed', { section: 'models' });
      return { deleted: true };
    },
    'report:list': async () => (await import('./report/store.js')).listReports(workspace),
    'report:get': async ({ id, html }) => (await import('./report/store.js')).getReport(workspace, id, { html }),
    'report:export': async ({ id, destDir, overwrite }) =>
      (await import('./report/store.js')).exportCatalogReport(workspace, id, destDir, { overwrite }),
    'report:pdf': async ({ id }) => {
      const report = await import('./report/index.js');
      const entry = await report.addReportPdf(workspace, id, deps.printToPdf ?? report.chromiumPrinter());
      events.emit('catalog:changed', { section: 'reports' });
      return { entry, file: path.join(reportDir(workspace.dir, id), report.REPORT_FILES.pdf) };
    },
    'job:list': async () => jobs.list(),
    'job:get': async ({ id }) => jobs.get(id),
    'job:start': async ({ kind, params }) => jobs.start(kind, params),
    'job:cancel': async ({ id }) => jobs.cancel(id),
    ...createCurationHandlers({ workspace, events }),
    ...createRunHandlers({ workspace, jobs, events }),
    ...createEvaluationHandlers({ workspace }),
  };
}
