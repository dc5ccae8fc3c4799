/**
 * The JSONL reader: the splitter round-trips any records cut at any chunk boundaries (with CRLF
 * and a BOM), and every bad line becomes a row error with its line, byte offset and code while
 * the lines around it still import.
 */
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { LineSplitter, parseLine, type SplitLine } from '../../../src-main/engine/data/containers/jsonl.js';
import { errors, makeTempDir, readAll, records, removeTempDirs, writeFixture } from './helpers.js';

afterAll(removeTempDirs);

/** Splits `bytes` at the given cut points and parses every line, as the reader does. */
function splitAndParse(bytes: Buffer, cuts: number[], maxLineBytes = 1 << 20) {
  const points = [...new Set(cuts.map((cut) => cut % (bytes.length + 1)))].sort((a, b) => a - b);
  const bom = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf;
  const body = bom ? bytes.subarray(3) : bytes;
  const splitter = new LineSplitter(maxLineBytes, bom ? 3 : 0);
  const lines: SplitLine[] = [];
  let start = 0;
  for (const point of points) {
    const at = Math.max(0, point - (bom ? 3 : 0));
    if (at <= start) continue;
    splitter.push(body.subarray(start, at), lines);
    start = at;
  }
  splitter.push(body.subarray(start), lines);
  splitter.end(lines);
  return lines.map((line) => parseLine(line, 'f.jsonl', maxLineBytes));
}

describe('LineSplitter', () => {
  it('round-trips arbitrary records split at arbitrary chunk boundaries, with LF or CRLF and an optional BOM', () => {
    fc.assert(
      fc.property(
        fc.array(fc.jsonValue(), { minLength: 0, maxLength: 30 }),
        fc.array(fc.nat(), { maxLength: 12 }),
        fc.boolean(),
        fc.boolean(),
        fc.boolean(),
        (values, cuts, crlf, bom, finalNewline) => {
          const newline = crlf ? '\r\n' : '\n';
          const text =
            values.map((value) => JSON.stringify(value)).join(newline) + (finalNewline && values.length ? newline : '');
          const bytes = Buffer.concat([bom ? Buffer.from([0xef, 0xbb, 0xbf]) : Buffer.alloc(0), Buffer.from(text)]);
          const items = splitAndParse(bytes, cuts);
          const parsed = items.flatMap((item) => (item.kind === 'record' ? [item.value] : []));
          // JSON round trip turns -0 into 0; compare through JSON.
          expect(JSON.stringify(parsed)).toBe(JSON.stringify(values.map((value) => JSON.parse(JSON.stringify(value)))));
          expect(items.every((item) => item.kind !== 'error')).toBe(true);
          // Line numbers count from 1 and byte offsets point at each line's first byte.
          const located = items.flatMap((item) => (item.kind === 'record' ? [item.location] : []));
          located.forEach((location, index) => {
            expect(location.line).toBe(index + 1);
            const line = bytes.subarray(location.byteOffset, location.byteOffset + 1).toString('latin1');
            expect(line).toBe(JSON.stringify(values[index]).slice(0, 1));
          });
        },
      ),
      { numRuns: 300 },
    );
  });

  it('decodes a multi-byte character split across two chunks', () => {
    const bytes = Buffer.from('{"text":"€ and 漢字"}\n');
    for (let cut = 1; cut < bytes.length; cut++) {
      const items = splitAndParse(bytes, [cut]);
      expect(items).toEqual([
        { kind: 'record', value: { text: '€ and 漢字' }, location: { file: 'f.jsonl', line: 1, byteOffset: 0 } },
      ]);
    }
  });

  it('never buffers more than the line limit: a long line is measured and skipped to its newline', () => {
    const long = `{"text":"${'x'.repeat(5000)}"}`;
    const bytes = Buffer.from(`{"a":1}\n${long}\n{"b":2}\n`);
    const cuts = Array.from({ length: 60 }, (_, index) => 8 + index * 97);
    const items = splitAndParse(bytes, cuts, 1000);
    expect(items[0]).toMatchObject({ kind: 'record', value: { a: 1 } });
    expect(items[1]).toMatchObject({ kind: 'error', error: { code: 'line_too_long', line: 2, byteOffset: 8 } });
    expect(items[2]).toMatchObject({
      kind: 'record',
      value: { b: 2 },
      location: { line: 3, byteOffset: 8 + long.length + 1 },
    });
  });
});

describe('readJsonl on files', () => {
  it('reports invalid JSON, bad UTF-8 and long lines with line, byte offset and code, and keeps the valid rows', async () => {
    const dir = await makeTempDir();
    const good = '{"ok":1}\n';
    const file = await writeFixture(
      dir,
      'bad.jsonl',
      Buffer.concat([
        Buffer.from([0xef, 0xbb, 0xbf]),
        Buffer.from(good),
        Buffer.from('{"broken": tru}\r\n'),
        Buffer.from('{"name":"caf'),
        Buffer.from([0xc3, 0x28]),
        Buffer.from('"}\n'),
        Buffer.from('\n   \n'),
        Buffer.from(`{"long":"${'y'.repeat(300)}"}\n`),
        Buffer.from('{"last":true}'),
      ]),
    );
    const { items, failure } = await readAll(file, { maxLineBytes: 200 });
    expect(failure).toBeNull();
    expect(records(items)).toEqual([{ ok: 1 }, { last: true }]);
    const found = errors(items);
    expect(found.map((error) => [error.code, error.line])).toEqual([
      ['json_invalid', 2],
      ['utf8_invalid', 3],
      ['line_too_long', 6],
    ]);
    // Offsets count the BOM: line 2 starts after it and line 1.
    expect(found[0]!.byteOffset).toBe(3 + good.length);
    // The bad byte itself: after the BOM, lines 1-2 and `{"name":"caf`.
    expect(found[1]!.byteOffset).toBe(3 + good.length + '{"broken": tru}\r\n'.length + '{"name":"caf'.length);
    expect(found.every((error) => error.file === 'bad.jsonl')).toBe(true);
    expect(items.filter((item) => item.kind === 'blank')).toHaveLength(2);
  });

  it('keeps a __proto__ key as data and big integers as parsed (no prototype change)', async () => {
    const dir = await makeTempDir();
    const file = await writeFixture(dir, 'proto.jsonl', '{"__proto__":{"polluted":1},"id":12345678901234567890}\n');
    const { items } = await readAll(file);
    const value = records(items)[0] as Record<string, unknown>;
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(Object.hasOwn(value, '__proto__')).toBe(true);
  });
});
