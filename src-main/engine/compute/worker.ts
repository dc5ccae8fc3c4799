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
