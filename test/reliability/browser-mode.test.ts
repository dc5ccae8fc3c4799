/**
 * Browser mode under hostile requests, as properties over many spellings (test/server covers one
 * example of each): a token that is not exactly the start token, an Origin that is not exactly the
 * server's own, a Host header that does not name the server (DNS rebinding), and static paths
 * built from traversal pieces (encoded ../, %2e%2e, backslashes, overlong UTF-8, absolute paths,
 * NUL bytes). None may get an API answer or a byte from outside the static folder.
 */
import { symlink } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TOKEN_COOKIE } from '../../src-main/server/index.js';
import { SECRET, send, startTestServer, type Started } from '../server/helpers.js';
import { propertyOptions, traversalPath } from './helpers.js';

let started: Started;

beforeAll(async () => {
  started = await startTestServer();
  // A symlink inside the static folder that points out of it.
  await symlink(join(started.site.root, 'secret.txt'), join(started.site.staticDir, 'assets', 'link.txt'));
});
afterAll(() => started.stop());

const token = () => started.server.token;
const auth = () => ({ authorization: `Bearer ${token()}` });
const apiCall = (headers: Record<string, string>, path = '/api/app:info') =>
  send(started.server.port, {
    method: 'POST',
    path,
    headers: { 'content-type': 'application/json', ...headers },
    body: '{}',
  });

describe('the start token', () => {
  const wrongToken = fc.oneof(
    fc.string({ maxLength: 40 }),
    fc.nat(31).map((cut) => token().slice(0, cut)),
    fc.string({ minLength: 1, maxLength: 3 }).map((extra) => token() + extra),
    fc.constant('').map(() => token().toUpperCase()),
    fc.constant('').map(() => ` ${token()}x`),
  );

  it('refuses every token that is not exactly the start token, however it is presented', async () => {
    await fc.assert(
      fc.asyncProperty(wrongToken, fc.constantFrom('bearer', 'cookie', 'query'), async (presented, how) => {
        fc.pre(presented.trim() !== token());
        const headers: Record<string, string> =
          how === 'bearer'
            ? { authorization: `Bearer ${presented}` }
            : how === 'cookie'
              ? { cookie: `${TOKEN_COOKIE}=${presented}` }
              : {};
        const query = how === 'query' ? `?token=${encodeURIComponent(presented)}` : '';
        const api = await apiCall(headers, `/api/app:info${query}`);
        expect(api.status).toBe(401);
        expect(JSON.parse(api.body)).toMatchObject({ ok: false, error: { code: 'unauthorized' } });
        const page = await send(started.server.port, { path: `/${query}`, headers });
        expect(page.status).toBe(401);
        expect(page.body).not.toContain('<title>');
      }),
      propertyOptions(120),
    );
  });
});

describe('the Origin and Host checks', () => {
  it('refuses every Origin but the server’s own, even with the right token', async () => {
    const port = started.server.port;
    const origin = fc.oneof(
      fc.webUrl().map((url) => new URL(url).origin),
      fc.constantFrom(
        'null',
        '',
        `https://127.0.0.1:${port}`,
        `http://127.0.0.1:${port + 1}`,
        `http://127.0.0.1:${port}.evil.test`,
        `http://127.0.0.1.evil.test:${port}`,
        `http://evil.test`,
        `http://localhost.:${port}`,
        `http://user@127.0.0.1:${port}`,
        `http://127.0.0.1:${port}/`,
        `file://`,
        `http://[::2]:${port}`,
      ),
    );
    await fc.assert(
      fc.asyncProperty(origin, async (value) => {
        const own = new Set([`http://127.0.0.1:${port}`, `http://localhost:${port}`, `http://[::1]:${port}`]);
        fc.pre(!own.has(value.toLowerCase()));
        const response = await apiCall({ ...auth(), origin: value });
        expect(response.status).toBe(403);
        expect(JSON.parse(response.body)).toMatchObject({ ok: false, error: { code: 'forbidden_origin' } });
      }),
      propertyOptions(120),
    );
  });

  it('refuses every Host header that does not name the server (DNS rebinding), even with the right token', async () => {
    const port = started.server.port;
    const host = fc.oneof(
      fc.domain().map((name) => `${name}:${port}`),
      fc.domain(),
      fc.constantFrom(
        '',
        `127.0.0.1:${port + 1}`,
        `127.0.0.1:${port}.evil.test`,
        `127.0.0.1.nip.io:${port}`,
        `localhost.:${port}`,
        `evil.test:${port}`,
        `127.0.0.1:${port}@evil.test`,
        `0.0.0.0:${port}`,
        `[::2]:${port}`,
        '127.0.0.1',
        `127.1:${port}`,
        `2130706433:${port}`,
      ),
    );
    await fc.assert(
      fc.asyncProperty(host, async (value) => {
        const own = new Set([`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`]);
        fc.pre(!own.has(value.toLowerCase()));
        const response = await apiCall({ ...auth(), host: value });
        expect(response.status).toBe(403);
        expect(JSON.parse(response.body)).toMatchObject({ ok: false, error: { code: 'forbidden_origin' } });
      }),
      propertyOptions(120),
    );
  });

  it('binds loopback by default', () => {
    expect(started.server.host).toBe('127.0.0.1');
    expect(new URL(started.server.url).hostname).toBe('127.0.0.1');
  });
});

describe('static files', () => {
  it('never serves a byte from outside the static folder, however the path is spelled', async () => {
    const path = traversalPath(started?.site.root ?? '/tmp').map((relative) => `/${relative}`);
    await fc.assert(
      fc.asyncProperty(path, async (target) => {
        const response = await send(started.server.port, { path: target, headers: auth() });
        expect(response.body, target).not.toContain(SECRET);
        expect(response.body, target).not.toContain('root:');
        if (response.status === 200) {
          // Only the site's own files: the page, the script or the style sheet.
          expect(
            ['<title>Test page</title>', 'console.log("app")', 'margin: 0'].some((text) =>
              response.body.includes(text),
            ),
          ).toBe(true);
        } else {
          expect([400, 403, 404], target).toContain(response.status);
        }
      }),
      propertyOptions(400),
    );
  });
});
