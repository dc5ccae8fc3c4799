/**
 * Starts a worker thread from its script, whether that is the bundled .js (the Electron build) or
 * a TypeScript source (CLI, tests, benches). Node 20 does not apply `--import` hooks inside
 * workers, so a TypeScript worker starts from a tiny bootstrap that registers tsx, then loads it.
 */
import { Worker, type WorkerOptions } from 'node:worker_threads';

/** A worker running `url`, with `options` (name, workerData, resource limits, …). */
export function startWorker(url: URL, options: WorkerOptions = {}): Worker {
  if (!url.pathname.endsWith('.ts')) return new Worker(url, options);
  const bootstrap = `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))})
    .then((tsx) => { tsx.register(); return import(${JSON.stringify(url.href)}); });`;
  return new Worker(bootstrap, { ...options, eval: true });
}

/**
 * Starts `count` workers with `start` and keeps those that started. `note` is '' when all did,
 * else how many did not and why (the first failure), then `fallback`: what happens to their work.
 */
export async function startWorkers<T>(
  count: number,
  start: (index: number) => Promise<T>,
  what: string,
  fallback: string,
): Promise<{ workers: T[]; note: string }> {
  const started = await Promise.allSettled(Array.from({ length: count }, (_, index) => start(index)));
  const workers = started.flatMap((outcome) => (outcome.status === 'fulfilled' ? [outcome.value] : []));
  const failure = started.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
  if (failure === undefined) return { workers, note: '' };
  const reason = failure.reason instanceof Error ? failure.reason.message : String(failure.reason);
  return { workers, note: `${count - workers.length} of ${count} ${what} did not start (${reason}); ${fallback}` };
}
