import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AppFailure, CHANNELS, HOST_CHANNELS, type Channel, type RequestOf } from '../../src-main/api/index.js';
import { MAX_BODY_BYTES } from '../../src-main/server/index.js';
import { callApi, FakeEngine, SAMPLE_JOB, send, startTestServer, type Started } from './helpers.js';

let started: Started;

beforeEach(async () => {
  started = await startTestServer();
});
afterEach(async () => {
  await started.stop();
});

const post = (path: string, body: string | Buffer, headers: Record<string, string> = {}) =>
  send(started.server.port, {
    method: 'POST',
    path,
    headers: { authorization: `Bearer ${started.server.token}`, 'content-type': 'application/json', ...headers },
    body,
  });

/** A valid request for every channel; typed so that a new channel must be added here. */
const SAMPLE_REQUESTS: { [C in Channel]: RequestOf<C> } = {
  'app:info': {},
  'backend:info': {},
  'workspace:info': {},
  'settings:get': {},
  'settings:update': { theme: 'dark' },
  'dataset:list': {},
  'dataset:formats': {},
  'dataset:detect': { paths: ['/data/logs.jsonl'] },
  'dataset:get': { id: 'dataset-1' },
  'dataset:delete': { id: 'dataset-1' },
  'model:list': {},
  'model:get': { id: 'model-1' },
  'model:inspect': { path: '/models/tiny' },
  'model:delete': { id: 'model-1' },
  'run:list': {},
  'run:get': { id: 'run-1' },
  'run:metrics': { id: 'run-1', after: 0, limit: 100 },
  'run:samples': { id: 'run-1', iteration: 1, offset: 0, limit: 10 },
  'run:pairs': { id: 'run-1', iteration: 0, offset: 0, limit: 10 },
  'run:pause': { id: 'run-1' },
  'run:resume': { id: 'run-1' },
  'run:cancel': { id: 'run-1' },
  'report:list': {},
  'eval:list': {},
  'eval:get': { id: 'eval-1' },
  'eval:responses': { id: 'eval-1', checkpoint: 0, opponent: 1, outcome: 'win', limit: 10 },
  'report:get': { id: 'report-1', html: true },
  'report:export': { id: 'report-1', destDir: '/tmp/exported-report', overwrite: false },
  'report:pdf': { id: 'report-1' },
  'job:list': {},
  'job:get': { id: 'job-7' },
  'job:start': { kind: 'selftest.sleep', params: { seconds: 1 } },
  'job:cancel': { id: 'job-7' },
  'signals:rubric': {},
  'signals:report': { datasetId: 'dataset-1' },
  'classifier:list': {},
  'conversation:list': { datasetId: 'dataset-1' },
  'conversation:get': { datasetId: 'dataset-1', id: 'c-1' },
  'pair:list': { datasetId: 'dataset-1', filter: { statuses: ['pending'] } },
  'pair:get': { datasetId: 'dataset-1', id: 'p-1' },
  'pair:decide': { datasetId: 'dataset-1', pairIds: ['p-1'], status: 'accepted' },
  'pair:undo': { datasetId: 'dataset-1' },
  'pair:export': { datasetId: 'dataset-1', format: 'drift' },
  'pairset:freeze': { datasetId: 'dataset-1', name: 'set' },
  'pairset:list': {},
  'pairset:get': { id: 'set@v1' },
  'dialog:open': { kind: 'file' },
  'link:open': { url: 'https://example.com/' },
};

describe('POST /api/<channel>', () => {
  it('routes every channel of the contract, key by key', async () => {
    for (const channel of CHANNELS) {
      const { status, result } = await callApi(started, channel, SAMPLE_REQUESTS[channel]);
      expect(result.error?.code, channel).not.toBe('unknown_channel');
      expect(status, channel).toBe(200);
      if ((HOST_CHANNELS as readonly string[]).includes(channel)) continue;
      // Engine channels reach the engine's handler with the parsed request, and succeed.
      expect(result, channel).toMatchObject({ ok: true });
      expect(started.engine.calls.at(-1)?.channel, channel).toBe(channel);
    }
    const engineChannels = CHANNELS.filter((channel) => !(HOST_CHANNELS as readonly string[]).includes(channel));
    expect(new Set(started.engine.calls.map((call) => call.channel))).toEqual(new Set(engineChannels));
  });

  it('passes the parsed request (with schema defaults) to the handler', async () => {
    const { result } = await callApi(started, 'job:start', { kind: 'selftest.sleep' });
    expect(result).toMatchObject({ ok: true, value: { kind: 'selftest.sleep' } });
    expect(started.engine.calls.at(-1)).toEqual({
      channel: 'job:start',
      request: { kind: 'selftest.sleep', params: {} },
    });
  });

  it('treats an empty body as an empty request', async () => {
    const response = await post('/api/job:list', '');
    expect(response.status).toBe(200);
    expect(JSON.parse(response.body)).toEqual({ ok: true, value: [SAMPLE_JOB] });
  });

  it('answers an unknown channel with unknown_channel and 404', async () => {
    for (const channel of ['nope:nothing', 'app:info/extra', '', 'constructor', '__proto__']) {
      const { status, result } = await callApi(started, channel);
      expect(status, channel).toBe(404);
      expect(result.error?.code, channel).toBe('unknown_channel');
    }
    expect(started.engine.calls).toEqual([]);
  });

  it('answers a payload that breaks the schema with invalid_request naming the field', async () => {
    const { status, result } = await callApi(started, 'job:get', { id: '../../etc' });
    expect(status).toBe(200);
    expect(result.error?.code).toBe('invalid_request');
    expect(result.error?.message).toContain('id');
    expect((await callApi(started, 'app:info', { extra: true })).result.error?.code).toBe('invalid_request');
    expect((await callApi(started, 'job:start', { kind: 'rm -rf' })).result.error?.code).toBe('invalid_request');
    expect(started.engine.calls).toEqual([]);
  });

  it('answers malformed JSON with invalid_request and 400', async () => {
    for (const body of ['{', '{"id": }', 'undefined', '\u0000']) {
      const response = await post('/api/job:get', body);
      expect(response.status, body).toBe(400);
      expect(JSON.parse(response.body)).toMatchObject({ ok: false, error: { code: 'invalid_request' } });
    }
  });

  it('refuses other methods with 405 and other content types with 415', async () => {
    for (const method of ['GET', 'PUT', 'DELETE']) {
      const response = await send(started.server.port, {
        method,
        path: '/api/app:info',
        headers: { authorization: `Bearer ${started.server.token}` },
      });
      expect(response.status, method).toBe(405);
      expect(response.headers['allow']).toBe('POST');
      expect(JSON.parse(response.body)).toMatchObject({ ok: false, error: { code: 'invalid_request' } });
    }
    const form = await post('/api/app:info', 'a=1', { 'content-type': 'application/x-www-form-urlencoded' });
    expect(form.status).toBe(415);
    expect(started.engine.calls).toEqual([]);
  });

  it('refuses a body over 1 MB with 413, declared or streamed', async () => {
    const big = Buffer.alloc(MAX_BODY_BYTES + 10, 0x20);
    const declared = await post('/api/settings:update', big);
    expect(declared.status).toBe(413);
    expect(JSON.parse(declared.body)).toMatchObject({ ok: false, error: { code: 'invalid_request' } });
    const streamed = await post('/api/settings:update', big, { 'transfer-encoding': 'chunked' });
    expect(streamed.status).toBe(413);
    // A body just under the limit is read (and here refused by the schema instead).
    const fits = await post('/api/settings:update', `{"theme":"dark"${' '.repeat(MAX_BODY_BYTES - 20)}}`);
    expect(JSON.parse(fits.body)).toMatchObject({ ok: true, value: { theme: 'dark' } });
    expect(started.engine.calls).toHaveLength(1);
  });

  it('answers dialog:open with unsupported_in_browser_mode and link:open with opened: false', async () => {
    const dialog = await callApi(started, 'dialog:open', { kind: 'folder' });
    expect(dialog.result).toMatchObject({ ok: false, error: { code: 'unsupported_in_browser_mode' } });
    const link = await callApi(started, 'link:open', { url: 'https://example.com/' });
    expect(link.result).toEqual({ ok: true, value: { opened: false } });
  });

  it('turns handler failures into Results: AppFailure keeps its code, anything else is internal_error', async () => {
    const engine = new FakeEngine();
    engine.handlers['job:get'] = async ({ id }) => {
      throw new AppFailure('job_not_found', `No job ${id}.`);
    };
    engine.handlers['job:list'] = async () => {
      throw new TypeError('boom');
    };
    const failing = await startTestServer({}, engine);
    try {
      const missing = await callApi(failing, 'job:get', { id: 'job-9' });
      expect(missing).toEqual({
        status: 200,
        result: { ok: false, error: expect.objectContaining({ code: 'job_not_found', message: 'No job job-9.' }) },
      });
      const crashed = await callApi(failing, 'job:list');
      expect(crashed.result).toMatchObject({ ok: false, error: { code: 'internal_error', message: 'boom' } });
      expect(JSON.stringify(crashed.result)).not.toContain(' at ');
    } finally {
      await failing.stop();
    }
  });

  it('answers GET /api/events without an upgrade with 426', async () => {
    const response = await send(started.server.port, {
      path: '/api/events',
      headers: { authorization: `Bearer ${started.server.token}` },
    });
    expect(response.status).toBe(426);
  });
});
