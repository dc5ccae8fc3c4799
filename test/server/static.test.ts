import { mkdir, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_CSP, metaContentSecurityPolicy } from '../../src-main/server/static.js';
import { PAGE_CSP, SECRET, send, startTestServer, type Started } from './helpers.js';

let started: Started;

beforeEach(async () => {
  started = await startTestServer();
});
afterEach(async () => {
  await started.stop();
});

const get = (path: string, method = 'GET') =>
  send(started.server.port, { method, path, headers: { authorization: `Bearer ${started.server.token}` } });

describe('static files', () => {
  it('serves index.html for / with the page CSP, nosniff, no-referrer and no-store', async () => {
    const page = await get('/');
    expect(page.status).toBe(200);
    expect(page.body).toContain('<title>Test page</title>');
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['content-security-policy']).toBe(`${PAGE_CSP}; frame-ancestors 'none'`);
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    expect(page.headers['referrer-policy']).toBe('no-referrer');
    expect(page.headers['cache-control']).toBe('no-store');
  });

  it('serves assets with their content types and answers HEAD without a body', async () => {
    const script = await get('/assets/app.js');
    expect(script.status).toBe(200);
    expect(script.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(script.body).toBe('console.log("app");\n');
    expect((await get('/assets/style.css')).headers['content-type']).toBe('text/css; charset=utf-8');
    const head = await get('/assets/app.js', 'HEAD');
    expect(head.status).toBe(200);
    expect(head.headers['content-length']).toBe(String('console.log("app");\n'.length));
    expect(head.body).toBe('');
  });

  it('refuses other methods, missing files and directory listings', async () => {
    expect((await get('/', 'POST')).status).toBe(405);
    expect((await get('/', 'DELETE')).status).toBe(405);
    expect((await get('/missing.js')).status).toBe(404);
    expect((await get('/assets/')).status).toBe(404);
    expect((await get('/assets')).status).toBe(404);
  });

  it('never serves a file outside the folder, however the path is spelled', async () => {
    const attempts = [
      '/../secret.txt',
      '/../package.json',
      '/%2e%2e/secret.txt',
      '/%2E%2E/secret.txt',
      '/..%2fsecret.txt',
      '/%2e%2e%2fsecret.txt',
      '/assets/../../secret.txt',
      '/assets/%2e%2e/%2e%2e/secret.txt',
      '/assets/..%2f..%2fsecret.txt',
      '/..\\secret.txt',
      '/%5c..%5csecret.txt',
      '/..%5csecret.txt',
      '/index.html%00.js',
      '/%00',
      '//etc/passwd',
      '/%2fetc%2fpasswd',
      `/${encodeURIComponent(join(started.site.root, 'secret.txt'))}`,
      '/%252e%252e/secret.txt',
      '/.env',
      '/assets/%2e%2e/.env',
      '/%E0%A4%A',
    ];
    for (const path of attempts) {
      const response = await get(path);
      expect([400, 403, 404], path).toContain(response.status);
      expect(response.body, path).not.toContain(SECRET);
      expect(response.body, path).not.toContain('"devDependencies"');
      expect(response.body, path).not.toContain('root:');
    }
  });

  it('refuses a symlink that leads out of the folder', async () => {
    await mkdir(join(started.site.staticDir, 'linked'));
    await symlink(join(started.site.root, 'secret.txt'), join(started.site.staticDir, 'linked', 'secret.txt'));
    const response = await get('/linked/secret.txt');
    expect(response.status).toBe(403);
    expect(response.body).not.toContain(SECRET);
  });
});

describe('metaContentSecurityPolicy', () => {
  it('reads the CSP meta tag in either quoting and attribute order', () => {
    expect(
      metaContentSecurityPolicy(
        `<meta http-equiv="Content-Security-Policy"\n  content="default-src 'self';\n  img-src data:" />`,
      ),
    ).toBe("default-src 'self'; img-src data:");
    expect(metaContentSecurityPolicy(`<meta content='default-src "self"' http-equiv='content-security-policy'>`)).toBe(
      'default-src "self"',
    );
    expect(metaContentSecurityPolicy('<meta charset="utf-8"><title>x</title>')).toBeUndefined();
  });

  it('falls back to directives as strict as the renderer page', () => {
    for (const directive of ["default-src 'self'", "script-src 'self'", "object-src 'none'", "base-uri 'none'"]) {
      expect(DEFAULT_CSP).toContain(directive);
    }
  });
});
