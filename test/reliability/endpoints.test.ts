/**
 * Hostile requests on every endpoint (issue 11): for each channel of the contract, arbitrary JSON
 * payloads biased towards the channel's own keys go through `dispatch`, through the Electron IPC
 * wrapper and through the browser-mode HTTP route, all over a real engine on a temporary workspace.
 * Each call must settle within a few seconds with a Result whose error code is a known one; an
 * `internal_error` (a handler threw something that is not an AppFailure) or `invalid_response`
 * counts as a bug. Oversized requests are refused before they are parsed.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { z } from 'zod';
import {
  CHANNEL_NAMES,
  contract,
  dispatch,
  JobKind,
  type Channel,
  type Handlers,
  type Result,
} from '../../src-main/api/index.js';
import { openEngine, type Engine } from '../../src-main/engine/index.js';
import { browserHandlers, MAX_BODY_BYTES, startServer, type RunningServer } from '../../src-main/server/index.js';
import { registerIpcHandlers } from '../../src-main/shell/ipc.js';
import {
  assertResult,
  hostileValue,
  makeTempDir,
  propertyOptions,
  prototypePolluted,
  removeTempDirs,
  within,
} from './helpers.js';

vi.mock('electron', () => ({ shell: { openExternal: vi.fn() }, dialog: { showOpenDialog: vi.fn() } }));

/** Codes that mean a handler crashed or broke its own contract, whatever the input. */
const BUG_CODES = new Set(['internal_error', 'invalid_response']);
const CALL_TIMEOUT_MS = 15_000;
/** Payloads per channel that passed the schema and reached the handler (printed at the end). */
const reachedHandler = new Map<string, number>();

let scratch: string;
let datasetId = 'none';
let engine: Engine;
let handlers: Handlers;
let server: RunningServer;
let ipc: ReturnType<typeof fakeIpcMain>;
const indexPath = path.join('/opt', 'drift', 'out', 'renderer', 'index.html');
const topFrame = { parent: null, url: pathToFileURL(indexPath).href };

beforeAll(async () => {
  scratch = await makeTempDir('drift-endpoints-');
  const site = path.join(scratch, 'site');
  await mkdir(path.join(scratch, 'data'), { recursive: true });
  await mkdir(site);
  await writeFile(path.join(site, 'index.html'), '<!doctype html><title>t</title>');
  await writeFile(
    path.join(scratch, 'data', 'chat.jsonl'),
    '{"messages":[{"role":"user","content":"hi"},{"role":"assistant","content":"hello"}]}\n',
  );
  engine = await openEngine({ workspaceDir: path.join(scratch, 'workspace'), host: 'browser' });
  // One real dataset, so requests naming it reach the code behind the not_found checks.
  const imported = await engine.runJob('dataset.import', { paths: [path.join(scratch, 'data', 'chat.jsonl')] });
  datasetId = (imported.result as { datasetId: string }).datasetId;
  handlers = browserHandlers(engine.handlers);
  server = await startServer({ engine, staticDir: site, validateResponses: true });
  ipc = fakeIpcMain();
  registerIpcHandlers(
    ipc as unknown as Parameters<typeof registerIpcHandlers>[0],
    handlers,
    { kind: 'file', indexPath },
    { validateResponses: true },
  );
}, 60_000);

afterAll(async () => {
  console.info(`payloads that reached a handler: ${JSON.stringify(Object.fromEntries(reachedHandler))}`);
  await server?.close();
  // Closing cancels jobs the fuzzer started; it must not hang either.
  if (engine) await within(engine.close(), 30_000, 'engine.close');
  await removeTempDirs();
});

type Listener = (event: unknown, payload?: unknown) => Promise<Result<unknown>>;

function fakeIpcMain() {
  const registered = new Map<string, Listener>();
  return {
    handle: (channel: string, listener: Listener) => void registered.set(channel, listener),
    removeHandler: (channel: string) => void registered.delete(channel),
    call(channel: string, payload: unknown): Promise<Result<unknown>> {
      const listener = registered.get(channel);
      if (!listener) throw new Error(`no IPC handler for ${channel}`);
      return listener({ senderFrame: topFrame }, payload);
    },
  };
}

/** The top-level keys of a channel's request schema. */
function requestKeys(channel: Channel): string[] {
  const schema = contract[channel].request as unknown as { shape?: Record<string, unknown> };
  return schema.shape ? Object.keys(schema.shape) : [];
}

/**
 * Keys whose values name files: the fuzzer gives them only paths inside its scratch folder (or
 * ones that do not exist), so a generated "." or "/" never makes the engine scan the disk.
 */
function pathValue(): fc.Arbitrary<unknown> {
  const inside = (...parts: string[]) => path.join(scratch, ...parts);
  return fc.oneof(
    fc.constantFrom(inside('data'), inside('data', 'chat.jsonl'), inside('missing'), '/nonexistent-drift/x', 'no-such'),
    fc.constantFrom(inside('data', '..', '..', 'x'), `${inside('data')}/../data/chat.jsonl`, inside('out', 'x')),
    fc.array(fc.constantFrom(inside('data', 'chat.jsonl'), inside('missing'), 'no-such'), { maxLength: 3 }),
    fc.constantFrom<unknown>(5, null, [], {}),
  );
}

const PATH_KEYS = new Set(['path', 'paths', 'outDir', 'files', 'folder', 'file', 'source']);

/** Values a client could plausibly send: ids (including the real dataset's), small numbers, enum words. */
function plausibleValue(): fc.Arbitrary<unknown> {
  const id = fc.oneof(fc.constant(datasetId), fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,12}$/));
  return fc.oneof(
    id,
    fc.integer({ min: -2, max: 2000 }),
    fc.boolean(),
    fc.constantFrom(
      'pending',
      'accepted',
      'rejected',
      'drift',
      'trl',
      'file',
      'folder',
      'auto',
      'dark',
      'https://example.com/',
    ),
    fc.array(id, { maxLength: 3 }),
    fc.constant({}),
  );
}

function valueFor(channel: Channel, key: string): fc.Arbitrary<unknown> {
  if (PATH_KEYS.has(key)) return pathValue();
  if (channel === 'job:start' && key === 'kind') return fc.oneof(fc.constantFrom(...JobKind.options), hostileValue);
  if (channel === 'job:start' && key === 'params') {
    return fc.oneof(
      fc.dictionary(
        fc.constantFrom('datasetId', 'modelId', 'runId', 'seconds', 'name', 'preset', 'resume', 'outputName'),
        hostileValue,
        { maxKeys: 4 },
      ),
      hostileValue,
    );
  }
  return fc.oneof(plausibleValue(), hostileValue);
}

/** Payloads for one channel: non-objects, objects with its keys (and strangers), hostile values. */
function payloadFor(channel: Channel): fc.Arbitrary<unknown> {
  const keys = requestKeys(channel);
  const key = fc.oneof(
    { weight: 6, arbitrary: keys.length > 0 ? fc.constantFrom(...keys) : fc.constant('unexpected') },
    { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
    { weight: 1, arbitrary: fc.constantFrom('__proto__', 'constructor', 'prototype') },
  );
  const entries = fc
    .array(
      key.chain((name) => valueFor(channel, name).map((value) => [name, value] as const)),
      { maxLength: 5 },
    )
    .map((pairs) => {
      const payload: Record<string, unknown> = {};
      for (const [name, value] of pairs)
        Object.defineProperty(payload, name, { value, enumerable: true, writable: true });
      return payload;
    });
  // Only the channel's own keys, each maybe present with a plausible value: most of these pass
  // the schema, so the handlers themselves get fuzzed, not just the validation.
  const shaped = fc.record(
    Object.fromEntries(keys.map((name) => [name, PATH_KEYS.has(name) ? pathValue() : plausibleValue()])),
    {
      requiredKeys: [],
    },
  );
  return fc.oneof(
    { weight: 1, arbitrary: hostileValue },
    { weight: 1, arbitrary: fc.constant(undefined) },
    { weight: 4, arbitrary: entries },
    { weight: 4, arbitrary: shaped },
  );
}

function checkResult(result: unknown, where: string): void {
  assertResult(result, where);
  const failed = result as { ok: boolean; error?: { code: string; message: string } };
  if (!failed.ok && BUG_CODES.has(failed.error?.code ?? '')) {
    throw new Error(`${where}: ${failed.error?.code}: ${failed.error?.message}`);
  }
  if (prototypePolluted()) throw new Error(`${where}: Object.prototype was polluted`);
}

/** POSTs raw bytes to /api/<channel> with the token, as a browser would. */
function post(
  channel: string,
  body: string | Buffer,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      {
        host: '127.0.0.1',
        port: server.port,
        method: 'POST',
        path: `/api/${channel}`,
        headers: {
          host: `127.0.0.1:${server.port}`,
          authorization: `Bearer ${server.token}`,
          'content-type': 'application/json',
          ...headers,
        },
        setHost: false,
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

describe.each([...CHANNEL_NAMES])('%s with arbitrary payloads', (channel) => {
  const runs = channel === 'job:start' ? 10 : 40;

  it('dispatch and IPC always answer with a Result and a stable code', async () => {
    await fc.assert(
      fc.asyncProperty(payloadFor(channel), async (payload) => {
        const direct = await within(
          dispatch(handlers, channel, payload, { validateResponses: true }),
          CALL_TIMEOUT_MS,
          `dispatch ${channel}`,
        );
        checkResult(direct, `dispatch ${channel}`);
        const viaIpc = await within(ipc.call(channel, payload), CALL_TIMEOUT_MS, `IPC ${channel}`);
        checkResult(viaIpc, `IPC ${channel}`);
        // A request the schema refuses never reaches the handler, in both hosts alike.
        const valid = (contract[channel].request as z.ZodType).safeParse(payload ?? {}).success;
        if (valid) reachedHandler.set(channel, (reachedHandler.get(channel) ?? 0) + 1);
        else {
          expect(direct).toMatchObject({ ok: false, error: { code: 'invalid_request' } });
          expect(viaIpc).toMatchObject({ ok: false, error: { code: 'invalid_request' } });
        }
      }),
      propertyOptions(runs),
    );
  });

  it('the HTTP route always answers with a Result and a stable code', async () => {
    await fc.assert(
      fc.asyncProperty(payloadFor(channel), async (payload) => {
        // JSON has no undefined, NaN or Infinity: the browser would send what JSON.stringify makes.
        const body = payload === undefined ? '' : (JSON.stringify(payload) ?? '');
        const response = await within(post(channel, body), CALL_TIMEOUT_MS, `HTTP ${channel}`);
        expect([200, 400]).toContain(response.status);
        checkResult(JSON.parse(response.body), `HTTP ${channel}`);
      }),
      propertyOptions(Math.ceil(runs / 2)),
    );
  });
});

describe('transport-level hostility', () => {
  it('answers arbitrary bodies, channel names and content types with a Result, never a crash', async () => {
    const channelName = fc.oneof(
      fc.constantFrom(...CHANNEL_NAMES),
      fc.constantFrom(
        '',
        '%',
        '%zz',
        '..%2f..%2fetc',
        'app%3Ainfo',
        '__proto__',
        'constructor',
        'toString',
        'a'.repeat(300),
      ),
      fc.string({ maxLength: 20 }).map(encodeURIComponent),
    );
    const body = fc.oneof(
      fc.uint8Array({ maxLength: 256 }).map((bytes) => Buffer.from(bytes)),
      fc.string({ unit: 'binary', maxLength: 128 }),
      fc.constantFrom(
        '\uFEFF{}',
        '{"a":',
        '[]',
        'null',
        '1e999',
        '{"__proto__":{"polluted":1}}',
        `${'['.repeat(100_000)}${']'.repeat(100_000)}`,
      ),
    );
    const contentType = fc.constantFrom(
      'application/json',
      'application/json; charset=utf-8',
      'text/plain',
      'APPLICATION/JSON',
      '',
    );
    await fc.assert(
      fc.asyncProperty(channelName, body, contentType, async (name, raw, type) => {
        const response = await within(post(name, raw, { 'content-type': type }), CALL_TIMEOUT_MS, `HTTP ${name}`);
        expect([200, 400, 404, 413, 415]).toContain(response.status);
        checkResult(JSON.parse(response.body), `HTTP ${name}`);
      }),
      propertyOptions(150),
    );
  });

  it('refuses a 50 MB body with 413 invalid_request after reading at most the 1 MB cap', async () => {
    const before = process.memoryUsage().rss;
    // Declared: refused from the header, before a byte of the body is read.
    const declared = await postLarge(50 * 1024 * 1024, true);
    expect(declared.status).toBe(413);
    expect(JSON.parse(declared.body)).toMatchObject({ ok: false, error: { code: 'invalid_request' } });
    // Streamed (chunked, no length): reading stops at the cap.
    const streamed = await postLarge(50 * 1024 * 1024, false);
    expect(streamed.status).toBe(413);
    expect(JSON.parse(streamed.body).error.message).toContain(String(MAX_BODY_BYTES));
    // The server did not buffer the 50 MB (the client's own chunks are reused).
    expect(process.memoryUsage().rss - before).toBeLessThan(40 * 1024 * 1024);
  });

  it('refuses a 50 MB IPC payload quickly with invalid_request, without calling the handler', async () => {
    const big = 'x'.repeat(50 * 1024 * 1024);
    const called: string[] = [];
    const table = new Proxy({} as Handlers, {
      get: (_target, channel: string) => async () => {
        called.push(channel);
        return {};
      },
    });
    for (const channel of CHANNEL_NAMES) {
      const keys = requestKeys(channel);
      const payloads = [{ unexpected: big }, Object.fromEntries(keys.map((key) => [key, big]))];
      for (const payload of payloads) {
        if (Object.keys(payload).length === 0) continue;
        const started = performance.now();
        const result = await dispatch(table, channel, payload);
        expect(performance.now() - started, channel).toBeLessThan(500);
        expect(result, channel).toMatchObject({ ok: false, error: { code: 'invalid_request' } });
        // The error names the problem without echoing the 50 MB back.
        expect(JSON.stringify(result).length, channel).toBeLessThan(64 * 1024);
      }
    }
    expect(called).toEqual([]);
  });
});

/** Sends `bytes` of JSON-ish filler in 1 MiB chunks; resolves with the response (the server may cut the upload). */
function postLarge(bytes: number, declareLength: boolean): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {
      host: `127.0.0.1:${server.port}`,
      authorization: `Bearer ${server.token}`,
      'content-type': 'application/json',
    };
    if (declareLength) headers['content-length'] = String(bytes);
    const request = httpRequest(
      { host: '127.0.0.1', port: server.port, method: 'POST', path: '/api/settings:update', headers, setHost: false },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          request.destroy();
          resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString() });
        });
      },
    );
    // The server closes the connection once it has answered; the rest of the upload is dropped.
    request.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE' && error.code !== 'ECONNRESET') reject(error);
    });
    const chunk = Buffer.alloc(1024 * 1024, 0x20);
    let sent = 0;
    const pump = () => {
      while (sent < bytes && !request.destroyed) {
        sent += chunk.length;
        if (!request.write(chunk)) {
          request.once('drain', pump);
          return;
        }
      }
      if (!request.destroyed) request.end();
    };
    pump();
  });
}
