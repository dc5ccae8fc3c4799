/** CSV and TSV: header row, quoted fields with delimiters and newlines, malformed rows and bad UTF-8. */
import { afterAll, describe, expect, it } from 'vitest';
import { errors, makeTempDir, readAll, records, removeTempDirs, writeFixture } from './helpers.js';

afterAll(removeTempDirs);

describe('readDelimited', () => {
  it('reads CSV rows as objects keyed by the header, with quoted commas, quotes and newlines', async () => {
    const dir = await makeTempDir();
    const file = await writeFixture(
      dir,
      'pairs.csv',
      '\uFEFFprompt,chosen,rejected\r\n"Hi, there","He said ""yes""","line one\nline two"\r\nq2,a2,b2\r\n',
    );
    const { items, failure } = await readAll(file);
    expect(failure).toBeNull();
    expect(records(items)).toEqual([
      { prompt: 'Hi, there', chosen: 'He said "yes"', rejected: 'line one\nline two' },
      { prompt: 'q2', chosen: 'a2', rejected: 'b2' },
    ]);
    const second = items[1]!;
    expect(second.kind === 'record' && second.location).toMatchObject({ line: 4, row: 1 });
  });

  it('reads TSV and reports a row with bad UTF-8 while keeping the others', async () => {
    const dir = await makeTempDir();
    const bytes = Buffer.concat([
      Buffer.from('instruction\toutput\nfirst\tone\nsecond\t'),
      Buffer.from([0xfe, 0xfe]),
      Buffer.from('\nthird\tthree\n'),
    ]);
    const file = await writeFixture(dir, 'rows.tsv', bytes);
    const { items } = await readAll(file);
    expect(records(items)).toEqual([
      { instruction: 'first', output: 'one' },
      { instruction: 'third', output: 'three' },
    ]);
    expect(errors(items)).toEqual([expect.objectContaining({ code: 'utf8_invalid', line: 3, row: 1 })]);
  });

  it('reports an unterminated quote as csv_invalid', async () => {
    const dir = await makeTempDir();
    const file = await writeFixture(dir, 'broken.csv', 'prompt,response\nok,fine\n"open,never closed\n');
    const { items } = await readAll(file);
    expect(records(items)).toEqual([{ prompt: 'ok', response: 'fine' }]);
    expect(errors(items)).toEqual([expect.objectContaining({ code: 'csv_invalid', file: 'broken.csv' })]);
  });
});
