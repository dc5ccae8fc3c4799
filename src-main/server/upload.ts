/**
 * Browser mode's file upload, for files dropped on the Import view: a browser gives the page a
 * dropped file's bytes but never its path, and the import reads paths on the server. So
 * `POST /api/upload?name=<file name>` (body: the raw bytes, `Content-Type: application/octet-stream`)
 * streams the file to `<workspace>/uploads/<random>/<name>` and answers the saved path, which the
 * page then passes to `dataset:detect` and the import job like a typed one. The desktop app never
 * uploads: there the preload gives a dropped file's own path.
 *
 * Access (token, Host, Origin) is checked before this runs, as for every request. Here: the name
 * is a plain file name (no folder, no `..`, no control character; other characters outside a
 * small set become `_`), the body is capped (413 beyond, checked against Content-Length first
 * and counted while streaming), and a failed or aborted upload leaves nothing behind.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { PassThrough, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { UploadedFile } from '../api/bridge.js';
import { err, ok } from '../api/index.js';
import { sendResult } from './routes.js';

export const UPLOAD_PATH = '/api/upload';
/** The folder under the workspace that holds uploaded files. */
export const UPLOAD_FOLDER = 'uploads';
/** Largest upload accepted by default: 2 GiB. */
export const MAX_UPLOAD_BYTES = 2 * 1024 ** 3;
const MAX_NAME_LENGTH = 200;
const WINDOWS_RESERVED = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\.|$)/i;

export interface UploadOptions {
  /** The workspace folder (uploads go to its `uploads/`); undefined when the server has no workspace. */
  dir: string | undefined;
  maxBytes: number;
}

/**
 * The name to save an upload under, or null when the name must be refused: empty, too long,
 * holding a folder separator, `..` or a control character, or a dotfile. Accents are dropped and
 * other characters outside letters, digits, `.`, `_` and `-` become `_`, so the saved name is
 * safe on every file system.
 */
export function uploadName(raw: string | null): string | null {
  if (raw === null || raw.length === 0 || raw.length > MAX_NAME_LENGTH) return null;
  // eslint-disable-next-line no-control-regex -- refusing control characters is the point
  if (/[\u0000-\u001f\u007f/\\]/.test(raw) || raw.includes('..') || raw.startsWith('.')) return null;
  const safe = raw
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '') // é → e
    .replace(/[^A-Za-z0-9._-]+/g, '_')
    .replace(/_{2,}/g, '_');
  if (safe.replace(/[._]/g, '') === '') return null;
  return WINDOWS_RESERVED.test(safe) ? `_${safe}` : safe;
}

class UploadTooLarge extends Error {}
class UploadAborted extends Error {}

/** Passes bytes through until `maxBytes`, then fails with UploadTooLarge. */
function byteLimit(maxBytes: number, counted: { bytes: number }): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      counted.bytes += chunk.length;
      if (counted.bytes > maxBytes) callback(new UploadTooLarge());
      else callback(null, chunk);
    },
  });
}

/** Answers `POST /api/upload`; access is already checked. */
export async function handleUpload(
  request: IncomingMessage,
  response: ServerResponse,
  query: URLSearchParams,
  options: UploadOptions,
): Promise<void> {
  // A refusal sent before the body was read must close the connection: the unread body would
  // otherwise be taken for the next request.
  const refuse = (status: number, code: 'invalid_request' | 'not_found', message: string) => {
    response.setHeader('Connection', 'close');
    sendResult(response, status, err(code, message));
  };
  if (request.method !== 'POST') {
    response.setHeader('Allow', 'POST');
    refuse(405, 'invalid_request', `Uploads use POST, not ${request.method ?? '?'}.`);
    return;
  }
  if (options.dir === undefined) {
    refuse(404, 'not_found', 'This server has no workspace to upload into.');
    return;
  }
  const contentType = (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (contentType !== 'application/octet-stream') {
    refuse(415, 'invalid_request', 'Uploads must have Content-Type: application/octet-stream.');
    return;
  }
  const name = uploadName(query.get('name'));
  if (name === null) {
    refuse(
      400,
      'invalid_request',
      'The upload needs ?name= with a plain file name (no folders, "..", control characters or leading dot).',
    );
    return;
  }
  const declared = Number(request.headers['content-length']);
  if (Number.isFinite(declared) && declared > options.maxBytes) {
    refuse(413, 'invalid_request', `The file is larger than the upload limit of ${options.maxBytes} bytes.`);
    return;
  }

  const folder = path.join(options.dir, UPLOAD_FOLDER, randomBytes(12).toString('hex'));
  const target = path.join(folder, name);
  await mkdir(folder, { recursive: true });
  const counted = { bytes: 0 };
  // The request feeds the pipeline through a PassThrough, so a failure destroys the pass-through
  // and not the request: its socket must stay open for the 413 answer.
  if (request.destroyed && !request.complete) {
    await rm(folder, { recursive: true, force: true });
    return;
  }
  const source = new PassThrough();
  const onClose = () => {
    if (!request.complete) source.destroy(new UploadAborted());
  };
  request.once('close', onClose);
  request.pipe(source);
  try {
    await pipeline(
      source,
      byteLimit(options.maxBytes, counted),
      createWriteStream(target, { flags: 'wx', mode: 0o600 }),
    );
  } catch (thrown) {
    request.unpipe(source);
    request.pause();
    await rm(folder, { recursive: true, force: true });
    if (thrown instanceof UploadAborted || response.destroyed) return;
    if (thrown instanceof UploadTooLarge) {
      refuse(413, 'invalid_request', `The file is larger than the upload limit of ${options.maxBytes} bytes.`);
      return;
    }
    throw thrown;
  } finally {
    request.off('close', onClose);
  }
  sendResult(response, 200, ok<UploadedFile>({ path: target, name, bytes: counted.bytes }));
}
