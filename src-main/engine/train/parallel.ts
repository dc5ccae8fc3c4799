/**
 * Data parallelism on one machine: the shards of a micro-batch are computed on several threads at
 * once, the training thread taking shard 0 and worker threads (gradient-worker.ts, each with its
 * own copy of the model) the others. Needed because the wasm backend runs on one thread in Node
 * (tfjs-backend-wasm has no threaded build there), so without this a training step uses one core
 * of the machine however many it has. Native TensorFlow backends thread their own kernels and get
 * one thread here.
 *
 * Results do not depend on the thread count: every shard's gradient is computed by the same kernels
 * from the same weights wherever it runs, and the trainer adds the shards in shard order. A worker
 * that fails is replaced by computing its shards on the training thread, with the same results.
 */
import type { Worker } from 'node:worker_threads';
import type { Tensor } from '@tensorflow/tfjs';
import type { BackendName } from '../../api/index.js';
import { tf } from '../compute/tf.js';
import { defaultThreads } from '../compute/threads.js';
import { startWorker, startWorkers } from '../compute/worker.js';
import type { CausalLanguageModel, ModelConfig } from '../model/index.js';
import { readWeights } from '../model/index.js';
import type { TokenBatch } from './data.js';
import { batchGradients } from './loss.js';

/** The summed loss of one shard and its gradients by weight name (tensors on the training thread). */
export interface ShardResult {
  lossSum: number;
  gradients: Map<string, Tensor>;
}

export interface GradientExecutor {
  /** Threads computing shards, the training thread included. */
  readonly threads: number;
  /** Why fewer threads run than were asked for ('' when all run). */
  readonly note: string;
  /** Each shard's loss and gradients with the model's current weights, in shard order. */
  compute(shards: readonly TokenBatch[]): Promise<ShardResult[]>;
  /** Tells the executor the weights changed (after an optimizer update), so workers copy them. */
  weightsChanged(): void;
  /** Stops the worker threads. */
  close(): Promise<void>;
}

export interface ExecutorOptions {
  /** Threads to use, the training thread included. Default: {@link defaultThreads}. */
  threads?: number;
  /** The worker script (a bundled build passes its own). Default: gradient-worker.ts/.js beside this file. */
  workerUrl?: URL;
}

export { defaultThreads };

/**
 * An executor for the model: the training thread alone when `threads` is 1, else worker threads
 * started now (each loads the backend and builds the model; a worker that cannot start is noted
 * and its shards run on the training thread).
 */
export async function createGradientExecutor(
  model: CausalLanguageModel,
  options: ExecutorOptions = {},
): Promise<GradientExecutor> {
  const wanted = Math.max(1, Math.floor(options.threads ?? defaultThreads()));
  if (wanted === 1) return new LocalExecutor(model);
  const backend = tf.getBackend();
  const workerUrl = options.workerUrl ?? DEFAULT_WORKER_URL;
  const { workers, note } = await startWorkers(
    wanted - 1,
    (index) => GradientWorker.start(workerUrl, index, model.config, backend),
    'gradient workers',
    'their shards run on the training thread',
  );
  return new ParallelExecutor(model, workers, note);
}

const DEFAULT_WORKER_URL = new URL(
  import.meta.url.endsWith('.ts') ? './gradient-worker.ts' : './gradient-worker.js',
  import.meta.url,
);

class LocalExecutor implements GradientExecutor {
  readonly threads = 1;
  readonly note = '';
  constructor(private readonly model: CausalLanguageModel) {}

  async compute(shards: readonly TokenBatch[]): Promise<ShardResult[]> {
    return shards.map((shard) => batchGradients(this.model, shard));
  }

  weightsChanged(): void {}

  async close(): Promise<void> {}
}

/** Messages to a gradient worker. */
export type ToGradientWorker =
  | { type: 'init'; config: ModelConfig; backend: string }
  /** `weights` (in the model's parameter order) replace the worker's before it computes, when given. */
  | { type: 'compute'; shards: TokenBatch[]; weights?: Float32Array[] };

/** Messages from a gradient worker; gradients are in the model's parameter order. */
export type FromGradientWorker =
  | { type: 'ready' }
  | { type: 'results'; results: { lossSum: number; gradients: Float32Array[] }[] }
  | { type: 'error'; message: string };

class ParallelExecutor implements GradientExecutor {
  readonly threads: number;
  readonly note: string;
  private stale = true;

  constructor(
    private readonly model: CausalLanguageModel,
    private workers: GradientWorker[],
    note: string,
  ) {
    this.threads = workers.length + 1;
    this.note = note;
  }

  async compute(shards: readonly TokenBatch[]): Promise<ShardResult[]> {
    // Changed weights travel with the request (to every worker, with shards or not), so a worker
    // never computes with stale ones.
    const weights = this.stale && this.workers.length > 0 ? await readWeights(this.model) : undefined;
    this.stale = false;
    // Shard i runs on thread i mod threads; thread 0 is this one.
    const threads = this.workers.length + 1;
    const pending = this.workers.map((worker, index) =>
      worker.compute(
        shards.filter((_, shard) => shard % threads === index + 1),
        weights,
      ),
    );
    const local = new Map<number, ShardResult>();
    shards.forEach((shard, index) => {
      if (index % threads === 0) local.set(index, batchGradients(this.model, shard));
    });
    const settled = await Promise.allSettled(pending);
    const names = [...this.model.parameters().keys()];
    const shapes = [...this.model.parameters().values()].map((variable) => variable.shape);
    const results: ShardResult[] = [];
    const failed = new Set<number>();
    settled.forEach((outcome, index) => {
      if (outcome.status === 'rejected') failed.add(index);
    });
    for (let index = 0; index < shards.length; index++) {
      const thread = index % threads;
      if (thread === 0) {
        results.push(local.get(index) as ShardResult);
        continue;
      }
      const outcome = settled[thread - 1] as PromiseSettledResult<{ lossSum: number; gradients: Float32Array[] }[]>;
      if (outcome.status === 'rejected') {
        // The worker broke: this thread computes its shard (same kernels, same numbers).
        results.push(batchGradients(this.model, shards[index] as TokenBatch));
        continue;
      }
      const position = shards.slice(0, index).filter((_, shard) => shard % threads === thread).length;
      const result = outcome.value[position] as { lossSum: number; gradients: Float32Array[] };
      const gradients = new Map<string, Tensor>();
      names.forEach((name, parameter) => {
        gradients.set(name, tf.tensor(result.gradients[parameter] as Float32Array, shapes[parameter], 'float32'));
      });
      results.push({ lossSum: result.lossSum, gradients });
    }
    if (failed.size > 0) {
      const broken = this.workers.filter((_, index) => failed.has(index));
      this.workers = this.workers.filter((_, index) => !failed.has(index));
      await Promise.all(broken.map((worker) => worker.terminate()));
    }
    return results;
  }

  weightsChanged(): void {
    this.stale = true;
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.terminate()));
    this.workers = [];
  }
}

/** One worker thread with its own model copy, answering one request at a time. */
class GradientWorker {
  private waiting: { resolve: (value: FromGradientWorker) => void; reject: (error: Error) => void } | undefined;
  private exited: Error | undefined;

  private constructor(private readonly worker: Worker) {
    worker.on('message', (message: FromGradientWorker) => {
      const waiting = this.waiting;
      this.waiting = undefined;
      if (message.type === 'error') waiting?.reject(new Error(message.message));
      else waiting?.resolve(message);
    });
    const fail = (error: Error) => {
      this.exited = error;
      this.waiting?.reject(error);
      this.waiting = undefined;
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`the gradient worker exited with code ${code}`)));
  }

  static async start(url: URL, index: number, config: ModelConfig, backend: string): Promise<GradientWorker> {
    const worker = startWorker(url, { name: `drift-gradients-${index + 1}` });
    const gradientWorker = new GradientWorker(worker);
    try {
      const answer = await gradientWorker.request({ type: 'init', config, backend: backend as BackendName });
      if (answer.type !== 'ready') throw new Error(`unexpected answer ${answer.type}`);
    } catch (error) {
      await worker.terminate();
      throw error;
    }
    return gradientWorker;
  }

  async compute(
    shards: readonly TokenBatch[],
    weights: readonly Float32Array[] | undefined,
  ): Promise<{ lossSum: number; gradients: Float32Array[] }[]> {
    const answer = await this.request({
      type: 'compute',
      shards: [...shards],
      // Structured clone copies the arrays: each worker gets its own.
      ...(weights === undefined ? {} : { weights: [...weights] }),
    });
    if (answer.type !== 'results') throw new Error(`unexpected answer ${answer.type}`);
    return answer.results;
  }

  async terminate(): Promise<void> {
    await this.worker.terminate();
  }

  private request(message: ToGradientWorker): Promise<FromGradientWorker> {
    if (this.exited) return Promise.reject(this.exited);
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
      this.worker.postMessage(message);
    });
  }
}
