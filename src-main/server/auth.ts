/**
 * Who may talk to browser mode (notes/browser-protocol.md, reliability.md §2). Every HTTP request
 * and the WebSocket upgrade pass the same three checks, in this order:
 * 1. the Host header names this server (a DNS-rebinding page would send its own name);
 * 2. an Origin header, when present, is this server's own origin (cross-site pages are refused);
 * 3. the start token arrives as `Authorization: Bearer`, the `drift_wb_token` cookie or `?token=`.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import os from 'node:os';
import type { ErrorCode } from '../api/index.js';

export const TOKEN_COOKIE = 'drift_wb_token';
export const TOKEN_PARAMETER = 'token';

/** A fresh per-start token: 24 random bytes as base64url (32 characters). */
export function createToken(): string {
  return randomBytes(24).toString('base64url');
}

/**
 * Compares a presented token with the expected one in constant time. Hashing both first gives
 * `timingSafeEqual` equal lengths, so the length of the token does not leak either.
 */
export function tokensEqual(presented: string, expected: string): boolean {
  const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();
  return timingSafeEqual(digest(presented), digest(expected));
}

/** The Set-Cookie value that lets the page's sub-resources load after `/?token=` was accepted. */
export function tokenCookie(token: string): string {
  return `${TOKEN_COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/`;
}

export function isLoopbackHost(host: string): boolean {
  const name = unbracket(host).toLowerCase();
  if (name === 'localhost') return true;
  if (isIP(name) === 4) return name.startsWith('127.');
  if (isIP(name) === 6) return name === '::1' || name.startsWith('::ffff:127.');
  return false;
}

export function isWildcardHost(host: string): boolean {
  const name = unbracket(host);
  return name === '0.0.0.0' || name === '::';
}

/** `host:port` as it appears in a URL or a Host header (IPv6 in brackets). */
export function formatHostPort(host: string, port: number): string {
  const name = unbracket(host);
  return `${isIP(name) === 6 ? `[${name}]` : name}:${port}`;
}

/** The names a client may use to reach a server bound to `bindHost`. */
export function reachableHostnames(bindHost: string): string[] {
  const names = new Set<string>([unbracket(bindHost).toLowerCase()]);
  if (isLoopbackHost(bindHost) || isWildcardHost(bindHost)) {
    for (const name of ['127.0.0.1', 'localhost', '::1']) names.add(name);
  }
  if (!isLoopbackHost(bindHost)) names.add(os.hostname().toLowerCase());
  if (isWildcardHost(bindHost)) {
    for (const addresses of Object.values(os.networkInterfaces())) {
      for (const address of addresses ?? []) names.add(address.address.toLowerCase());
    }
  }
  return [...names];
}

export interface AccessPolicy {
  token: string;
  /** Host header values (`name:port`, lower case) that name this server. */
  hosts: ReadonlySet<string>;
  /** Origins (`http://name:port`) that count as this server's own. */
  origins: ReadonlySet<string>;
}

export function createAccessPolicy(token: string, bindHost: string, port: number): AccessPolicy {
  const hosts = new Set<string>();
  const origins = new Set<string>();
  for (const name of reachableHostnames(bindHost)) {
    const hostPort = formatHostPort(name, port);
    hosts.add(hostPort);
    origins.add(`http://${hostPort}`);
    if (port === 80) {
      // Browsers leave the default port out of both headers.
      const bare = hostPort.slice(0, hostPort.lastIndexOf(':'));
      hosts.add(bare);
      origins.add(`http://${bare}`);
    }
  }
  return { token, hosts, origins };
}

export interface Denial {
  status: 401 | 403;
  code: ErrorCode;
  message: string;
}

export type Access = { allowed: true; tokenInQuery: boolean } | { allowed: false; denial: Denial };

/** Runs the three checks on a request (or a WebSocket upgrade request). */
export function checkAccess(request: IncomingMessage, query: URLSearchParams, policy: AccessPolicy): Access {
  const host = (request.headers.host ?? '').toLowerCase();
  if (!policy.hosts.has(host)) {
    return deny(
      403,
      'forbidden_origin',
      `The Host header ${JSON.stringify(host.slice(0, 100))} does not name this server.`,
    );
  }
  const origin = request.headers.origin;
  if (origin !== undefined && !policy.origins.has(origin.toLowerCase())) {
    return deny(403, 'forbidden_origin', `Requests from ${JSON.stringify(origin.slice(0, 100))} are not allowed.`);
  }
  const tokenInQuery = query.getAll(TOKEN_PARAMETER).some((value) => tokensEqual(value, policy.token));
  const presented = [bearerToken(request.headers.authorization), ...cookieValues(request.headers.cookie, TOKEN_COOKIE)];
  if (tokenInQuery || presented.some((value) => value !== undefined && tokensEqual(value, policy.token))) {
    return { allowed: true, tokenInQuery };
  }
  return deny(401, 'unauthorized', 'Missing or wrong browser-mode token.');
}

function deny(status: Denial['status'], code: ErrorCode, message: string): Access {
  return { allowed: false, denial: { status, code, message } };
}

function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return match?.[1];
}

/** Every value of the named cookie: other localhost servers may have set one with the same name. */
function cookieValues(header: string | undefined, name: string): string[] {
  const values: string[] = [];
  for (const part of (header ?? '').split(';')) {
    const separator = part.indexOf('=');
    if (separator > 0 && part.slice(0, separator).trim() === name) values.push(part.slice(separator + 1).trim());
  }
  return values;
}

function unbracket(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}
