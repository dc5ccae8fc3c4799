/**
 * `dataset:detect` reads Parquet files in a worker thread under a time limit (hyparquet can loop
 * forever on a damaged page): detection hands a Parquet file to the isolation and turns its
 * timeout into `parquet_unreadable` naming the file, keeps other containers on the calling
 * thread, and through the engine detects a valid Parquet file in the job worker.
 */
import path from 'node:path';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { afterAll, describe, expect, it } from 'vitest';
import { AppFailure } from '../../../src-main/api/index.js';
import { detectDataset, DEFAULT_LIMITS, type IsolatedDetection } from '../../../src-main/engine/data/index.js';
import { openEngine } from '../../../src-main/engine/index.js';
import { jsonl, makeTempDir, removeTempDirs, writeFixture } from './helpers.js';

afterAll(removeTempDirs);

const preferenceParquet = () =>
  parquetWriteBuffer({
    columnData: [
      { name: 'prompt', data: ['Name a prime.', 'Say hi.'], type: 'STRING' },
      { name: 'chosen', data: ['Seven.', 'Hi!'], type: 'STRING' },
      { name: 'rejected', data: ['Nine.', '...'], type: 'STRING' },
    ],
  });

/** An isolation that records its calls and answers `outcome`. */
function isolation(outcome: Awaited<ReturnType<IsolatedDetection['run']>>) {
  const calls: unknown[] = [];
  const isolated: IsolatedDetection = {
    timeoutMs: 2500,
    run: async (request, timeoutMs) => {
      calls.push({ request, timeoutMs });
      return outcome;
    },
  };
  return { calls, isolated };
}

describe('detection of Parquet files off the calling thread', () => {
  it('turns a timed-out Parquet detection into parquet_unreadable naming the file', async () => {
    const dir = await makeTempDir();
    const file = await writeFixture(dir, 'stuck.parquet', new Uint8Array(preferenceParquet()));
    const { calls, isolated } = isolation({ status: 'timed_out' });
    const error = await detectDataset({ paths: [dir] }, DEFAULT_LIMITS, isolated).catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(AppFailure);
    expect((error as AppFailure).code).toBe('parquet_unreadable');
    expect((error as AppFailure).message).toContain(file);
    expect((error as AppFailure).message).toContain('within 2.5 s');
    expect(calls).toEqual([{ request: { paths: [dir] }, timeoutMs: 2500 }]);
  });

  it('answers the isolated result for Parquet and reads other containers here', async () => {
    const dir = await makeTempDir();
    const parquet = await writeFixture(dir, 'pairs.parquet', new Uint8Array(preferenceParquet()));
    const answer = { status: 'finished' as const, result: { format: 'from the worker' } };
    const forParquet = isolation(answer);
    expect(await detectDataset({ paths: [parquet] }, DEFAULT_LIMITS, forParquet.isolated)).toBe(answer.result);

    const lines = await writeFixture(dir, 'pairs.jsonl', jsonl([{ prompt: 'a', chosen: 'b', rejected: 'c' }]));
    const forJsonl = isolation(answer);
    const detected = await detectDataset({ paths: [lines] }, DEFAULT_LIMITS, forJsonl.isolated);
    expect(detected.format).toBe('preference');
    expect(forJsonl.calls).toEqual([]);
  });

  it('detects a valid Parquet file through the engine, in the job worker', async () => {
    const dir = await makeTempDir();
    const file = await writeFixture(dir, 'pairs.parquet', new Uint8Array(preferenceParquet()));
    const engine = await openEngine({ workspaceDir: path.join(dir, 'workspace'), host: 'cli' });
    try {
      const detected = await engine.handlers['dataset:detect']({ paths: [file] });
      expect(detected).toMatchObject({ format: 'preference', sampled: 2 });
      expect(detected.preview).toHaveLength(2);
      const unknown = await engine.handlers['dataset:detect']({ paths: [file], format: 'nope' }).catch(
        (thrown: unknown) => thrown,
      );
      // Failures inside the worker keep their code.
      expect((unknown as AppFailure).code).toBe('format_unknown');
    } finally {
      await engine.close();
    }
  });
});
