/** The `drift-wb` command as a user runs it: a child process on bin/drift-wb.js. */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Job } from '../../src-main/api/index.js';
import type { DoctorReport } from '../../src-main/cli/commands/doctor.js';
import { bin, onlyDocument, root, runCli } from './helpers.js';

let workspace: string;

beforeEach(async () => {
  workspace = await mkdtemp(join(tmpdir(), 'drift-cli-'));
});
afterEach(async () => {
  await rm(workspace, { recursive: true, force: true });
});

describe('drift-wb', () => {
  it('--help lists the commands and exits 0', async () => {
    const { code, stdout } = await runCli(['--help']);
    expect(code).toBe(0);
    for (const command of ['serve', 'doctor', 'selftest', 'jobs'])
      expect(stdout).toMatch(new RegExp(`^  ${command}\\b`, 'm'));
    expect(stdout).toContain('--workspace <dir>');
    expect(stdout).toContain('--json');
    const serveHelp = await runCli(['serve', '--help']);
    expect(serveHelp.stdout).toContain('--host <address>');
    expect(serveHelp.stdout).toContain('--port <number>');
  });

  it('exits 2 on a usage error, with the error and a hint on stderr', async () => {
    const unknown = await runCli(['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^error \[invalid_arguments\]: unknown command 'frobnicate'\n {2}hint: /);
    expect(unknown.stdout).toBe('');
    const badPort = await runCli(['serve', '--port', '99999', '--json', '--workspace', workspace]);
    expect(badPort.code).toBe(2);
    expect(onlyDocument(badPort.stdout)).toMatchObject({ ok: false, error: { code: 'invalid_arguments' } });
    expect((await runCli(['doctor', '--no-such-flag'])).code).toBe(2);
  });

  it('doctor --json prints one document with the backend attempts and the workspace', async () => {
    const { code, stdout, stderr } = await runCli(['doctor', '--json', '--workspace', workspace]);
    const report = onlyDocument<DoctorReport>(stdout);
    expect(report.workspace).toMatchObject({ path: workspace, ok: true, value: { path: workspace, warnings: [] } });
    expect(report.node.version).toBe(process.version);
    expect(typeof report.renderer.built).toBe('boolean');
    expect(report.chromium.checked).toContain('/usr/bin/chromium');
    expect(report.backend, stderr).toMatchObject({ ok: true });
    const attempts = report.backend.ok ? report.backend.value.attempts : [];
    expect(attempts.map((attempt) => attempt.name)).toEqual(['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu']);
    expect(attempts.filter((attempt) => attempt.chosen)).toHaveLength(1);
    for (const attempt of attempts) expect(attempt.reason.length).toBeGreaterThan(0);
    expect(code).toBe(0);
  });

  it('doctor prints the backend attempts with reasons for a person', async () => {
    const { stdout } = await runCli(['doctor', '--workspace', workspace]);
    expect(stdout).toContain(`Workspace  ${workspace}`);
    expect(stdout).toMatch(/^Backend {4}\S+ \(tfjs /m);
    expect(stdout).toMatch(/^ +\* \S+ +@tensorflow\/\S+: selected/m);
    expect(stdout).toMatch(/^ +- tensorflow-gpu +@tensorflow\/tfjs-node-gpu: \S/m);
  });

  it('jobs list --json prints the (empty) job list of a new workspace', async () => {
    const { code, stdout } = await runCli(['jobs', 'list', '--json', '--workspace', workspace]);
    expect(code).toBe(0);
    expect(onlyDocument(stdout)).toEqual([]);
    const missing = await runCli(['jobs', 'show', 'no-such-job', '--json', '--workspace', workspace]);
    expect(missing.code).toBe(1);
    expect(onlyDocument(missing.stdout)).toMatchObject({ ok: false, error: { code: 'job_not_found' } });
    expect(missing.stderr).toMatch(/^error \[job_not_found\]: /);
  });

  it('selftest --json runs the gradient check job with progress on stderr and exits 0 when it passes', async () => {
    const { code, stdout, stderr } = await runCli(['selftest', '--json', '--workspace', workspace], 120_000);
    const job = onlyDocument<Job>(stdout);
    expect(job, stderr).toMatchObject({ kind: 'selftest.gradients', status: 'succeeded' });
    expect(code).toBe(0);
    // Not a terminal: throttled progress lines rather than a redrawn bar.
    expect(stderr).toMatch(/^\[selftest\.gradients\] running: /m);
    const listed = await runCli(['jobs', 'list', '--json', '--workspace', workspace]);
    expect(onlyDocument(listed.stdout)).toEqual([expect.objectContaining({ id: job.id, status: 'succeeded' })]);
  });

  it('serve refuses to start without a built UI, saying how to build it', async () => {
    const { code, stderr } = await runCli(['serve', '--port', '0', '--static', join(workspace, 'nothing')]);
    expect(code).toBe(1);
    expect(stderr).toMatch(/^error \[renderer_not_built\]: No built UI at /);
    expect(stderr).toContain('hint: ');
  });

  it('serve --port 0 --json prints the URL, serves with the token, and exits 0 on SIGTERM', async () => {
    const staticDir = join(workspace, 'static');
    await mkdir(staticDir);
    await writeFile(join(staticDir, 'index.html'), '<!doctype html><title>served by the cli</title>');
    const child = spawn(
      process.execPath,
      [bin, 'serve', '--port', '0', '--json', '--workspace', join(workspace, 'ws'), '--static', staticDir],
      { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const lines = createInterface({ input: child.stdout });
      const stdoutLines: string[] = [];
      const first = await new Promise<string>((resolve, reject) => {
        lines.on('line', (line) => {
          stdoutLines.push(line);
          if (stdoutLines.length === 1) resolve(line);
        });
        void exited.then((code) => reject(new Error(`serve exited with ${code}\n${stderr}`)));
      });
      const started = JSON.parse(first) as { url: string; host: string; port: number; token: string };
      expect(started.host).toBe('127.0.0.1');
      expect(started.url).toBe(`http://127.0.0.1:${started.port}/?token=${started.token}`);

      const page = await get(started.url);
      expect(page.status).toBe(200);
      expect(page.body).toContain('served by the cli');
      expect((await get(`http://127.0.0.1:${started.port}/`)).status).toBe(401);
      const info = await post(started.port, '/api/app:info', started.token);
      expect(JSON.parse(info.body)).toMatchObject({ ok: true, value: { host: 'browser' } });

      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(stdoutLines).toHaveLength(1);
    } finally {
      child.kill('SIGKILL');
    }
  });
});

function get(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    request(url, (response) => {
      let body = '';
      response.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    })
      .on('error', reject)
      .end();
  });
}

function post(port: number, path: string, token: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      },
      (response) => {
        let body = '';
        response.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
      },
    )
      .on('error', reject)
      .end('{}');
  });
}
