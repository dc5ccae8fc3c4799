/**
 * Job worker entry: one worker thread per job. Selects the tfjs backend, runs the job's
 * handler, streams progress, and stops when the host posts `cancel`. The worker never opens
 * the catalog; the host records the outcome (reliability.md §3 rule 2).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { AppFailure, toAppError } from '../../api/index.js';
import { selectBackend } from '../backend.js';
import { JOB_KINDS } from './kinds.js';
import type { HostToWorker, WorkerStart, WorkerToHost } from './protocol.js';
import type { JobContext } from './types.js';

function post(message: WorkerToHost): void {
  parentPort?.postMessage(message);
}

async function run(start: WorkerStart): Promise<void> {
  const controller = new AbortController();
  parentPort?.on('message', (message: HostToWorker) => {
    if (message.type === 'cancel') controller.abort(new AppFailure('job_cancelled'));
  });
  try {
    const backend = await selectBackend(start.backendPreference);
    post({ type: 'backend', backend });
    if (start.kind === 'backend.probe') {
      post({ type: 'succeeded', result: backend });
      return;
    }
    const handler = await JOB_KINDS[start.kind].load();
    const context: JobContext = {
      jobId: start.jobId,
      workspaceDir: start.workspaceDir,
      backend,
      signal: controller.signal,
      progress: (phase, done, total, message) => post({ type: 'progress', phase, done, total, message }),
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
