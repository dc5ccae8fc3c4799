/**
 * Browser mode: the same contract as the desktop app, over HTTP (requests) and a WebSocket
 * (events), plus the built renderer as static files. Listens on 127.0.0.1 with a per-start token
 * unless the caller names another host explicitly. Protocol: notes/browser-protocol.md.
 *
 * The server takes anything with the engine's `handlers` and `on`, so tests can drive it with a
 * fake engine as well as a real one.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import { AppFailure, err, type EngineHandlers } from '../api/index.js';
import {
  checkAccess,
  createAccessPolicy,
  createToken,
  formatHostPort,
  isLoopbackHost,
  isWildcardHost,
  tokenCookie,
  TOKEN_PARAMETER,
} from './auth.js';
import { createEventStream, refuseUpgrade, type EventSource } from './events.js';
import { API_PREFIX, browserHandlers, EVENTS_PATH, handleApiRequest, sendResult } from './routes.js';
import { openStaticSite, SECURITY_HEADERS, serveStatic } from './static.js';
import { handleUpload, MAX_UPLOAD_BYTES, UPLOAD_PATH } from './upload.js';

export const DEFAULT_HOST = '127.0.0.1';

/** What the server needs from the engine: its handler table and its event subscription. */
export interface ServedEngine extends EventSource {
  readonly handlers: EngineHandlers;
  /** The workspace folder; uploads (files dropped in the browser) go to its `uploads/` folder. */
  readonly workspaceDir?: string;
}

export interface ServerOptions {
  engine: ServedEngine;
  /** The built renderer folder; must contain index.html. */
  staticDir: string;
  /** Address to bind; 127.0.0.1 by default. */
  host?: string;
  /** Port to bind; 0 (the default) picks a free one. */
  port?: number;
  /** The access token; a fresh random one by default. */
  token?: string;
  /**
   * Must be true to bind anything but loopback: only an explicit request (the CLI's --host)
   * may expose the workspace to the network.
   */
  allowNonLoopback?: boolean;
  /** WebSocket ping interval in milliseconds (default 30 s). */
  heartbeatMs?: number;
  /** Check handler responses against the contract (tests and development). */
  validateResponses?: boolean;
  /** Where warnings go (default: stderr). */
  warn?: (message: string) => void;
  /** Largest file `POST /api/upload` accepts (default 2 GiB). */
  maxUploadBytes?: number;
}

export interface RunningServer {
  /** The address to open, token included: `http://127.0.0.1:PORT/?token=TOKEN`. */
  url: string;
  /** The address actually bound. */
  host: string;
  port: number;
  token: string;
  /** Stops listening, closes every connection and socket, and unsubscribes from the engine. */
  close(): Promise<void>;
}

/** Starts browser mode; resolves once the server listens. */
export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const bindHost = options.host ?? DEFAULT_HOST;
  if (!isLoopbackHost(bindHost) && !options.allowNonLoopback) {
    throw new AppFailure(
      'server_listen_failed',
      `Refusing to bind ${bindHost}: browser mode listens on loopback unless a non-loopback host is asked for explicitly.`,
    );
  }
  const site = await openStaticSite(options.staticDir).catch((thrown: unknown) => {
    const reason = thrown instanceof Error ? thrown.message : String(thrown);
    throw new AppFailure('renderer_not_built', `No index.html in ${options.staticDir}: ${reason}`);
  });
  const token = options.token ?? createToken();
  const handlers = browserHandlers(options.engine.handlers);
  const warn = options.warn ?? ((message: string) => process.stderr.write(`${message}\n`));
  const upload = { dir: options.engine.workspaceDir, maxBytes: options.maxUploadBytes ?? MAX_UPLOAD_BYTES };

  // The policy needs the bound port (port 0 picks one), so it is filled in after listen.
  let policy = createAccessPolicy(token, bindHost, options.port ?? 0);
  const authorize = (request: IncomingMessage) => {
    const access = checkAccess(request, splitUrl(request.url).query, policy);
    return access.allowed ? null : access.denial;
  };

  const handleRequest = async (request: IncomingMessage, response: ServerResponse) => {
    const { path, query } = splitUrl(request.url);
    const access = checkAccess(request, query, policy);
    if (!access.allowed) {
      sendResult(response, access.denial.status, err(access.denial.code, access.denial.message));
      return;
    }
    if (access.tokenInQuery && request.method === 'GET') response.setHeader('Set-Cookie', tokenCookie(token));
    if (path === UPLOAD_PATH) {
      await handleUpload(request, response, query, upload);
      return;
    }
    if (path === '/api' || path.startsWith(API_PREFIX)) {
      await handleApiRequest(request, response, path, handlers, { validateResponses: options.validateResponses });
      return;
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { ...SECURITY_HEADERS, Allow: 'GET, HEAD', 'Content-Type': 'text/plain; charset=utf-8' });
      response.end('Method not allowed\n');
      return;
    }
    await serveStatic(request, response, site, path);
  };

  const server = createServer((request, response) => {
    handleRequest(request, response).catch((thrown: unknown) => {
      if (!response.headersSent) {
        const message = thrown instanceof Error ? thrown.message : String(thrown);
        sendResult(response, 500, err('internal_error', message));
      } else {
        response.destroy();
      }
    });
  });

  const events = createEventStream({
    source: options.engine,
    authorize,
    heartbeatMs: options.heartbeatMs ?? 30_000,
  });
  server.on('upgrade', (request: IncomingMessage, socket, head: Buffer) => {
    if (splitUrl(request.url).path !== EVENTS_PATH) {
      socket.on('error', () => socket.destroy());
      refuseUpgrade(socket, 404, JSON.stringify(err('not_found', 'Only /api/events accepts a WebSocket.')));
      return;
    }
    events.handleUpgrade(request, socket, head);
  });

  try {
    await listen(server, bindHost, options.port ?? 0);
  } catch (thrown) {
    events.close();
    throw thrown;
  }
  const address = server.address() as AddressInfo;
  policy = createAccessPolicy(token, bindHost, address.port);

  if (!isLoopbackHost(address.address)) {
    warn(
      `warning: browser mode is listening on ${formatHostPort(address.address, address.port)}, reachable from ` +
        'other machines over plain HTTP. Anyone who sees the token can use this workspace; prefer the default ' +
        '127.0.0.1 with an SSH tunnel (ssh -L PORT:127.0.0.1:PORT host).',
    );
  }

  const urlHost = isWildcardHost(address.address) ? externalAddress() : address.address;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${formatHostPort(urlHost, address.port)}/?${TOKEN_PARAMETER}=${token}`,
    host: address.address,
    port: address.port,
    token,
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        events.close();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

function listen(server: ReturnType<typeof createServer>, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      const reason =
        error.code === 'EADDRINUSE'
          ? 'the port is in use (pass --port 0 to pick a free one)'
          : error.code === 'EADDRNOTAVAIL'
            ? 'this machine has no such address'
            : error.code === 'EACCES'
              ? 'permission denied (ports below 1024 need privileges)'
              : error.message;
      reject(new AppFailure('server_listen_failed', `Cannot listen on ${formatHostPort(host, port)}: ${reason}.`));
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

/** Splits a raw request target into its path (still percent-encoded) and query. */
function splitUrl(target: string | undefined): { path: string; query: URLSearchParams } {
  const raw = target ?? '/';
  const hash = raw.indexOf('#');
  const withoutHash = hash >= 0 ? raw.slice(0, hash) : raw;
  const question = withoutHash.indexOf('?');
  if (question < 0) return { path: withoutHash, query: new URLSearchParams() };
  return { path: withoutHash.slice(0, question), query: new URLSearchParams(withoutHash.slice(question + 1)) };
}

/** A non-internal IPv4 address of this machine, for the printed URL of a wildcard bind. */
function externalAddress(): string {
  for (const addresses of Object.values(os.networkInterfaces())) {
    for (const address of addresses ?? []) {
      if (address.family === 'IPv4' && !address.internal) return address.address;
    }
  }
  return DEFAULT_HOST;
}

export { createToken, TOKEN_COOKIE } from './auth.js';
export { BROWSER_HOST_HANDLERS, browserHandlers, MAX_BODY_BYTES } from './routes.js';
export { MAX_UPLOAD_BYTES, UPLOAD_FOLDER, UPLOAD_PATH, uploadName } from './upload.js';
