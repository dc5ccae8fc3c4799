/** Opens a workspace and wires the engine's parts together (see index.ts for the interface). */
import type { BackendInfo, Job, Settings } from '../api/index.js';
import type { Engine, EngineOptions } from './host.js';
import { EngineEvents } from './events.js';
import { createEngineHandlers } from './handlers.js';
import { JOB_KINDS } from './job-kinds.js';
import { JobManager } from './jobs/manager.js';
import { openWorkspace } from './workspace/index.js';

const DEFAULT_WORKER_URL = new URL(
  import.meta.url.endsWith('.ts') ? './job-worker.ts' : './job-worker.js',
  import.meta.url,
);

export async function openEngine(options: EngineOptions): Promise<Engine> {
  const workspace = await openWorkspace(options.workspaceDir);
  const events = new EngineEvents();
  const settings = (): Settings => workspace.catalog.data.settings;
  const jobs = new JobManager({
    workspace,
    events,
    kinds: JOB_KINDS,
    workerUrl: options.workerUrl ?? DEFAULT_WORKER_URL,
    backendPreference: () => settings().backend,
    maxConcurrent: () => settings().maxConcurrentJobs,
  });
  await jobs.restore();

  // The backend is chosen inside each worker; the probe answers what a worker would pick.
  let backend: Promise<BackendInfo> | undefined;
  const backendInfo = (): Promise<BackendInfo> => {
    backend ??= jobs.probeBackend().catch((error: unknown) => {
      backend = undefined;
      throw error;
    });
    return backend;
  };

  const handlers = createEngineHandlers({
    host: options.host,
    workspace,
    jobs,
    events,
    backendInfo,
    ...(options.printToPdf ? { printToPdf: options.printToPdf } : {}),
    ...(options.detectTimeoutMs !== undefined ? { detectTimeoutMs: options.detectTimeoutMs } : {}),
    onSettingsChanged: (before, after) => {
      if (before.backend !== after.backend) backend = undefined;
    },
  });

  for (const message of workspace.catalog.warnings) events.emit('workspace:warning', { message });

  let closing: Promise<void> | undefined;
  return {
    workspaceDir: workspace.dir,
    handlers,
    on: (event, listener) => events.on(event, listener),
    runJob: async (kind, params, runOptions = {}) => {
      const { onUpdate, signal } = runOptions;
      // Subscribe before starting so the caller also sees the `queued` update.
      const target: { id?: string } = {};
      const early: Job[] = [];
      const unsubscribe = onUpdate
        ? events.on('job:updated', (update) => {
            if (target.id === undefined) early.push(update);
            else if (update.id === target.id) onUpdate(update);
          })
        : undefined;
      const job = await jobs.start(kind, params);
      target.id = job.id;
      for (const update of early) if (update.id === job.id) onUpdate?.(update);
      const abort = () => void jobs.cancel(job.id).catch(() => undefined);
      signal?.addEventListener('abort', abort, { once: true });
      try {
        return await jobs.waitFor(job.id);
      } finally {
        unsubscribe?.();
        signal?.removeEventListener('abort', abort);
      }
    },
    close: () => {
      closing ??= (async () => {
        await jobs.close();
        await workspace.close();
      })();
      return closing;
    },
  };
}
