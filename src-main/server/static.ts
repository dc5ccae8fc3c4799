/**
 * Serves the built renderer (`out/renderer`) read-only over HTTP: GET and HEAD, `index.html` for
 * `/`, no directory listing, nothing outside the folder. The path checks are the engine's
 * (engine/static-site.ts), shared with the desktop app's `app://bundle` protocol.
 */
import { createReadStream } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';

import { CONTENT_TYPES, lookupStaticFile, type StaticSite } from '../engine/index.js';

export type { StaticLookup, StaticSite } from '../engine/index.js';
export {
  CONTENT_TYPES,
  DEFAULT_CSP,
  lookupStaticFile,
  metaContentSecurityPolicy,
  openStaticSite,
} from '../engine/index.js';

/** Headers on every response, static or API. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

/** Answers a GET or HEAD for a static file; the caller has already checked access. */
export async function serveStatic(
  request: IncomingMessage,
  response: ServerResponse,
  site: StaticSite,
  rawPath: string,
): Promise<void> {
  const lookup = await lookupStaticFile(site, rawPath);
  if (!lookup.found) {
    const text = lookup.status === 404 ? 'Not found' : lookup.status === 403 ? 'Forbidden' : 'Bad request';
    response.writeHead(lookup.status, { ...SECURITY_HEADERS, 'Content-Type': 'text/plain; charset=utf-8' });
    response.end(`${text}\n`);
    return;
  }
  const contentType = CONTENT_TYPES[path.extname(lookup.file).toLowerCase()] ?? 'application/octet-stream';
  const isHtml = contentType.startsWith('text/html');
  response.writeHead(200, {
    ...SECURITY_HEADERS,
    'Content-Type': contentType,
    'Content-Length': String(lookup.size),
    'Content-Security-Policy': site.csp,
    // The page carries the per-start token flow; never keep it. Hashed assets may be revalidated.
    'Cache-Control': isHtml ? 'no-store' : 'no-cache',
  });
  if (request.method === 'HEAD') {
    response.end();
    return;
  }
  await pipeline(createReadStream(lookup.file), response);
}
