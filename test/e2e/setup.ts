/**
 * Global setup of the browser tests: starts browser mode (`drift-wb serve`) on a free port
 * with a fresh workspace, hands its URL and token to the tests, and stops it afterwards.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The URL the server printed, with `?token=`. */
    serverUrl: string;
    /** `http://127.0.0.1:PORT` */
    serverOrigin: string;
    serverToken: string;
    workspaceDir: string;
    chromiumPath: string;
  }
}

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const START_TIMEOUT_MS = 60_000;

interface ServerLine {
  url: string;
  token: string;
}

function parseServerLine(line: string): ServerLine | null {
  try {
    const value: unknown = JSON.parse(line);
    if (typeof value !== 'object' || value === null) return null;
    const { url, token } = value as Record<string, unknown>;
    return typeof url === 'string' && typeof token === 'string' ? { url, token } : null;
  } catch {
    return null;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const workspaceDir = await mkdtemp(join(tmpdir(), 'drift-wb-e2e-'));
  const server = spawn(
    process.execPath,
    [join(root, 'bin', 'drift-wb.js'), 'serve', '--port', '0', '--json', '--workspace', workspaceDir],
    { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const stderr: string[] = [];
  server.stderr.setEncoding('utf8').on('data', (chunk: string) => stderr.push(chunk));
  const exited = new Promise<number | null>((resolve) => server.once('exit', (code) => resolve(code)));

  const started = await new Promise<ServerLine>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`drift-wb serve printed no URL within ${START_TIMEOUT_MS / 1000} s.\n${stderr.join('')}`)),
      START_TIMEOUT_MS,
    );
    const lines = createInterface({ input: server.stdout });
    lines.on('line', (line) => {
      const parsed = parseServerLine(line);
      if (!parsed) return;
      clearTimeout(timer);
      resolve(parsed);
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`drift-wb serve exited with code ${code} before it printed its URL.\n${stderr.join('')}`));
    });
  }).catch(async (error: unknown) => {
    server.kill('SIGKILL');
    await rm(workspaceDir, { recursive: true, force: true });
    throw error;
  });

  project.provide('serverUrl', started.url);
  project.provide('serverOrigin', new URL(started.url).origin);
  project.provide('serverToken', started.token);
  project.provide('workspaceDir', workspaceDir);
  project.provide('chromiumPath', process.env.CHROMIUM_PATH || '/usr/bin/chromium');

  return async () => {
    if (server.exitCode === null) {
      server.kill('SIGTERM');
      const timeout = setTimeout(() => server.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timeout);
    }
    await rm(workspaceDir, { recursive: true, force: true });
  };
}
