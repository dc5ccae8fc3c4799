/**
 * Generation on several threads. The wasm backend runs on one thread in Node, and a decode step of a
 * small model is bound by per-kernel work that does not shrink with the batch, so one thread leaves
 * the machine's other cores idle. A pool splits a batch's rows into contiguous parts: the calling
 * thread decodes part 0 while worker threads (generation-worker.ts, each with its own copy of the
 * model) decode the others at the same time, streaming each step's tokens back.
 *
 * The tokens do not depend on the thread count: row i always samples with the generator seeded
 * (seed, i), and a row's logits depend only on its own tokens (the fused kernels and XNNPACK's
 * products compute every row alike whatever the batch; left padding is never attended to). A worker
 * that fails is replaced by decoding its part on the calling thread, skipping the steps it had sent.
 */
import type { Worker } from 'node:worker_threads';
import type { BackendName } from '../../api/index.js';
import { tf } from '../compute/tf.js';
import { defaultThreads } from '../compute/threads.js';
import { startWorker, startWorkers } from '../compute/worker.js';
import type { ModelConfig } from './config.js';
import type { AcceptStep, DecodeTask, GenerationPool } from './generate.js';
import { decodeTokens } from './generate.js';
import type { CausalLanguageModel } from './modeling_utils.js';
import { readWeights } from './replica.js';

export interface GenerationPoolOptions {
  /** Threads, the calling thread included. Default: the machine's cores, up to 4 (1 on native TensorFlow, which threads itself). */
  threads?: number;
  /** The worker script (a bundled build passes its own). Default: generation-worker.ts/.js beside this file. */
  workerUrl?: URL;
}

/** Messages to a generation worker. */
export type ToGenerationWorker =
  | { type: 'init'; config: ModelConfig; backend: string; weights: Float32Array[] }
  /** `weights` (in the model's parameter order) replace the worker's before it decodes, when given. */
  | { type: 'run'; task: DecodeTask; weights?: Float32Array[] }
  /** Ends the current run after its current step (its rows have all ended, or the caller gave up). */
  | { type: 'stop' };

/** Messages from a generation worker. */
export type FromGenerationWorker =
  | { type: 'ready' }
  | { type: 'step'; tokens: Int32Array; lastStep: boolean }
  | { type: 'finished' }
  | { type: 'error'; message: string };

const DEFAULT_WORKER_URL = new URL(
  import.meta.url.endsWith('.ts') ? './generation-worker.ts' : './generation-worker.js',
  import.meta.url,
);

/**
 * A pool for `model`: worker threads started now, each loading the backend and a copy of the
 * model's current weights. A worker that cannot start is noted, and its part runs on the calling
 * thread instead.
 */
export async function createGenerationPool(
  model: CausalLanguageModel,
  options: GenerationPoolOptions = {},
): Promise<GenerationPool> {
  const wanted = Math.max(1, Math.floor(options.threads ?? defaultThreads()));
  if (wanted === 1) return new Pool(model, [], '');
  const backend = tf.getBackend();
  const weights = await readWeights(model);
  const { workers, note } = await startWorkers(
    wanted - 1,
    (index) => GenerationWorker.start(options.workerUrl ?? DEFAULT_WORKER_URL, index, model.config, backend, weights),
    'generation workers',
    'their parts run on the calling thread',
  );
  return new Pool(model, workers, note);
}

/** The rows of `task` in `parts` contiguous parts (sizes differing by at most one), as tasks of their own. */
export function splitTask(task: DecodeTask, parts: number): DecodeTask[] {
  const rows = task.promptIds.length;
  const count = Math.max(1, Math.min(parts, rows));
  const tasks: DecodeTask[] = [];
  let first = 0;
  for (let part = 0; part < count; part++) {
    const size = Math.floor(rows / count) + (part < rows % count ? 1 : 0);
    tasks.push({ ...task, promptIds: task.promptIds.slice(first, first + size), rowOffset: task.rowOffset + first });
    first += size;
  }
  return tasks;
}

class Pool implements GenerationPool {
  private stale = false;
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly model: CausalLanguageModel,
    private workers: GenerationWorker[],
    readonly note: string,
  ) {}

  get threads(): number {
    return this.workers.length + 1;
  }

  run(model: CausalLanguageModel, task: DecodeTask, accept: AcceptStep, signal?: AbortSignal): Promise<void> {
    if (model !== this.model)
      return Promise.reject(new Error('A generation pool runs only the model it was created for.'));
    // One batch at a time: a worker decodes one part at a time.
    const run = this.queue.then(() => this.runNow(model, task, accept, signal));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async runNow(
    model: CausalLanguageModel,
    task: DecodeTask,
    accept: AcceptStep,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    const parts = splitTask(task, this.threads);
    const weights = this.stale && parts.length > 1 ? await readWeights(model) : undefined;
    if (weights !== undefined) this.stale = false;
    const workers = this.workers;
    const remote = parts.slice(1).map((part, index) => {
      const worker = workers[index] as GenerationWorker;
      return worker.run(part, weights, (tokens, lastStep) => accept(part.rowOffset, tokens, lastStep), signal);
    });
    const [local] = parts as [DecodeTask];
    try {
      await decodeTokens(model, local, (tokens, lastStep) => accept(local.rowOffset, tokens, lastStep), signal);
    } catch (error) {
      for (const worker of workers) worker.stop();
      await Promise.allSettled(remote);
      throw error;
    }
    const settled = await Promise.allSettled(remote);
    const broken = new Set<GenerationWorker>();
    for (const [index, outcome] of settled.entries()) {
      if (outcome.status === 'fulfilled') continue;
      const failure = outcome.reason as WorkerFailure;
      if (signal?.aborted) throw signal.reason ?? failure;
      // The worker broke: this thread decodes its part (same kernels, same tokens), skipping the steps it sent.
      broken.add(workers[index] as GenerationWorker);
      const part = parts[index + 1] as DecodeTask;
      let skip = failure.steps ?? 0;
      await decodeTokens(
        model,
        part,
        (tokens, lastStep) => (skip-- > 0 ? true : accept(part.rowOffset, tokens, lastStep)),
        signal,
      );
    }
    if (broken.size > 0) {
      this.workers = this.workers.filter((worker) => !broken.has(worker));
      await Promise.all([...broken].map((worker) => worker.terminate()));
    }
  }

  weightsChanged(): void {
    this.stale = true;
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.terminate()));
    this.workers = [];
  }
}

/** A worker's failure, with how many steps it had sent. */
interface WorkerFailure extends Error {
  steps?: number;
}

/** One worker thread with its own model copy, decoding one part at a time. */
class GenerationWorker {
  private current:
    | {
        onStep: (tokens: Int32Array, lastStep: boolean) => boolean;
        steps: number;
        resolve: () => void;
        reject: (error: Error) => void;
      }
    | undefined;
  private starting: { resolve: () => void; reject: (error: Error) => void } | undefined;
  private exited: Error | undefined;

  private constructor(private readonly worker: Worker) {
    worker.on('message', (message: FromGenerationWorker) => this.receive(message));
    const fail = (error: Error) => {
      this.exited = error;
      this.fail(error);
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`the generation worker exited with code ${code}`)));
  }

  static async start(
    url: URL,
    index: number,
    config: ModelConfig,
    backend: string,
    weights: Float32Array[],
  ): Promise<GenerationWorker> {
    const worker = startWorker(url, { name: `drift-generation-${index + 1}` });
    const generationWorker = new GenerationWorker(worker);
    try {
      await new Promise<void>((resolve, reject) => {
        generationWorker.starting = { resolve, reject };
        worker.postMessage({
          type: 'init',
          config,
          backend: backend as BackendName,
          weights,
        } satisfies ToGenerationWorker);
      });
    } catch (error) {
      await worker.terminate();
      throw error;
    }
    return generationWorker;
  }

  /** Decodes `task`, calling `onStep` with each step; resolves when the worker has finished. */
  run(
    task: DecodeTask,
    weights: Float32Array[] | undefined,
    onStep: (tokens: Int32Array, lastStep: boolean) => boolean,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    if (this.exited) return Promise.reject(Object.assign(new Error(this.exited.message), { steps: 0 }));
    return new Promise((resolve, reject) => {
      const abort = () => this.stop();
      signal?.addEventListener('abort', abort, { once: true });
      const settle = () => signal?.removeEventListener('abort', abort);
      this.current = {
        onStep,
        steps: 0,
        resolve: () => {
          settle();
          resolve();
        },
        reject: (error) => {
          settle();
          reject(error);
        },
      };
      // Structured clone copies the arrays: each worker gets its own.
      this.worker.postMessage({
        type: 'run',
        task,
        ...(weights === undefined ? {} : { weights }),
      } satisfies ToGenerationWorker);
    });
  }

  /** Asks the worker to end its current part after the step it is on. */
  stop(): void {
    if (this.current !== undefined && this.exited === undefined)
      this.worker.postMessage({ type: 'stop' } satisfies ToGenerationWorker);
  }

  async terminate(): Promise<void> {
    await this.worker.terminate();
  }

  private receive(message: FromGenerationWorker): void {
    switch (message.type) {
      case 'ready':
        this.starting?.resolve();
        this.starting = undefined;
        return;
      case 'step': {
        const current = this.current;
        if (current === undefined) return;
        current.steps += 1;
        if (!current.onStep(message.tokens, message.lastStep)) this.stop();
        return;
      }
      case 'finished':
        this.current?.resolve();
        this.current = undefined;
        return;
      case 'error':
        this.fail(new Error(message.message));
        return;
    }
  }

  private fail(error: Error): void {
    this.starting?.reject(error);
    this.starting = undefined;
    const current = this.current;
    this.current = undefined;
    current?.reject(Object.assign(error, { steps: current.steps }));
  }
}
