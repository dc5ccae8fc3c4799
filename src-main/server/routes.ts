/**
 * The API over HTTP: `POST /api/<channel>` with a JSON body, answered with the Result JSON.
 * Validation and error conversion happen in `dispatch`, exactly as for Electron IPC; this file
 * only turns HTTP into (channel, payload) and back. Handler errors are HTTP 200 with a failed
 * Result; only transport problems (method, type, size, malformed JSON, unknown channel) use 4xx.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  AppFailure,
  dispatch,
  err,
  type EngineHandlers,
  type Handlers,
  type HostHandlers,
  type Result,
} from '../api/index.js';
import { SECURITY_HEADERS } from './static.js';

export const API_PREFIX = '/api/';
export const EVENTS_PATH = '/api/events';
/** Largest request body accepted (protocol: 1 MB). */
export const MAX_BODY_BYTES = 1024 * 1024;

/** Browser mode's answers for the channels the host implements itself. */
export const BROWSER_HOST_HANDLERS: HostHandlers = {
  'dialog:open': async () => {
    throw new AppFailure(
      'unsupported_in_browser_mode',
      'Native file dialogs need the desktop app; in browser mode type the path on the server instead.',
    );
  },
  // The browser client opens https links itself (window.open with noopener), so nothing to do here.
  'link:open': async () => ({ opened: false }),
};

/** The full handler table browser mode dispatches to. */
export function browserHandlers(engineHandlers: EngineHandlers): Handlers {
  return { ...engineHandlers, ...BROWSER_HOST_HANDLERS };
}

export interface ApiOptions {
  /** Check handler responses against the contract too (tests and development). */
  validateResponses?: boolean;
}

/** Answers one request under /api/ (except the WebSocket upgrade); access is already checked. */
export async function handleApiRequest(
  request: IncomingMessage,
  response: ServerResponse,
  rawPath: string,
  handlers: Handlers,
  options: ApiOptions = {},
): Promise<void> {
  if (rawPath === EVENTS_PATH) {
    sendResult(response, 426, err('invalid_request', 'The event stream needs a WebSocket upgrade.'));
    return;
  }
  if (request.method !== 'POST') {
    response.setHeader('Allow', 'POST');
    sendResult(response, 405, err('invalid_request', `The API accepts POST only, not ${request.method ?? '?'}.`));
    return;
  }
  const contentType = (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (contentType !== 'application/json') {
    sendResult(response, 415, err('invalid_request', 'API requests must have Content-Type: application/json.'));
    return;
  }
  const body = await readBody(request, MAX_BODY_BYTES);
  if (body === 'too_large') {
    response.setHeader('Connection', 'close');
    sendResult(response, 413, err('invalid_request', `The request body exceeds ${MAX_BODY_BYTES} bytes.`));
    return;
  }
  let payload: unknown;
  if (body.length > 0) {
    try {
      payload = JSON.parse(body.toString('utf8'));
    } catch (thrown) {
      const reason = thrown instanceof Error ? thrown.message : String(thrown);
      sendResult(response, 400, err('invalid_request', `The request body is not valid JSON: ${reason}`));
      return;
    }
  }
  let channel: string;
  try {
    channel = decodeURIComponent(rawPath.slice(API_PREFIX.length));
  } catch {
    channel = rawPath.slice(API_PREFIX.length);
  }
  const result = await dispatch(handlers, channel, payload, { validateResponses: options.validateResponses });
  sendResult(response, !result.ok && result.error.code === 'unknown_channel' ? 404 : 200, result);
}

/** Writes a Result (or an error Result for a refused request) as the JSON response. */
export function sendResult(response: ServerResponse, status: number, result: Result<unknown>): void {
  const body = JSON.stringify(result);
  response.writeHead(status, {
    ...SECURITY_HEADERS,
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': String(Buffer.byteLength(body)),
    'Cache-Control': 'no-store',
  });
  response.end(body);
}

/** Reads the body, stopping at `limit` bytes (checked against Content-Length first when sent). */
function readBody(request: IncomingMessage, limit: number): Promise<Buffer | 'too_large'> {
  const declared = Number(request.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return Promise.resolve('too_large');
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        request.off('data', onData);
        request.pause();
        resolve('too_large');
        return;
      }
      chunks.push(chunk);
    };
    request.on('data', onData);
    request.once('end', () => resolve(Buffer.concat(chunks)));
    request.once('error', reject);
  });
}
