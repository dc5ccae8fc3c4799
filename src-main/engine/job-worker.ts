/**
 * Job worker entry: one worker thread per job. Selects the tfjs backend, runs the job's
 * handler, streams progress, and stops when the host posts `cancel`. The worker never opens
 * the catalog; the host records the outcome (reliability.md §3 rule 2).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { AppFailure, toAppError, type BackendInfo } from '../api/index.js';
import type { DetectRequest } from './data/index.js';
import { JOB_KINDS } from './job-kinds.js';
import type { HostToWorker, WorkerStart, WorkerToHost } from './jobs/protocol.js';
import type { JobContext } from './jobs/types.js';

/** What `context.backend` says in a job kind declared with `backend: false`: none was selected. */
const NO_BACKEND: BackendInfo = {
  name: 'cpu',
  tfjsVersion: 'not loaded',
  gpu: false,
  threads: 0,
  attempts: [],
  shims: [],
};

function post(message: WorkerToHost): void {
  parentPort?.postMessage(message);
}

async function run(start: WorkerStart): Promise<void> {
  const controller = new AbortController();
  parentPort?.on('message', (message: HostToWorker) => {
    if (message.type === 'cancel') controller.abort(new AppFailure('job_cancelled'));
  });
  try {
    if (start.kind === 'dataset.detect') {
      const { detectDataset } = await import('./data/index.js');
      post({ type: 'succeeded', result: await detectDataset(start.params as unknown as DetectRequest) });
      return;
    }
    const spec = start.kind === 'backend.probe' ? undefined : JOB_KINDS[start.kind];
    // Jobs that do no tensor work skip loading tfjs (tens of MB the import's memory bound needs).
    // Loaded lazily: importing backend.ts loads tfjs, which a `backend: false` job must not pay for.
    const backend =
      spec?.backend === false
        ? NO_BACKEND
        : await (await import('./backend.js')).selectBackend(start.backendPreference);
    if (spec?.backend !== false) post({ type: 'backend', backend });
    if (!spec) {
      post({ type: 'succeeded', result: backend });
      return;
    }
    const handler = await spec.load();
    const context: JobContext = {
      jobId: start.jobId,
      workspaceDir: start.workspaceDir,
      backend,
      signal: controller.signal,
      progress: (phase, done, total, message) => post({ type: 'progress', phase, done, total, message }),
      output: (data) => post({ type: 'output', data }),
      throwIfCancelled: () => {
        if (controller.signal.aborted) throw new AppFailure('job_cancelled');
      },
    };
    const result = await handler(start.params, context);
    post({ type: 'succeeded', result: result ?? null });
  } catch (thrown) {
    post({ type: 'failed', error: toAppError(thrown) });
  } finally {
    parentPort?.close();
  }
}

await run(workerData as WorkerStart);
