/**
 * How many threads data-parallel work (gradient shards, generation rows) should use: on wasm and
 * cpu, which run on one thread each, the cores up to 4; on native TensorFlow, which threads
 * itself, 1.
 */
import os from 'node:os';
import { tf } from './tf.js';

/** Threads worth using on this backend, the calling thread included. */
export function defaultThreads(backend: string = tf.getBackend()): number {
  if (backend !== 'wasm' && backend !== 'cpu') return 1;
  return Math.max(1, Math.min(4, os.availableParallelism()));
}

/** "1 thread", "2 threads": for progress messages. */
export function threadCount(threads: number): string {
  return threads === 1 ? '1 thread' : `${threads} threads`;
}
