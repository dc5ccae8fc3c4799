/** Gzipped files: inflated as a stream, with a size and ratio guard against decompression bombs. */
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { jsonl, makeTempDir, readAll, records, removeTempDirs, writeFixture } from './helpers.js';

afterAll(removeTempDirs);

describe('gzip', () => {
  it('reads .jsonl.gz, .json.gz and .csv.gz like their plain forms', async () => {
    const dir = await makeTempDir();
    const rows = [{ prompt: 'a', chosen: 'b', rejected: 'c' }];
    const a = await writeFixture(dir, 'rows.jsonl.gz', gzipSync(jsonl(rows)));
    const b = await writeFixture(dir, 'rows.json.gz', gzipSync(JSON.stringify(rows)));
    const c = await writeFixture(dir, 'rows.csv.gz', gzipSync('prompt,chosen,rejected\na,b,c\n'));
    for (const file of [a, b, c]) expect(records((await readAll(file)).items)).toEqual(rows);
  });

  it('stops a decompression bomb at the ratio limit (64 MiB of zeros in 64 KiB)', async () => {
    const dir = await makeTempDir();
    const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024));
    expect(bomb.length).toBeLessThan(128 * 1024);
    const file = await writeFixture(dir, 'bomb.jsonl.gz', bomb);
    const started = process.memoryUsage().rss;
    const { items, failure } = await readAll(file, { ratioGraceBytes: 1024 * 1024, maxLineBytes: 1024 * 1024 });
    expect(failure).toMatchObject({ code: 'decompression_bomb', message: expect.stringMatching(/expands \d+x/) });
    expect(records(items)).toEqual([]);
    // It stopped near the grace size, far from the 64 MiB the file expands to.
    expect(process.memoryUsage().rss - started).toBeLessThan(48 * 1024 * 1024);
  });

  it('stops at the absolute size limit, keeping the rows before it', async () => {
    const dir = await makeTempDir();
    const rows = Array.from({ length: 2000 }, (_, index) => ({
      prompt: `question ${index}`,
      response: 'x'.repeat(200),
    }));
    const file = await writeFixture(dir, 'big.jsonl.gz', gzipSync(jsonl(rows)));
    const { items, failure } = await readAll(file, { maxDecompressedBytes: 300 * 1024 });
    expect(failure).toMatchObject({ code: 'decompression_bomb' });
    const kept = records(items);
    expect(kept.length).toBeGreaterThan(0);
    expect(kept.length).toBeLessThan(rows.length);
  });

  it('reports a truncated gzip file as file_unreadable after the rows it could read', async () => {
    const dir = await makeTempDir();
    const whole = gzipSync(jsonl(Array.from({ length: 500 }, (_, index) => ({ n: index, text: 'y'.repeat(100) }))));
    const file = await writeFixture(dir, 'cut.jsonl.gz', whole.subarray(0, Math.floor(whole.length * 0.6)));
    const { failure } = await readAll(file);
    expect(failure).toMatchObject({ code: 'file_unreadable' });
  });
});
