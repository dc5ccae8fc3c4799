/**
 * The JSON reader: arrays, objects holding arrays, single records; element boundaries found by
 * the byte scanner whatever the chunking; broken and oversized elements reported by location.
 */
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { JsonScanner, type ScanEvent } from '../../../src-main/engine/data/containers/json.js';
import { errors, makeTempDir, readAll, records, removeTempDirs, writeFixture } from './helpers.js';

afterAll(removeTempDirs);

function scan(bytes: Buffer, cuts: number[]): ScanEvent[] {
  const scanner = new JsonScanner(1 << 20);
  const events: ScanEvent[] = [];
  const points = [...new Set(cuts.map((cut) => cut % (bytes.length + 1)))].sort((a, b) => a - b);
  let start = 0;
  for (const point of [...points, bytes.length]) {
    if (point <= start) continue;
    scanner.push(bytes.subarray(start, point), events);
    start = point;
  }
  scanner.end(events);
  return events;
}

describe('JsonScanner', () => {
  it('finds every element of an array, cut at any chunk boundaries, with any whitespace', () => {
    fc.assert(
      fc.property(
        fc.array(fc.jsonValue({ maxDepth: 3 }), { maxLength: 20 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        fc.boolean(),
        (values, cuts, pretty) => {
          const bytes = Buffer.from(JSON.stringify(values, null, pretty ? 2 : undefined));
          const events = scan(bytes, cuts);
          const parsed = events.map((event) => {
            expect(event.kind).toBe('element');
            return event.kind === 'element' ? (JSON.parse(event.bytes!.toString()) as unknown) : undefined;
          });
          expect(JSON.stringify(parsed)).toBe(JSON.stringify(JSON.parse(bytes.toString())));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('reports a truncated file and text after the value', () => {
    expect(scan(Buffer.from('[{"a":1},{"b":'), [])).toMatchObject([
      { kind: 'element', index: 0 },
      { kind: 'syntax', message: expect.stringContaining('truncated') },
    ]);
    expect(scan(Buffer.from('[1] x'), []).at(-1)).toMatchObject({ kind: 'syntax', byteOffset: 4 });
    expect(scan(Buffer.from('hello'), [])).toMatchObject([{ kind: 'syntax', byteOffset: 0 }]);
  });
});

describe('readJson on files', () => {
  it('reads an array with element lines and offsets; a broken element is a row error', async () => {
    const dir = await makeTempDir();
    const text = '[\n  {"a": "x]},{"},\n  {"b": tru},\n  {"c": [1, {"d": "\\"}"}]}\n]';
    const file = await writeFixture(dir, 'array.json', text);
    const { items, failure } = await readAll(file);
    expect(failure).toBeNull();
    expect(records(items)).toEqual([{ a: 'x]},{' }, { c: [1, { d: '"}' }] }]);
    expect(errors(items)).toEqual([
      expect.objectContaining({ code: 'json_invalid', line: 3, row: 1, byteOffset: text.indexOf('{"b"') }),
    ]);
    const first = items[0]!;
    expect(first.kind === 'record' && first.location).toEqual({ file: 'array.json', line: 2, row: 0, byteOffset: 4 });
  });

  it('reads an object holding arrays as records, tagged with their key', async () => {
    const dir = await makeTempDir();
    const file = await writeFixture(
      dir,
      'splits.json',
      JSON.stringify({ train: [{ prompt: 'p1' }, { prompt: 'p2' }], test: [{ prompt: 'p3' }] }),
    );
    const { items } = await readAll(file);
    expect(records(items)).toEqual([{ prompt: 'p1' }, { prompt: 'p2' }, { prompt: 'p3' }]);
    expect(items.map((item) => item.kind === 'record' && item.group)).toEqual(['train', 'train', 'test']);
  });

  it('reads an object that is one record (messages list, or scalar fields) as one record', async () => {
    const dir = await makeTempDir();
    const one = {
      messages: [
        { role: 'user', content: 'hi' },
        { role: 'assistant', content: 'hello' },
      ],
    };
    const a = await writeFixture(dir, 'one.json', JSON.stringify(one));
    expect(records((await readAll(a)).items)).toEqual([one]);
    const two = { prompt: 'q', chosen: 'a', rejected: 'b' };
    const b = await writeFixture(dir, 'two.json', JSON.stringify(two));
    expect(records((await readAll(b)).items)).toEqual([two]);
  });

  it('rejects an element over the record limit without keeping it', async () => {
    const dir = await makeTempDir();
    const file = await writeFixture(dir, 'big.json', JSON.stringify([{ a: 1 }, { text: 'z'.repeat(5000) }, { b: 2 }]));
    const { items } = await readAll(file, { maxRecordBytes: 1000 });
    expect(records(items)).toEqual([{ a: 1 }, { b: 2 }]);
    expect(errors(items)).toEqual([expect.objectContaining({ code: 'record_too_large', row: 1 })]);
  });

  it('reports bad UTF-8 inside an element with its byte offset', async () => {
    const dir = await makeTempDir();
    const bytes = Buffer.concat([Buffer.from('[{"a":"ok"},{"b":"'), Buffer.from([0xff]), Buffer.from('"}]')]);
    const file = await writeFixture(dir, 'utf8.json', bytes);
    const { items } = await readAll(file);
    expect(records(items)).toEqual([{ a: 'ok' }]);
    expect(errors(items)).toEqual([expect.objectContaining({ code: 'utf8_invalid', byteOffset: bytes.indexOf(0xff) })]);
  });
});
