/**
 * `POST /api/upload`: browser mode saves a dropped file under `<workspace>/uploads/` and answers
 * its path. Only with the token and from the server's own origin; names that try to leave the
 * folder are refused; the size cap holds whether or not the client declares a length; a refused
 * or failed upload leaves no file behind.
 */
import fc from 'fast-check';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UPLOAD_FOLDER, uploadName } from '../../src-main/server/index.js';
import { FakeEngine, send, startTestServer, type RawResponse, type Started } from './helpers.js';

class WorkspaceEngine extends FakeEngine {
  constructor(readonly workspaceDir: string) {
    super();
  }
}

const MAX_BYTES = 1000;
let workspaceDir: string;
let started: Started;

beforeEach(async () => {
  workspaceDir = await mkdtemp(path.join(tmpdir(), 'drift-upload-'));
  started = await startTestServer({ maxUploadBytes: MAX_BYTES }, new WorkspaceEngine(workspaceDir));
});
afterEach(async () => {
  await started.stop();
  await rm(workspaceDir, { recursive: true, force: true });
});

const uploads = () => path.join(workspaceDir, UPLOAD_FOLDER);

/** Every file under the uploads folder, relative to it. */
async function uploadedFiles(): Promise<string[]> {
  if (!existsSync(uploads())) return [];
  const entries = await readdir(uploads(), { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(uploads(), path.join(entry.parentPath, entry.name)));
}

function upload(
  name: string | null,
  body: string | Buffer,
  headers: Record<string, string> = {},
): Promise<RawResponse> {
  return send(started.server.port, {
    method: 'POST',
    path: name === null ? '/api/upload' : `/api/upload?name=${encodeURIComponent(name)}`,
    headers: {
      authorization: `Bearer ${started.server.token}`,
      'content-type': 'application/octet-stream',
      ...headers,
    },
    body,
  });
}

/** Sends the body in chunks with no Content-Length (chunked transfer encoding). */
function uploadChunked(name: string, chunks: Buffer[]): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      {
        host: '127.0.0.1',
        port: started.server.port,
        method: 'POST',
        path: `/api/upload?name=${encodeURIComponent(name)}`,
        headers: {
          host: started.host,
          authorization: `Bearer ${started.server.token}`,
          'content-type': 'application/octet-stream',
          'transfer-encoding': 'chunked',
        },
        setHost: false,
      },
      (response) => {
        const parts: Buffer[] = [];
        response.on('data', (chunk: Buffer) => parts.push(chunk));
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            headers: response.headers,
            body: Buffer.concat(parts).toString(),
          }),
        );
      },
    );
    request.on('error', reject);
    for (const chunk of chunks) request.write(chunk);
    request.end();
  });
}

describe('POST /api/upload', () => {
  it('saves the body under <workspace>/uploads/<random>/<name> and answers the path', async () => {
    const body = '{"messages":[{"role":"user","content":"hi"}]}\n';
    const first = await upload('logs.jsonl', body);
    expect(first.status).toBe(200);
    const result = JSON.parse(first.body) as { ok: true; value: { path: string; name: string; bytes: number } };
    expect(result).toMatchObject({ ok: true, value: { name: 'logs.jsonl', bytes: Buffer.byteLength(body) } });
    expect(path.isAbsolute(result.value.path)).toBe(true);
    expect(path.dirname(path.dirname(result.value.path))).toBe(uploads());
    expect(path.basename(result.value.path)).toBe('logs.jsonl');
    expect(await readFile(result.value.path, 'utf8')).toBe(body);

    // The same name again goes to a new folder and overwrites nothing.
    const second = await upload('logs.jsonl', 'other\n');
    const secondPath = (JSON.parse(second.body) as { value: { path: string } }).value.path;
    expect(secondPath).not.toBe(result.value.path);
    expect(await readFile(result.value.path, 'utf8')).toBe(body);
    expect(await uploadedFiles()).toHaveLength(2);
  });

  it('needs the token and the server’s own origin, and writes nothing otherwise', async () => {
    const withoutToken = await send(started.server.port, {
      method: 'POST',
      path: '/api/upload?name=logs.jsonl',
      headers: { 'content-type': 'application/octet-stream' },
      body: 'data',
    });
    expect(withoutToken.status).toBe(401);
    expect(JSON.parse(withoutToken.body)).toMatchObject({ ok: false, error: { code: 'unauthorized' } });

    const wrongToken = await upload('logs.jsonl', 'data', { authorization: 'Bearer not-the-token' });
    expect(wrongToken.status).toBe(401);

    const crossSite = await upload('logs.jsonl', 'data', { origin: 'http://evil.example' });
    expect(crossSite.status).toBe(403);
    expect(JSON.parse(crossSite.body)).toMatchObject({ ok: false, error: { code: 'forbidden_origin' } });

    expect(await uploadedFiles()).toEqual([]);
  });

  it.each([
    '../evil.jsonl',
    '../../evil.jsonl',
    '..',
    '.',
    'a/b.jsonl',
    '/etc/passwd',
    '..\\evil.jsonl',
    'C:\\evil.jsonl',
    'evil\u0000.jsonl',
    'evil\n.jsonl',
    '.env',
    'x..jsonl',
    '',
    'a'.repeat(201),
  ])('refuses the name %j and writes nothing', async (name) => {
    const response = await upload(name, 'data');
    expect(response.status).toBe(400);
    expect(JSON.parse(response.body)).toMatchObject({ ok: false, error: { code: 'invalid_request' } });
    expect(await uploadedFiles()).toEqual([]);
    expect(existsSync(path.join(workspaceDir, 'evil.jsonl'))).toBe(false);
    expect(existsSync(path.join(path.dirname(workspaceDir), 'evil.jsonl'))).toBe(false);
  });

  it('refuses a missing name', async () => {
    expect((await upload(null, 'data')).status).toBe(400);
    expect(await uploadedFiles()).toEqual([]);
  });

  it('refuses a declared length over the cap before reading the body', async () => {
    const response = await upload('big.jsonl', Buffer.alloc(MAX_BYTES + 1, 0x61));
    expect(response.status).toBe(413);
    expect(JSON.parse(response.body)).toMatchObject({ ok: false, error: { code: 'invalid_request' } });
    expect(response.headers.connection).toBe('close');
    expect(await uploadedFiles()).toEqual([]);
  });

  it('stops a chunked body at the cap and removes the partial file', async () => {
    const response = await uploadChunked('big.jsonl', [Buffer.alloc(600, 0x61), Buffer.alloc(600, 0x62)]);
    expect(response.status).toBe(413);
    expect(await uploadedFiles()).toEqual([]);
    expect(existsSync(uploads()) ? await readdir(uploads()) : []).toEqual([]);

    // Exactly the cap is fine.
    const atCap = await uploadChunked('ok.jsonl', [Buffer.alloc(500, 0x61), Buffer.alloc(500, 0x62)]);
    expect(atCap.status).toBe(200);
    expect(JSON.parse(atCap.body)).toMatchObject({ ok: true, value: { bytes: MAX_BYTES } });
  });

  it('accepts POST with Content-Type application/octet-stream only', async () => {
    const asJson = await upload('logs.jsonl', '{}', { 'content-type': 'application/json' });
    expect(asJson.status).toBe(415);
    const asForm = await upload('logs.jsonl', 'a=b', { 'content-type': 'application/x-www-form-urlencoded' });
    expect(asForm.status).toBe(415);
    const get = await send(started.server.port, {
      path: '/api/upload?name=logs.jsonl',
      headers: { authorization: `Bearer ${started.server.token}` },
    });
    expect(get.status).toBe(405);
    expect(await uploadedFiles()).toEqual([]);
  });

  it('answers not_found when the server has no workspace', async () => {
    const bare = await startTestServer();
    try {
      const response = await send(bare.server.port, {
        method: 'POST',
        path: '/api/upload?name=logs.jsonl',
        headers: { authorization: `Bearer ${bare.server.token}`, 'content-type': 'application/octet-stream' },
        body: 'data',
      });
      expect(response.status).toBe(404);
      expect(JSON.parse(response.body)).toMatchObject({ ok: false, error: { code: 'not_found' } });
    } finally {
      await bare.stop();
    }
  });
});

describe('uploadName', () => {
  it('keeps ordinary names and replaces other characters by _', () => {
    expect(uploadName('logs.jsonl')).toBe('logs.jsonl');
    expect(uploadName('chat logs (1).jsonl.gz')).toBe('chat_logs_1_.jsonl.gz');
    expect(uploadName('données_été.csv')).toBe('donnees_ete.csv');
    expect(uploadName('日志.jsonl')).toBe('_.jsonl');
    expect(uploadName('con.jsonl')).toBe('_con.jsonl');
  });

  it('never yields a name that leaves its folder (property)', () => {
    const folder = path.resolve('/uploads/abc');
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 60 }), (raw) => {
        const name = uploadName(raw);
        if (name === null) return;
        expect(name).toMatch(/^[A-Za-z0-9._-]+$/);
        expect(name.startsWith('.')).toBe(false);
        expect(path.dirname(path.join(folder, name))).toBe(folder);
        expect(path.basename(name)).toBe(name);
      }),
    );
  });
});
