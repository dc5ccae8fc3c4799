/**
 * The `app://bundle/` protocol that serves the built renderer (reliability.md §2 item 18: a custom
 * protocol instead of `file://`). The page gets a real, standard origin, so its module scripts and
 * assets load without the `grantFileProtocolExtraPrivileges` fuse, and nothing outside
 * `out/renderer` can be read through it.
 *
 * The path checks are the engine's (engine/static-site.ts), the same ones browser mode's static
 * server uses: the path is decoded once and refused if it holds `..`, NUL or a backslash, and the
 * resolved file (symlinks followed) must lie inside the folder.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { CONTENT_TYPES, lookupStaticFile, openStaticSite, type StaticSite } from '../engine/index.js';

export const APP_SCHEME = 'app';
export const APP_HOST = 'bundle';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
/** The URL the window loads. */
export const APP_INDEX_URL = `${APP_ORIGIN}/index.html`;

/**
 * The scheme's privileges, registered before the app is ready: `standard` gives it an origin and
 * relative URLs, `secure` makes it a secure context, `supportFetchAPI` lets the page fetch from it.
 */
export const PRIVILEGED_SCHEMES = [
  { scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } },
];

/** True when `rawUrl` is on the bundle's origin: `app://bundle`, no port (`host` would carry it), no credentials. */
export function isBundleUrl(rawUrl: string): boolean {
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    return false;
  }
  // Node gives non-special schemes the opaque origin "null", so the parts are compared instead.
  return url.protocol === `${APP_SCHEME}:` && url.host === APP_HOST && !url.username && !url.password;
}

function refusal(status: 404 | 405): Response {
  return new Response(status === 404 ? 'Not found\n' : 'Method not allowed\n', {
    status,
    headers: { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' },
  });
}

/**
 * The handler for `protocol.handle('app', …)`: answers GET and HEAD for files under
 * `rendererDir` on `app://bundle` only, `/` as index.html, with a Content-Type from the extension
 * and the page's CSP. Everything else (another host, traversal, a directory, a symlink out of
 * the folder, a missing file) is a 404. The folder is opened on the first request.
 */
export function createBundleHandler(rendererDir: string): (request: Request) => Promise<Response> {
  let opening: Promise<StaticSite> | null = null;
  return async (request) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') return refusal(405);
    if (!isBundleUrl(request.url)) return refusal(404);
    opening ??= openStaticSite(rendererDir);
    const bundle = await opening.catch((thrown: unknown) => {
      opening = null; // a later request tries again
      console.error('[shell] the renderer folder cannot be served:', thrown);
      return null;
    });
    if (!bundle) return refusal(404);
    // Every refusal is a 404 here (browser mode tells 400/403/404 apart): nothing to learn from probing.
    const lookup = await lookupStaticFile(bundle, new URL(request.url).pathname);
    if (!lookup.found) return refusal(404);
    const file = lookup.file;
    const body = request.method === 'HEAD' ? null : await readFile(file);
    return new Response(body, {
      status: 200,
      headers: {
        'Content-Type': CONTENT_TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream',
        'Content-Security-Policy': bundle.csp,
        'X-Content-Type-Options': 'nosniff',
        'Cache-Control': 'no-cache',
      },
    });
  };
}
