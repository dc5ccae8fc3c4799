/**
 * The `app://bundle/` protocol that serves the built renderer (reliability.md §2 item 18: a custom
 * protocol instead of `file://`). The page gets a real, standard origin, so its module scripts and
 * assets load without the `grantFileProtocolExtraPrivileges` fuse, and nothing outside
 * `out/renderer` can be read through it.
 *
 * The path checks mirror browser mode's static server (src-main/server/static.ts), which the
 * layering rule keeps the shell from importing: the path is decoded once and refused if it holds
 * `..`, NUL or a backslash, and the resolved file (symlinks followed) must lie inside the folder.
 */
import { readFile, realpath, stat } from 'node:fs/promises';
import path from 'node:path';

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

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.wasm': 'application/wasm',
};

/** Used when the page has no CSP meta tag; the same directives as src-renderer/index.html. */
const DEFAULT_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self'; " +
  "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'";

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

interface Bundle {
  /** The real path of the renderer folder (symlinks resolved). */
  root: string;
  /** The page's own meta CSP plus `frame-ancestors 'none'`, sent on every response. */
  csp: string;
}

async function openBundle(directory: string): Promise<Bundle> {
  const root = await realpath(directory);
  const indexHtml = await readFile(path.join(root, 'index.html'), 'utf8');
  const pageCsp = metaContentSecurityPolicy(indexHtml) ?? DEFAULT_CSP;
  const csp = /frame-ancestors/i.test(pageCsp) ? pageCsp : `${pageCsp.replace(/[;\s]+$/, '')}; frame-ancestors 'none'`;
  return { root, csp };
}

function metaContentSecurityPolicy(html: string): string | undefined {
  for (const tag of html.match(/<meta\b[^>]*>/gi) ?? []) {
    if (!/http-equiv\s*=\s*["']?Content-Security-Policy["']?/i.test(tag)) continue;
    const content = /\scontent\s*=\s*(?:"([^"]*)"|'([^']*)')/i.exec(tag);
    const value = content?.[1] ?? content?.[2];
    if (value) return value.replace(/\s+/g, ' ').trim();
  }
  return undefined;
}

/** The file a raw (still percent-encoded) URL path names inside the bundle, or null. */
async function lookupBundleFile(root: string, rawPath: string): Promise<string | null> {
  if (!rawPath.startsWith('/') || rawPath.includes('\\') || /%5c/i.test(rawPath)) return null;
  let decoded: string;
  try {
    decoded = decodeURIComponent(rawPath);
  } catch {
    return null;
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return null;
  const segments = decoded.split('/');
  if (segments.includes('..')) return null;
  // Dotfiles are never part of a build.
  if (segments.some((segment) => segment.startsWith('.') && segment !== '.')) return null;

  const relative = decoded === '/' ? 'index.html' : path.posix.normalize(decoded).replace(/^\/+/, '');
  const candidate = path.join(root, ...relative.split('/'));
  if (!isInside(root, candidate)) return null;
  const real = await realpath(candidate).catch(() => null);
  if (real === null || !isInside(root, real)) return null;
  const info = await stat(real).catch(() => undefined);
  return info?.isFile() ? real : null;
}

function isInside(root: string, candidate: string): boolean {
  const relative = path.relative(root, candidate);
  return !(relative === '..' || relative.startsWith(`..${path.sep}`) || path.isAbsolute(relative));
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
  let opening: Promise<Bundle> | null = null;
  return async (request) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') return refusal(405);
    if (!isBundleUrl(request.url)) return refusal(404);
    opening ??= openBundle(rendererDir);
    const bundle = await opening.catch((thrown: unknown) => {
      opening = null; // a later request tries again
      console.error('[shell] the renderer folder cannot be served:', thrown);
      return null;
    });
    if (!bundle) return refusal(404);
    const file = await lookupBundleFile(bundle.root, new URL(request.url).pathname);
    if (!file) return refusal(404);
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
