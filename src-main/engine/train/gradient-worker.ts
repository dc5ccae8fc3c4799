/**
 * A gradient worker thread (parallel.ts): holds a copy of the model, takes the training thread's
 * weights with a `compute` request when they changed, and answers with every shard's summed loss
 * and gradients, as plain arrays in the model's parameter order (transferred, not copied).
 */
import { parentPort } from 'node:worker_threads';
import { tf } from '../compute/tf.js';
import type { CausalLanguageModel } from '../model/index.js';
import { assignWeights, createReplica } from '../model/index.js';
import { batchGradients } from './loss.js';
import type { FromGradientWorker, ToGradientWorker } from './parallel.js';

let model: CausalLanguageModel | undefined;

function post(message: FromGradientWorker, transfer: ArrayBuffer[] = []): void {
  parentPort?.postMessage(message, transfer);
}

async function handle(message: ToGradientWorker): Promise<void> {
  switch (message.type) {
    case 'init': {
      model = await createReplica(message.backend, message.config);
      post({ type: 'ready' });
      return;
    }
    case 'compute': {
      if (model === undefined) throw new Error('compute before init');
      if (message.weights !== undefined) assignWeights(model, message.weights);
      const names = [...model.parameters().keys()];
      const results: { lossSum: number; gradients: Float32Array[] }[] = [];
      const transfer: ArrayBuffer[] = [];
      for (const shard of message.shards) {
        const { lossSum, gradients } = batchGradients(model, shard);
        const arrays = names.map((name) => {
          const gradient = gradients.get(name);
          const values = gradient === undefined ? new Float32Array(0) : (gradient.dataSync() as Float32Array);
          return Float32Array.from(values);
        });
        tf.dispose([...gradients.values()]);
        for (const array of arrays) transfer.push(array.buffer as ArrayBuffer);
        results.push({ lossSum, gradients: arrays });
      }
      post({ type: 'results', results }, transfer);
      return;
    }
  }
}

// One message at a time, in order.
let queue = Promise.resolve();
parentPort?.on('message', (message: ToGradientWorker) => {
  queue = queue.then(() =>
    handle(message).catch((error: unknown) => {
      post({ type: 'error', message: error instanceof Error ? error.message : String(error) });
    }),
  );
});
