/**
 * The engine must never depend on electron (layering rule). This loads engine/index.ts in a
 * fresh Node process where resolving `electron` throws, opens a workspace and runs a job.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '../..');

describe('engine without electron', () => {
  it('loads and runs a job when electron cannot be resolved', () => {
    const workspace = mkdtempSync(join(tmpdir(), 'drift-noelectron-'));
    const hook = `data:text/javascript,${encodeURIComponent(
      "export async function resolve(s, c, next) { if (s === 'electron' || s.startsWith('electron/')) throw new Error('electron is not resolvable here'); return next(s, c); }",
    )}`;
    const script = `
      import { register } from 'node:module';
      register(${JSON.stringify(hook)});
      const { openEngine } = await import('./src-main/engine/index.ts');
      const engine = await openEngine({ workspaceDir: ${JSON.stringify(workspace)}, host: 'cli' });
      const job = await engine.runJob('selftest.sleep', { seconds: 0.05, steps: 1 });
      await engine.close();
      console.log(JSON.stringify({ status: job.status }));
    `;
    try {
      const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
        cwd: root,
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(child.stderr).not.toMatch(/electron is not resolvable/);
      expect(child.status, child.stderr).toBe(0);
      expect(JSON.parse(child.stdout.trim().split('\n').pop()!)).toEqual({ status: 'succeeded' });
    } finally {
      rmSync(workspace, { recursive: true, force: true });
    }
  });
});
