/**
 * A built single-page site served read-only by a host: browser mode's HTTP server
 * (src-main/server/static.ts) and the desktop app's `app://bundle` protocol (src-main/shell/protocol.ts)
 * both serve `out/renderer` through these checks. The request path is decoded exactly once and
 * refused if it holds `..`, NUL or a backslash; dotfiles are never served; the resolved file
 * (symlinks followed) must still lie inside the folder. Pure file-system logic, no transport.
 */
import { readFile, realpath, stat } from 'node:fs/promises';
import path from 'node:path';

export const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json; charset=utf-8',
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

/**
 * Used when the page has no CSP meta tag; the same directives as src-renderer/index.html.
 * A header can also carry `frame-ancestors`, which a meta tag cannot.
 */
export const DEFAULT_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self'; " +
  "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'";

export interface StaticSite {
  /** The real path of the folder (symlinks resolved). */
  root: string;
  /** The Content-Security-Policy header: the page's own meta CSP plus `frame-ancestors 'none'`. */
  csp: string;
}

/** Opens the static folder; throws if it or its index.html is missing. */
export async function openStaticSite(directory: string): Promise<StaticSite> {
  const root = await realpath(directory);
  const indexHtml = await readFile(path.join(root, 'index.html'), 'utf8');
  const pageCsp = metaContentSecurityPolicy(indexHtml) ?? DEFAULT_CSP;
  const csp = /frame-ancestors/i.test(pageCsp) ? pageCsp : `${pageCsp.replace(/[;\s]+$/, '')}; frame-ancestors 'none'`;
  return { root, csp };
}

/** The content of `<meta http-equiv="Content-Security-Policy" content="...">`, if the page has one. */
export function metaContentSecurityPolicy(html: string): string | undefined {
  for (const tag of html.match(/<meta\b[^>]*>/gi) ?? []) {
    if (!/http-equiv\s*=\s*["']?Content-Security-Policy["']?/i.test(tag)) continue;
    const content = /\scontent\s*=\s*(?:"([^"]*)"|'([^']*)')/i.exec(tag);
    const value = content?.[1] ?? content?.[2];
    if (value) return value.replace(/\s+/g, ' ').trim();
  }
  return undefined;
}

export type StaticLookup = { found: true; file: string; size: number } | { found: false; status: 400 | 403 | 404 };

/**
 * Maps a raw request path (as sent, still percent-encoded, without the query) to a file inside
 * the site, or to the status that refuses it.
 */
export async function lookupStaticFile(site: StaticSite, rawPath: string): Promise<StaticLookup> {
  if (!rawPath.startsWith('/') || rawPath.includes('\\') || /%5c/i.test(rawPath)) return { found: false, status: 400 };
  let decoded: string;
  try {
    decoded = decodeURIComponent(rawPath);
  } catch {
    return { found: false, status: 400 };
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return { found: false, status: 400 };
  const segments = decoded.split('/');
  if (segments.includes('..')) return { found: false, status: 400 };
  // Dotfiles are never part of a build; refusing them keeps stray .env-like files private.
  if (segments.some((segment) => segment.startsWith('.') && segment !== '.')) return { found: false, status: 404 };

  const relative = decoded === '/' ? 'index.html' : path.posix.normalize(decoded).replace(/^\/+/, '');
  const candidate = path.join(site.root, ...relative.split('/'));
  if (!isInside(site.root, candidate)) return { found: false, status: 403 };
  let real: string;
  try {
    real = await realpath(candidate);
  } catch {
    return { found: false, status: 404 };
  }
  if (!isInside(site.root, real)) return { found: false, status: 403 };
  const info = await stat(real).catch(() => undefined);
  if (!info?.isFile()) return { found: false, status: 404 };
  return { found: true, file: real, size: info.size };
}

function isInside(root: string, candidate: string): boolean {
  const relative = path.relative(root, candidate);
  const escapes = relative === '..' || relative.startsWith(`..${path.sep}`) || path.isAbsolute(relative);
  return !escapes;
}
