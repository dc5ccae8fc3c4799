/**
 * The `app://bundle/` protocol handler over a real renderer folder in a temporary directory,
 * with a secret file next to it and a symlink inside it that points at the secret.
 */
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { APP_INDEX_URL, createBundleHandler, isBundleUrl, PRIVILEGED_SCHEMES } from '../../src-main/shell/protocol.js';
import { propertyOptions, traversalPath } from '../reliability/helpers.js';

const SECRET = 'SECRET-OUTSIDE-THE-BUNDLE';
const PAGE_CSP = "default-src 'self'; script-src 'self'; object-src 'none'";
const INDEX_HTML = `<!doctype html><html><head><meta http-equiv="Content-Security-Policy" content="${PAGE_CSP}" /><title>Bundle page</title></head><body></body></html>`;
const SCRIPT = 'console.log("bundle app")';

let scratch: string;
let rendererDir: string;
let handle: (request: Request) => Promise<Response>;

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'drift shell protocol '));
  rendererDir = join(scratch, 'out', 'renderer');
  await mkdir(join(rendererDir, 'assets', 'nested'), { recursive: true });
  await writeFile(join(rendererDir, 'index.html'), INDEX_HTML);
  await writeFile(join(rendererDir, 'assets', 'app.js'), SCRIPT);
  await writeFile(join(rendererDir, 'assets', 'style.css'), 'body { margin: 0 }');
  await writeFile(join(rendererDir, '.env'), SECRET);
  await writeFile(join(scratch, 'out', 'secret.txt'), SECRET);
  await writeFile(join(scratch, 'secret.txt'), SECRET);
  await symlink(join(scratch, 'secret.txt'), join(rendererDir, 'assets', 'link.txt'));
  await symlink(join(rendererDir, 'assets', 'app.js'), join(rendererDir, 'assets', 'inside.js'));
  handle = createBundleHandler(rendererDir);
});
afterAll(() => rm(scratch, { recursive: true, force: true }));

const get = (url: string, method = 'GET') => handle(new Request(url, { method }));

describe('the app:// scheme', () => {
  it('is registered as standard, secure and fetch-capable', () => {
    expect(PRIVILEGED_SCHEMES).toEqual([
      { scheme: 'app', privileges: { standard: true, secure: true, supportFetchAPI: true } },
    ]);
    expect(APP_INDEX_URL).toBe('app://bundle/index.html');
  });

  it('recognises only the bundle host, without port or credentials', () => {
    expect(isBundleUrl('app://bundle/index.html#/runs')).toBe(true);
    expect(isBundleUrl('app://bundle/assets/app.js?v=1')).toBe(true);
    for (const url of [
      'app://other/index.html',
      'app://bundle.evil/index.html',
      'app://bundle:8080/index.html',
      'app://user@bundle/index.html',
      'app:///index.html',
      'file:///index.html',
      'https://bundle/index.html',
      'not a url',
    ]) {
      expect(isBundleUrl(url), url).toBe(false);
    }
  });
});

describe('createBundleHandler', () => {
  it('serves index.html for / and by name, as HTML with the page CSP and frame-ancestors', async () => {
    for (const url of ['app://bundle/', 'app://bundle/index.html', 'app://bundle/index.html?x=1#/runs']) {
      const response = await get(url);
      expect(response.status, url).toBe(200);
      expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(response.headers.get('content-security-policy')).toBe(`${PAGE_CSP}; frame-ancestors 'none'`);
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      expect(await response.text()).toBe(INDEX_HTML);
    }
  });

  it('serves assets with the type of their extension and the same CSP', async () => {
    const script = await get('app://bundle/assets/app.js');
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(script.headers.get('content-security-policy')).toBe(`${PAGE_CSP}; frame-ancestors 'none'`);
    expect(await script.text()).toBe(SCRIPT);
    const style = await get('app://bundle/assets/style.css');
    expect(style.headers.get('content-type')).toBe('text/css; charset=utf-8');
    // A symlink that stays inside the folder is fine.
    expect(await (await get('app://bundle/assets/inside.js')).text()).toBe(SCRIPT);
  });

  it('answers HEAD without a body and refuses other methods', async () => {
    const head = await get('app://bundle/index.html', 'HEAD');
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
    expect((await get('app://bundle/index.html', 'POST')).status).toBe(405);
  });

  it('refuses other hosts, directories, dotfiles, missing files and a symlink out of the folder', async () => {
    for (const url of [
      'app://other/index.html',
      'app://bundle:8080/index.html',
      'app://bundle/assets',
      'app://bundle/assets/',
      'app://bundle/assets/nested/',
      'app://bundle/.env',
      'app://bundle/missing.js',
      'app://bundle/assets/link.txt',
      'app://bundle/../secret.txt',
      'app://bundle/%2e%2e/secret.txt',
      'app://bundle/assets/..%2f..%2fsecret.txt',
      'app://bundle/..%5csecret.txt',
      'app://bundle/index.html%00.js',
      `app://bundle/${encodeURIComponent(join(scratch, 'secret.txt'))}`,
    ]) {
      const response = await get(url);
      expect(response.status, url).toBe(404);
      expect(await response.text(), url).not.toContain(SECRET);
    }
  });

  it('answers 404, not a crash, when the renderer folder is missing', async () => {
    const missing = createBundleHandler(join(scratch, 'no-such-folder'));
    const error = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    expect((await missing(new Request(APP_INDEX_URL))).status).toBe(404);
    expect(error).toHaveBeenCalledOnce();
    error.mockRestore();
  });

  it('never serves a byte from outside the folder, however the path is spelled', async () => {
    const url = fc
      .tuple(fc.constantFrom('bundle', 'other', 'bundle:1', 'BUNDLE'), traversalPath(scratch, ['out']))
      .map(([host, relative]) => `app://${host}/${relative}`);
    await fc.assert(
      fc.asyncProperty(url, async (target) => {
        const response = await get(target);
        const body = await response.text();
        expect(body, target).not.toContain(SECRET);
        expect(body, target).not.toContain('root:');
        if (response.status === 200) {
          expect(new URL(target).host, target).toBe('bundle');
          expect([INDEX_HTML, SCRIPT, 'body { margin: 0 }'], target).toContain(body);
        } else {
          expect(response.status, target).toBe(404);
        }
      }),
      propertyOptions(400),
    );
  });
});
