/**
 * A generation worker thread (generation-pool.ts): holds a copy of the model, takes new weights
 * with a `run` request when they changed, and decodes one part of a batch at a time, posting each
 * step's tokens.
 */
import { parentPort } from 'node:worker_threads';
import { decodeTokens } from './generate.js';
import type { FromGenerationWorker, ToGenerationWorker } from './generation-pool.js';
import type { CausalLanguageModel } from './modeling_utils.js';
import { assignWeights, createReplica } from './replica.js';

let model: CausalLanguageModel | undefined;
/** Aborts the current run on a `stop` message. */
let stopping: AbortController | undefined;
const STOPPED = new Error('stopped');

function post(message: FromGenerationWorker): void {
  parentPort?.postMessage(message);
}

async function handle(message: Exclude<ToGenerationWorker, { type: 'stop' }>): Promise<void> {
  switch (message.type) {
    case 'init': {
      model = await createReplica(message.backend, message.config);
      model.setTrainable(false);
      assignWeights(model, message.weights);
      post({ type: 'ready' });
      return;
    }
    case 'run': {
      if (model === undefined) throw new Error('run before init');
      if (message.weights !== undefined) assignWeights(model, message.weights);
      stopping = new AbortController();
      try {
        await decodeTokens(
          model,
          message.task,
          (tokens, lastStep) => {
            post({ type: 'step', tokens, lastStep });
            return true;
          },
          stopping.signal,
        );
      } catch (error) {
        if (error !== STOPPED) throw error;
      } finally {
        stopping = undefined;
      }
      post({ type: 'finished' });
      return;
    }
  }
}

// Runs one request at a time, in order; `stop` acts at once on the run in progress.
let queue = Promise.resolve();
parentPort?.on('message', (message: ToGenerationWorker) => {
  if (message.type === 'stop') {
    stopping?.abort(STOPPED);
    return;
  }
  queue = queue.then(() =>
    handle(message).catch((error: unknown) => {
      post({ type: 'error', message: error instanceof Error ? error.message : String(error) });
    }),
  );
});
