/**
 * Hostile data files (issue 11; reliability.md §5 and §7 items 24-27): arbitrary bytes and
 * mutations of valid files, in every container the importer reads (JSONL, JSON, CSV, TSV, each
 * plain and gzipped, and Parquet). Reading must never throw anything but the typed SourceFailure
 * that ends a file, every row error must carry a known code and an offset inside the file, records
 * must be plain JSON, and nothing may touch Object.prototype. The whole reader (detection and
 * normalisation included) must never throw at all.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dispatch, IMPORT_ERROR_CODES } from '../../src-main/api/index.js';
import { openRecords } from '../../src-main/engine/data/containers/index.js';
import { resolveLimits, type ImportLimits } from '../../src-main/engine/data/limits.js';
import { FileReader } from '../../src-main/engine/data/reader.js';
import { browserHandlers } from '../../src-main/server/index.js';
import { openEngine } from '../../src-main/engine/index.js';
import { SourceFailure, type ReadItem } from '../../src-main/engine/data/schema.js';
import { sourceFile } from '../engine/data/helpers.js';
import type { ParquetReadReply, ParquetReadRequest } from './fixtures/parquet-reader.js';
import { makeTempDir, propertyOptions, prototypePolluted, removeTempDirs, within } from './helpers.js';

let dir: string;
let counter = 0;

beforeAll(async () => {
  dir = await makeTempDir('drift-parsers-');
});
afterAll(removeTempDirs);

/** Low limits, so the fuzzer reaches every limit branch with small inputs. */
const LIMITS: ImportLimits = resolveLimits({
  maxLineBytes: 512,
  maxRecordBytes: 512,
  maxDecompressedBytes: 64 * 1024,
  ratioGraceBytes: 1024,
  maxCompressionRatio: 50,
  parquetMaxRows: 1000,
  parquetMaxRowGroupBytes: 1024 * 1024,
  parquetMaxPageBytes: 256 * 1024,
  parquetMaxMetadataBytes: 64 * 1024,
  maxMessages: 20,
});

const IMPORT_CODES = new Set(Object.keys(IMPORT_ERROR_CODES));

async function writeInput(extension: string, content: Uint8Array): Promise<string> {
  const file = path.join(dir, `input-${counter++}${extension}`);
  await writeFile(file, content);
  return file;
}

/** Reads a file to the end through its container; checks every item and the failure that ended it. */
async function readChecked(
  file: string,
  decodedBytes: number,
): Promise<{ items: ReadItem[]; failure: SourceFailure | null }> {
  const items: ReadItem[] = [];
  let failure: SourceFailure | null = null;
  try {
    for await (const batch of openRecords(sourceFile(file), LIMITS).items) items.push(...batch);
  } catch (error) {
    if (!(error instanceof SourceFailure)) throw error;
    expect(IMPORT_CODES).toContain(error.code);
    failure = error;
  }
  for (const item of items) {
    expect(['record', 'error', 'blank']).toContain(item.kind);
    if (item.kind === 'error') {
      expect(IMPORT_CODES).toContain(item.error.code);
      expect(item.error.byteOffset).toBeGreaterThanOrEqual(0);
      expect(item.error.byteOffset).toBeLessThanOrEqual(decodedBytes + 3);
    }
    if (item.kind === 'record') {
      // Records cross worker and IPC boundaries as JSON.
      expect(() => JSON.stringify(item.value)).not.toThrow();
      expect(item.location.byteOffset).toBeLessThanOrEqual(decodedBytes + 3);
    }
  }
  expect(prototypePolluted()).toBe(false);
  return { items, failure };
}

/** Runs the whole file reader (detection, mapping, normalisation); it must not throw. */
async function readOutcomes(file: string): Promise<void> {
  const reader = new FileReader(sourceFile(file), { limits: LIMITS });
  for await (const batch of reader.outcomes()) {
    for (const outcome of batch) {
      if (outcome.kind === 'error') expect(IMPORT_CODES).toContain(outcome.error.code);
      if (outcome.kind === 'draft') expect(() => JSON.stringify(outcome.draft)).not.toThrow();
    }
  }
  expect(prototypePolluted()).toBe(false);
}

const role = fc.constantFrom('user', 'assistant', 'system', 'tool', 'human', 'gpt', '', '__proto__', 5, null);
const text = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.constantFrom('', '\u0000', '\uD800', 'x'.repeat(600)),
  fc.jsonValue(),
);
const message = fc.record({ role, content: text }, { requiredKeys: [] });
/** Records that look like the formats the importer knows, with hostile values inside. */
const chatRecord = fc.oneof(
  fc.record({ messages: fc.oneof(fc.array(message, { maxLength: 25 }), fc.jsonValue()) }, { requiredKeys: [] }),
  fc.record({ prompt: text, chosen: text, rejected: text }, { requiredKeys: [] }),
  fc.record({ conversations: fc.array(fc.record({ from: role, value: text }), { maxLength: 4 }) }),
  fc.record({ instruction: text, output: text, label: fc.oneof(fc.boolean(), text) }, { requiredKeys: [] }),
  fc.jsonValue({ maxDepth: 4 }),
  fc.constant(JSON.parse('{"__proto__":{"polluted":1},"messages":[{"role":"user","content":"x"}]}')),
);

/** Mutations of valid bytes: flips, truncation, insertion of bytes that matter to the parsers. */
function mutated(valid: Uint8Array): fc.Arbitrary<Uint8Array> {
  const special = fc.constantFrom(
    0x00,
    0x0a,
    0x0d,
    0x22,
    0x2c,
    0x09,
    0x5b,
    0x7b,
    0x5c,
    0xef,
    0xbb,
    0xbf,
    0xff,
    0xc3,
    0x80,
  );
  const edit = fc.record({ at: fc.nat(), byte: fc.oneof(special, fc.integer({ min: 0, max: 255 })), kind: fc.nat(2) });
  return fc.tuple(fc.array(edit, { maxLength: 6 }), fc.option(fc.nat(), { nil: undefined })).map(([edits, cut]) => {
    let bytes = Array.from(valid);
    for (const { at, byte, kind } of edits) {
      const index = bytes.length === 0 ? 0 : at % (bytes.length + 1);
      if (kind === 0) bytes[index] = byte;
      else if (kind === 1) bytes.splice(index, 0, byte);
      else bytes.splice(index, 1);
    }
    if (cut !== undefined && bytes.length > 0) bytes = bytes.slice(0, cut % bytes.length);
    return Uint8Array.from(bytes);
  });
}

const encoder = new TextEncoder();
const asJsonl = (records: unknown[]) =>
  encoder.encode(records.map((record) => JSON.stringify(record)).join('\n') + '\n');
const asJson = (records: unknown[]) => encoder.encode(JSON.stringify(records));
function asDelimited(records: unknown[], separator: string): Uint8Array {
  const quote = (value: unknown) =>
    `"${String(typeof value === 'string' ? value : JSON.stringify(value)).replaceAll('"', '""')}"`;
  const rows = records.map((record) => {
    const object =
      typeof record === 'object' && record !== null ? (record as Record<string, unknown>) : { value: record };
    return ['prompt', 'chosen', 'rejected'].map((key) => quote(object[key] ?? '')).join(separator);
  });
  return encoder.encode(['prompt', 'chosen', 'rejected'].join(separator) + '\n' + rows.join('\n'));
}

const CONTAINERS: { extension: string; encode: (records: unknown[]) => Uint8Array }[] = [
  { extension: '.jsonl', encode: asJsonl },
  { extension: '.json', encode: asJson },
  { extension: '.csv', encode: (records) => asDelimited(records, ',') },
  { extension: '.tsv', encode: (records) => asDelimited(records, '\t') },
];

describe.each(CONTAINERS)('$extension', ({ extension, encode }) => {
  const content = fc.oneof(
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 1024 }) },
    { weight: 3, arbitrary: fc.array(chatRecord, { maxLength: 8 }).chain((records) => mutated(encode(records))) },
    { weight: 1, arbitrary: fc.array(chatRecord, { maxLength: 8 }).map(encode) },
  );

  it('reads arbitrary and mutated bytes into records, row errors or a typed failure', async () => {
    await fc.assert(
      fc.asyncProperty(content, async (bytes) => {
        const file = await writeInput(extension, bytes);
        await within(readChecked(file, bytes.length), 10_000, `reading ${file}`);
        await within(readOutcomes(file), 10_000, `importing ${file}`);
      }),
      propertyOptions(120),
    );
  });

  it('does the same gzipped, including damaged gzip streams and bombs', async () => {
    const gzipped = fc.oneof(
      content.map((bytes) => new Uint8Array(gzipSync(bytes))),
      content.chain((bytes) => mutated(new Uint8Array(gzipSync(bytes)))),
      fc.integer({ min: 1, max: 64 }).map((kib) => new Uint8Array(gzipSync(Buffer.alloc(kib * 4096, 0x20)))),
    );
    await fc.assert(
      fc.asyncProperty(gzipped, async (bytes) => {
        const file = await writeInput(`${extension}.gz`, bytes);
        await within(readChecked(file, LIMITS.maxDecompressedBytes), 10_000, `reading ${file}`);
        await within(readOutcomes(file), 10_000, `importing ${file}`);
      }),
      propertyOptions(60),
    );
  });
});

/** A worker that reads Parquet files, restarted when a read hangs. */
class ParquetReader {
  #worker: Worker | null = null;

  #spawn(): Worker {
    const url = new URL('./fixtures/parquet-reader.ts', import.meta.url);
    // Node 20 does not apply --import hooks inside workers: register tsx first (as the job manager does).
    const bootstrap = `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))})
      .then((tsx) => { tsx.register(); return import(${JSON.stringify(url.href)}); });`;
    return new Worker(bootstrap, { eval: true });
  }

  /** The reply, or 'hang' when the read did not finish within `ms` (the worker is then replaced). */
  read(file: string, ms: number): Promise<ParquetReadReply | 'hang'> {
    const worker = (this.#worker ??= this.#spawn());
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        worker.off('message', onMessage);
        worker.off('error', reject);
        void worker.terminate();
        this.#worker = null;
        resolve('hang');
      }, ms);
      const onMessage = (reply: ParquetReadReply) => {
        clearTimeout(timer);
        worker.off('error', reject);
        resolve(reply);
      };
      worker.once('message', onMessage);
      worker.once('error', reject);
      worker.postMessage({ file, limits: LIMITS } satisfies ParquetReadRequest);
    });
  }

  async close(): Promise<void> {
    await this.#worker?.terminate();
  }
}

describe('.parquet', () => {
  const valid = new Uint8Array(
    parquetWriteBuffer({
      columnData: [
        { name: 'prompt', data: ['Name a prime.', 'Say hi.', 'Count to 3.'], type: 'STRING' },
        { name: 'chosen', data: ['Seven.', 'Hi!', '1 2 3'], type: 'STRING' },
        { name: 'rejected', data: ['Nine.', '...', '3 2 1'], type: 'STRING' },
        { name: 'score', data: [9.5, 2, 7], type: 'DOUBLE' },
        { name: 'id', data: [1n, 2n, 2n ** 62n], type: 'INT64' },
      ],
    }),
  );
  /** Overwrites four bytes with a large little-endian integer: a declared size or count gone wild. */
  const bigInteger = fc.record({ at: fc.nat(), value: fc.constantFrom(0x7fffffff, 0xffffffff, 0x40000000, 1 << 24) });
  const reader = new ParquetReader();
  afterAll(() => reader.close());

  it('reads mutated files into records or a typed failure, allocating nothing the limits forbid', async () => {
    const content = fc.oneof(
      mutated(valid),
      fc.array(bigInteger, { minLength: 1, maxLength: 3 }).map((edits) => {
        const bytes = Uint8Array.from(valid);
        const view = new DataView(bytes.buffer);
        for (const { at, value } of edits) view.setUint32(at % (bytes.length - 4), value, true);
        return bytes;
      }),
      fc
        .uint8Array({ maxLength: 256 })
        .map((middle) => Uint8Array.from([...encoder.encode('PAR1'), ...middle, ...encoder.encode('PAR1')])),
    );
    const before = process.memoryUsage().rss;
    let peak = before;
    let hangs = 0;
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(content, async (bytes) => {
        runs++;
        const file = await writeInput('.parquet', bytes);
        const reply = await reader.read(file, 5_000);
        peak = Math.max(peak, process.memoryUsage().rss);
        // A hang is hyparquet's (see the dataset:detect test below); it is counted, not hidden.
        if (reply === 'hang') {
          hangs++;
          return;
        }
        expect(reply.thrown).toBeNull();
        expect(reply.unknownCodes).toEqual([]);
        if (reply.failure !== null) expect(IMPORT_CODES).toContain(reply.failure);
      }),
      propertyOptions(150),
    );
    console.info(
      `parquet fuzz: ${runs} files, ${hangs} hung the decoder, peak RSS +${((peak - before) / 2 ** 20).toFixed(0)} MiB`,
    );
    // A page may declare at most 256 KiB and a row group 1 MiB here; nothing near 2^31 (2 GiB) was allocated.
    expect(peak - before).toBeLessThan(512 * 1024 * 1024);
  });

  // hyparquet 1.33's readBitPacked loops forever on a bit-packed run whose varint header decodes
  // negative (`while (count)` never reaches 0): the decoder itself still hangs on this file (the
  // fuzz test above counts such files). dataset:detect therefore reads Parquet files in a worker
  // thread with a time limit, so the host answers other channels meanwhile and then a clear error.
  it('answers dataset:detect on a file that hangs the decoder with parquet_unreadable, staying responsive', async () => {
    const file = fileURLToPath(new URL('./fixtures/parquet-bitpacked-hang.parquet', import.meta.url));
    // The file still hangs the decoder (a hyparquet that no longer does needs a new fixture here).
    expect(await reader.read(file, 2_000)).toBe('hang');
    const engine = await openEngine({
      workspaceDir: path.join(await makeTempDir('drift-detect-hang-'), 'workspace'),
      host: 'cli',
      detectTimeoutMs: 3_000,
    });
    try {
      let detected = false;
      const detection = dispatch(browserHandlers(engine.handlers), 'dataset:detect', { paths: [file] }).finally(
        () => (detected = true),
      );
      // The host thread keeps answering while the decoder loops in its worker.
      let ticks = 0;
      const ticker = setInterval(() => ticks++, 100);
      const started = Date.now();
      const info = await within(
        dispatch(browserHandlers(engine.handlers), 'app:info', {}),
        1_000,
        'app:info during detection',
      );
      expect(info.ok).toBe(true);
      const formats = await within(
        dispatch(browserHandlers(engine.handlers), 'dataset:formats', {}),
        1_000,
        'dataset:formats',
      );
      expect(formats.ok).toBe(true);
      expect(detected).toBe(false);

      const result = await within(detection, 15_000, 'dataset:detect');
      clearInterval(ticker);
      const elapsed = Date.now() - started;
      expect(result.ok).toBe(false);
      if (result.ok) return;
      expect(result.error.code).toBe('parquet_unreadable');
      expect(result.error.message).toContain(file);
      expect(result.error.message).toMatch(/did not finish/);
      expect(elapsed).toBeGreaterThanOrEqual(2_900);
      // A blocked host would have ticked at most once; a free one ticks about every 100 ms.
      expect(ticks).toBeGreaterThan((elapsed / 100) * 0.5);

      // A valid Parquet file still detects (in its worker), and the engine closes cleanly after the stop.
      const validFile = await writeInput('.parquet', valid);
      const good = await within(
        dispatch(browserHandlers(engine.handlers), 'dataset:detect', { paths: [validFile] }),
        15_000,
        'detect',
      );
      expect(good.ok && (good.value as { format: string | null }).format).toBe('preference');
    } finally {
      await engine.close();
    }
  });
});

describe('memory bounds', () => {
  it('refuses a 16 MiB line, record or field without buffering it whole, keeping the rows around it', async () => {
    const huge = 'x'.repeat(16 * 1024 * 1024);
    const cases: [string, string][] = [
      ['.jsonl', `{"prompt":"a","completion":"b"}\n{"prompt":"${huge}"}\n{"prompt":"c","completion":"d"}\n`],
      ['.json', `[{"prompt":"a","completion":"b"},{"prompt":"${huge}"},{"prompt":"c","completion":"d"}]`],
      ['.csv', `prompt,completion\na,b\n"${huge}",b\nc,d\n`],
    ];
    for (const [extension, text] of cases) {
      const file = await writeInput(extension, encoder.encode(text));
      const before = process.memoryUsage().heapUsed;
      const { items, failure } = await readChecked(file, text.length);
      const records = items.filter((item) => item.kind === 'record').length;
      const codes = items.flatMap((item) => (item.kind === 'error' ? [item.error.code] : []));
      if (extension === '.csv') {
        // csv-parse cannot go on after an oversized record: the file ends there, saying so.
        expect(failure?.code).toBe('record_too_large');
        expect(failure?.message).toContain('stopped');
        expect(records).toBe(1);
      } else {
        expect(codes, extension).toEqual([extension === '.jsonl' ? 'line_too_long' : 'record_too_large']);
        expect(records, extension).toBe(2);
      }
      expect(process.memoryUsage().heapUsed - before, extension).toBeLessThan(48 * 1024 * 1024);
    }
  });
});
