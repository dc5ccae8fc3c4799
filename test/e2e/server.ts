/**
 * Starts browser mode (`drift-wb serve`) on a free port with a fresh workspace, as a user would,
 * and stops it again. The global setup starts the shared server with it; a test file that needs
 * a workspace of its own (e.g. one that must be empty) starts another.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

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

export interface BrowserMode {
  /** The URL the server printed, with `?token=`. */
  url: string;
  /** `http://127.0.0.1:PORT` */
  origin: string;
  token: string;
  workspaceDir: string;
  stop(): Promise<void>;
}

/** `prepare` fills the fresh workspace folder before the server opens it (a catalog, run folders). */
export async function startBrowserMode(
  options: { prepare?: (workspaceDir: string) => Promise<void> } = {},
): Promise<BrowserMode> {
  const workspaceDir = await mkdtemp(join(tmpdir(), 'drift-wb-e2e-'));
  await options.prepare?.(workspaceDir);
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

  const stop = async () => {
    if (server.exitCode === null) {
      server.kill('SIGTERM');
      const timeout = setTimeout(() => server.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timeout);
    }
    await rm(workspaceDir, { recursive: true, force: true });
  };
  return { url: started.url, origin: new URL(started.url).origin, token: started.token, workspaceDir, stop };
}
