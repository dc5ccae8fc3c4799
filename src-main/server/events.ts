/**
 * The event stream: `GET /api/events` upgraded to a WebSocket that receives every engine event
 * as a text frame `{"event": name, "payload": ...}`. The upgrade is checked (Host, Origin, token)
 * before the handshake completes, so a refused client never gets a socket. The server subscribes
 * to the engine once and fans out to every client; a heartbeat ping drops dead connections.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { EVENT_NAMES, err, type EventName, type EventPayload } from '../api/index.js';
import type { Denial } from './auth.js';

/** What the server needs from the engine for events (the engine's `on`, or a fake in tests). */
export interface EventSource {
  on<E extends EventName>(event: E, listener: (payload: EventPayload<E>) => void): () => void;
}

export interface EventStreamOptions {
  source: EventSource;
  /** Checks access for the upgrade request; null means allowed. */
  authorize: (request: IncomingMessage) => Denial | null;
  /** How often to ping clients; a client that missed the previous pong is dropped. */
  heartbeatMs: number;
}

export interface EventStream {
  /** Handles an `upgrade` for the events path: refuses with 401/403 or completes the handshake. */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void;
  readonly clientCount: number;
  /** Unsubscribes from the engine and closes every client. */
  close(): void;
}

/** Clients we have stopped writing to because they do not read (bytes queued). */
const MAX_BUFFERED_BYTES = 16 * 1024 * 1024;
/** Clients send nothing; a small limit keeps a hostile frame from costing memory. */
const MAX_CLIENT_FRAME_BYTES = 4 * 1024;

export function createEventStream(options: EventStreamOptions): EventStream {
  const sockets = new WebSocketServer({ noServer: true, maxPayload: MAX_CLIENT_FRAME_BYTES });
  const alive = new WeakSet<WebSocket>();

  const broadcast = (event: EventName, payload: unknown) => {
    const frame = JSON.stringify({ event, payload });
    for (const client of sockets.clients) {
      if (client.readyState !== client.OPEN) continue;
      if (client.bufferedAmount > MAX_BUFFERED_BYTES) {
        client.terminate();
        continue;
      }
      client.send(frame);
    }
  };
  const unsubscribers = EVENT_NAMES.map((event) =>
    options.source.on(event, (payload: unknown) => broadcast(event, payload)),
  );

  sockets.on('connection', (client) => {
    alive.add(client);
    client.on('pong', () => alive.add(client));
    client.on('error', () => client.terminate());
  });

  const heartbeat = setInterval(() => {
    for (const client of sockets.clients) {
      if (!alive.has(client)) {
        client.terminate();
        continue;
      }
      alive.delete(client);
      client.ping();
    }
  }, options.heartbeatMs);
  heartbeat.unref();

  return {
    handleUpgrade(request, socket, head) {
      socket.on('error', () => socket.destroy());
      const denial = options.authorize(request);
      if (denial) {
        refuseUpgrade(socket, denial.status, JSON.stringify(err(denial.code, denial.message)));
        return;
      }
      sockets.handleUpgrade(request, socket, head, (client) => sockets.emit('connection', client, request));
    },
    get clientCount() {
      return sockets.clients.size;
    },
    close() {
      clearInterval(heartbeat);
      for (const unsubscribe of unsubscribers) unsubscribe();
      for (const client of sockets.clients) client.close(1001, 'server closing');
      // Clients that do not answer the close handshake promptly are cut off.
      setTimeout(() => {
        for (const client of sockets.clients) client.terminate();
      }, 1000).unref();
      sockets.close();
    },
  };
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
};

/** Answers an upgrade request with a plain HTTP error and closes the socket. */
export function refuseUpgrade(socket: Duplex, status: number, body: string): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Error'}\r\n` +
      'Connection: close\r\n' +
      'Content-Type: application/json; charset=utf-8\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      '\r\n' +
      body,
  );
}
