/**
 * Memory stays bounded whatever the file size: a generated ~100 MB WildChat-style JSONL is
 * imported in a child process with the import worker's heap limits, and its peak RSS stays
 * under 300 MB (the engine alone: the CLI's development-mode host and tsx loader threads add
 * their own fixed overhead, reported by bench/import.ts).
 */
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { ensureWildchatJsonl } from '../../../bench/import-data.js';
import { IMPORT_HEAP_LIMITS, heapFlags } from '../../../src-main/engine/job-kinds.js';
import { makeTempDir, removeTempDirs } from './helpers.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../../..');

afterAll(removeTempDirs);

describe('memory bound', () => {
  it('imports ~100 MB of JSONL with a peak RSS under 300 MB', async () => {
    const dir = await makeTempDir('drift-memory-');
    const file = path.join(os.tmpdir(), 'drift-memory-test-100mb.jsonl');
    await ensureWildchatJsonl(file, 100 * 1024 * 1024);
    const child = spawnSync(
      process.execPath,
      [
        ...heapFlags(IMPORT_HEAP_LIMITS),
        '--import',
        'tsx',
        path.join(root, 'bench', 'import-child.ts'),
        file,
        path.join(dir, 'workspace'),
      ],
      { cwd: root, encoding: 'utf8', timeout: 120_000 },
    );
    expect(child.status, child.stderr).toBe(0);
    const result = JSON.parse(child.stdout.trim().split('\n').at(-1)!) as {
      conversations: number;
      maxRssMb: number;
      bytes: number;
    };
    expect(result.bytes).toBeGreaterThanOrEqual(100 * 1024 * 1024);
    expect(result.conversations).toBeGreaterThan(10_000);
    expect(result.maxRssMb).toBeLessThan(300);
  }, 120_000);
});
