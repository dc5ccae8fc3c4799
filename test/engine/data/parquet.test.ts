/**
 * Parquet through hyparquet: rows as records, 64-bit integers and JSON columns made plain, and
 * the declared sizes checked before any page is read (reference/reliability.md §0 item 11).
 */
import { parquetMetadata } from 'hyparquet';
import * as hyparquet from 'hyparquet';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { errors, makeTempDir, readAll, records, removeTempDirs, writeFixture } from './helpers.js';

vi.mock('hyparquet', async (original) => {
  const actual = await original<typeof hyparquet>();
  return { ...actual, parquetReadObjects: vi.fn(actual.parquetReadObjects) };
});

afterAll(removeTempDirs);
const readCalls = () => vi.mocked(hyparquet.parquetReadObjects).mock.calls.length;

function pairsParquet(): Buffer {
  return Buffer.from(
    parquetWriteBuffer({
      columnData: [
        { name: 'prompt', data: ['hello', 'second prompt'], type: 'STRING' },
        { name: 'chosen', data: ['good', 'better'], type: 'STRING' },
        { name: 'rejected', data: ['bad', 'worse'], type: 'STRING' },
        { name: 'score', data: [1n, 9007199254740993n], type: 'INT64' },
        { name: 'messages', data: [[{ role: 'user', content: 'x' }], [{ role: 'user', content: 'y' }]], type: 'JSON' },
      ],
    }),
  );
}

/** Zigzag varint of a thrift compact i64. */
function varint(value: bigint): number[] {
  let zigzag = value >= 0n ? value << 1n : (-value << 1n) - 1n;
  const bytes: number[] = [];
  do {
    let byte = Number(zigzag & 0x7fn);
    zigzag >>= 7n;
    if (zigzag > 0n) byte |= 0x80;
    bytes.push(byte);
  } while (zigzag > 0n);
  return bytes;
}

/** The file with the first column chunk's total_uncompressed_size (thrift field 6) set to `declared`. */
function withDeclaredSize(file: Buffer, declared: bigint): Buffer {
  const metadata = parquetMetadata(
    file.buffer.slice(file.byteOffset, file.byteOffset + file.byteLength) as ArrayBuffer,
  );
  const actual = metadata.row_groups[0]!.columns[0]!.meta_data!.total_uncompressed_size;
  // Field 6 (i64) right after field 5 is the byte 0x16, then the varint, then field 7 (0x16).
  const needle = Buffer.from([0x16, ...varint(actual), 0x16]);
  const at = file.indexOf(needle);
  expect(at).toBeGreaterThan(0);
  const replaced = Buffer.from([0x16, ...varint(declared), 0x16]);
  const patched = Buffer.concat([file.subarray(0, at), replaced, file.subarray(at + needle.length)]);
  const grown = replaced.length - needle.length;
  const lengthAt = patched.length - 8;
  patched.writeUInt32LE(patched.readUInt32LE(lengthAt) + grown, lengthAt);
  return patched;
}

describe('readParquet', () => {
  it('reads rows as plain JSON records with their row index', async () => {
    const dir = await makeTempDir();
    const file = await writeFixture(dir, 'pairs.parquet', pairsParquet());
    const { items, failure } = await readAll(file);
    expect(failure).toBeNull();
    expect(records(items)).toEqual([
      { prompt: 'hello', chosen: 'good', rejected: 'bad', score: 1, messages: [{ role: 'user', content: 'x' }] },
      {
        prompt: 'second prompt',
        chosen: 'better',
        rejected: 'worse',
        score: '9007199254740993',
        messages: [{ role: 'user', content: 'y' }],
      },
    ]);
    const second = items[1]!;
    expect(second.kind === 'record' && second.location).toMatchObject({ file: 'pairs.parquet', row: 1 });
  });

  it('refuses a row group that declares an absurd size before reading any page', async () => {
    const dir = await makeTempDir();
    const file = await writeFixture(dir, 'absurd.parquet', withDeclaredSize(pairsParquet(), 2n ** 40n));
    const before = readCalls();
    const { items, failure } = await readAll(file);
    expect(failure).toMatchObject({
      code: 'parquet_limits_exceeded',
      message: expect.stringMatching(/declares 10995116\d{5} uncompressed bytes/),
    });
    expect(items).toEqual([]);
    expect(readCalls()).toBe(before);
  });

  it('refuses a page that declares more than the page limit, before decompressing it', async () => {
    const dir = await makeTempDir();
    const file = await writeFixture(dir, 'pages.parquet', pairsParquet());
    const { items, failure } = await readAll(file, { parquetMaxPageBytes: 8 });
    expect(failure).toMatchObject({ code: 'parquet_limits_exceeded', message: expect.stringContaining('limit is 8') });
    expect(records(items)).toEqual([]);
  });

  it('refuses a file with too many declared rows, a damaged footer or no magic', async () => {
    const dir = await makeTempDir();
    const rows = await writeFixture(dir, 'rows.parquet', pairsParquet());
    expect((await readAll(rows, { parquetMaxRows: 1 })).failure).toMatchObject({ code: 'parquet_limits_exceeded' });
    const footer = pairsParquet();
    footer.writeUInt32LE(0x7fffffff, footer.length - 8);
    const damaged = await writeFixture(dir, 'footer.parquet', footer);
    expect((await readAll(damaged)).failure).toMatchObject({ code: 'parquet_invalid' });
    const notParquet = await writeFixture(dir, 'text.parquet', 'just some text, not parquet at all');
    expect((await readAll(notParquet)).failure).toMatchObject({ code: 'parquet_invalid' });
    expect(errors((await readAll(notParquet)).items)).toEqual([]);
  });
});
