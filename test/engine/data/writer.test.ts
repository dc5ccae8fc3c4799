/** The last steps of an import: the writer's lines and the compact duplicate index. */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DuplicateIndex } from '../../../src-main/engine/data/dedupe.js';
import { JsonlWriter } from '../../../src-main/engine/data/writer.js';
import { makeTempDir, removeTempDirs } from './helpers.js';

afterAll(removeTempDirs);

describe('JsonlWriter', () => {
  it('writes lines across buffer flushes and a line longer than its buffer', async () => {
    const file = path.join(await makeTempDir('drift-writer-'), 'out.jsonl');
    const writer = await JsonlWriter.create(file);
    const long = 'ж'.repeat(3 << 20); // 6 MiB of UTF-8, more than the 4 MiB buffer
    const expected: string[] = [];
    for (let index = 0; index < 2000; index++) {
      const value = { index, text: `${'é'.repeat(index % 50)}🙂${index}` };
      await writer.write(value);
      expected.push(JSON.stringify(value));
      if (index === 1000) {
        await writer.writeLine(`{"long":"${long}"}`);
        expected.push(`{"long":"${long}"}`);
      }
    }
    await writer.close();
    expect(await readFile(file, 'utf8')).toBe(`${expected.join('\n')}\n`);
  });
});

describe('DuplicateIndex', () => {
  const hash = (index: number) =>
    Buffer.alloc(20, index % 251)
      .toString('base64')
      .slice(0, 27);
  const id = (index: number) => index.toString(16).padStart(16, 'a');

  it('returns the first id of the same content and counts the duplicates, across its growth', () => {
    const index = new DuplicateIndex();
    // Hashes that agree on their first bytes fill neighbouring slots: the probing must still tell them apart.
    const hashes = Array.from({ length: 6000 }, (_, at) => {
      const bytes = Buffer.alloc(20);
      bytes.writeUInt32BE(at % 64, 0);
      bytes.writeUInt32BE(at, 8);
      return bytes.toString('base64').slice(0, 27);
    });
    expect(hashes.map((value, at) => index.check(value, id(at))).filter((first) => first !== undefined)).toEqual([]);
    const again = hashes.flatMap((value, at) => (at % 100 === 0 ? [[index.check(value, id(at + 1)), id(at)]] : []));
    expect(again.filter(([first, expected]) => first !== expected)).toEqual([]);
    expect(index.duplicates).toBe(60);
    expect(index.check(hash(7), 'ffffffffffffffff')).toBeUndefined();
    expect(index.check(hash(7), '0123456789abcdef')).toBe('ffffffffffffffff');
    expect(index.check(hash(8), '0000000000000001')).toBeUndefined();
    expect(index.check(hash(8), '0000000000000002')).toBe('0000000000000001');
  });

  it('refuses ids that are not 16 hex digits', () => {
    expect(() => new DuplicateIndex().check(hash(1), 'not-an-id')).toThrow(/16 hex digits/);
  });
});
